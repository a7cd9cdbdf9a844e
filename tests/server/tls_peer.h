// TLS peers of the server for tests, until every client speaks TLS itself:
//
// TlsRelay: a plain TCP port on loopback whose connections it carries to
// the server over TLS (a client certificate, the server verified against a
// CA and a name), one TLS connection per plain one, bytes both ways as they
// come. Movers and clients that speak plain TCP (ct-posix under the preload
// library, coordinatool-client) reach a TLS server through it, as a real
// TLS client would: each of their connections is one TLS session.
//
// TlsProbe: one blocking TLS connection from the test itself, to see what
// a handshake gives (the server's certificate, a refusal) and to send
// requests.
//
// Thread-safety: TlsRelay runs its own thread; its methods are the test
// thread's. TlsProbe is thread-compatible.
#ifndef TESTS_SERVER_TLS_PEER_H_
#define TESTS_SERVER_TLS_PEER_H_

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <memory>
#include <string>
#include <thread>

namespace testing_support {

struct TlsClientOptions {
  std::string ca;         // verifies the server; empty: no verification
  std::string cert, key;  // client certificate; empty: none
  std::string server_name = "localhost";  // checked against its certificate
};

class TlsRelay {
 public:
  TlsRelay(int server_port, TlsClientOptions options);
  ~TlsRelay();
  TlsRelay(const TlsRelay&) = delete;
  TlsRelay& operator=(const TlsRelay&) = delete;

  int port() const { return port_; }
  int handshakes() const { return handshakes_; }  // succeeded so far
  int failures() const { return failures_; }      // handshakes failed

 private:
  void Accept();

  const int server_port_;
  const TlsClientOptions options_;
  boost::asio::io_context io_;
  boost::asio::ssl::context context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<int> handshakes_{0};
  std::atomic<int> failures_{0};
  std::thread thread_;
};

class TlsProbe {
 public:
  explicit TlsProbe(const TlsClientOptions& options);

  // Connects to 127.0.0.1:`port` and shakes hands. "" or the reason it
  // failed (the client's side of it).
  std::string Connect(int port);
  // The server certificate's subject, after Connect.
  std::string PeerSubject();
  // Sends `request` and reads one JSON object (its text); "" when the
  // connection ends first.
  std::string Call(const std::string& request);

 private:
  // Runs what was started for up to 30 s; false (the socket closed) if it
  // did not finish.
  bool Run();

  boost::asio::io_context io_;
  boost::asio::ssl::context context_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>
      stream_;
};

}  // namespace testing_support

#endif  // TESTS_SERVER_TLS_PEER_H_
