// TlsChannel: TLS (OpenSSL) over a connected socket, for the blocking
// client::Session. The socket stays blocking and OpenSSL reaches it through
// a BIO of our own: writes block, with MSG_NOSIGNAL (the preload library
// lives in copytools, which must not die of SIGPIPE); reads either wait
// with a bound (the handshake) or return at once (Read). Read drains
// everything OpenSSL holds before it reports "would block", so a caller
// that polls the raw descriptor (the copytool does, through the preload
// library) never sleeps on bytes OpenSSL already took off the socket.
//
// TLS 1.2 at least, no renegotiation (a write never has to read). The
// server is verified against `ca_file` (or the system's CA store) and must
// carry `server_name` (a DNS name, or an IP address) in its certificate.
//
// Thread-safety: none; one user at a time (the Session's).
#ifndef CLIENT_TLS_H_
#define CLIENT_TLS_H_

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace client {

struct TlsOptions {
  bool enabled = false;
  std::string ca_file;      // PEM bundle; empty: the system's CA store
  std::string cert_file;    // this client's certificate chain; empty: none
  std::string key_file;     // its private key; empty: in cert_file
  std::string server_name;  // checked against the server's certificate
  int handshake_timeout_ms = 30'000;
};

class TlsChannel {
 public:
  // Runs the handshake on `fd`, a connected socket the channel uses but
  // does not own. nullptr with *error (what failed: a file, the server's
  // certificate and why it is not trusted, a timeout, the peer's refusal).
  static std::unique_ptr<TlsChannel> Handshake(int fd,
                                               const TlsOptions& options,
                                               std::string* error);
  // Sends a close_notify if it can without blocking, and only in the
  // process that made the handshake: a forked child shares the socket, and
  // must not end its parent's session.
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  // Writes all of `data`; blocks until the socket took it.
  bool Write(std::string_view data, std::string* error);

  enum class ReadResult { kData, kWouldBlock, kClosed, kError };
  // Up to `size` bytes of application data into `buffer`, without waiting.
  // kWouldBlock: nothing more until the socket is readable again (OpenSSL
  // holds no application data). kClosed: the server ended the stream.
  ReadResult Read(char* buffer, size_t size, size_t* got, std::string* error);

  // The negotiated version ("TLSv1.3") and cipher, for logs and tests.
  std::string version() const;
  std::string cipher() const;

  struct State;  // OpenSSL objects and the BIO's state (tls.cc)

 private:
  explicit TlsChannel(std::unique_ptr<State> state);
  // After a failed write: reads what the server sent without waiting, and
  // returns true with *alert if it ended the connection with an alert.
  bool ReadAlert(std::string* alert);
  std::unique_ptr<State> state_;
  pid_t owner_pid_;
};

}  // namespace client

#endif  // CLIENT_TLS_H_
