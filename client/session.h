// Session: a blocking connection to a coordinatool server, for the CLI and
// the preload library (plain POSIX sockets: the preload library lives inside
// copytools that fork, so it keeps no threads or event loops of its own),
// in plain TCP or TLS (client/tls.h) when set_tls() enabled it.
//
// Thread-safety: none; one user at a time.
#ifndef CLIENT_SESSION_H_
#define CLIENT_SESSION_H_

#include <boost/json.hpp>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "client/tls.h"
#include "common/unique_fd.h"
#include "protocol/json_stream.h"

namespace client {

class Session {
 public:
  // Connects to host:port (close-on-exec), then runs the TLS handshake if
  // TLS is on (the server's name: tls.server_name, else `host`). False
  // with *error on failure, which names host and port. An address that
  // does not answer is given up after the connect timeout (a node that is
  // down would otherwise hold the caller for the system's SYN retries,
  // about two minutes, before the next server of a list is tried).
  bool Connect(const std::string& host, const std::string& port,
               std::string* error);
  // For the next Connect(): how long one address may take to accept the
  // TCP connection; negative: the system's bound.
  void set_connect_timeout_ms(int ms) { connect_timeout_ms_ = ms; }
  void Close();
  // Largest object accepted from the server, for the next Connect(): the
  // CLI lifts it for status dumps of big queues (written in pieces by the
  // server, one object all the same).
  void set_max_reply_bytes(size_t bytes) { max_reply_bytes_ = bytes; }
  // TLS for the next Connect(); its files are read at each Connect(), so a
  // reconnect picks up a rotated certificate.
  void set_tls(TlsOptions tls) { tls_ = std::move(tls); }
  // The open connection's TLS channel (version, cipher), or nullptr.
  const TlsChannel* tls_channel() const { return channel_.get(); }
  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

  // Writes one object, nothing after its closing brace.
  bool Send(const boost::json::object& message, std::string* error);
  // Writes `text` as it is: objects serialized by the caller, several in
  // one write (the benchmarks' movers batch their messages so).
  bool SendText(std::string_view text, std::string* error);
  // Waits up to `timeout_ms` (negative: forever) for the next object.
  // False with *error on timeout ("timed out"), end of stream or bad input.
  bool Receive(boost::json::object* out, int timeout_ms, std::string* error);
  // True if a complete object is already buffered.
  bool HasBuffered();
  // Reads what the socket has without blocking and buffers complete
  // objects. False on end of stream or bad input. With TLS, it also takes
  // everything OpenSSL holds: after it, a poll of fd() is a true answer.
  bool Pump(std::string* error);

  // Presents `token` to the server (`auth`, docs/auth.md); call it right
  // after connecting, before ehlo. False with *error when the server
  // refuses it or does not answer; *refused (if given) tells which: true
  // when the server answered with a refusal. *reply (if given) receives
  // the server's reply (a standby's answer is a refusal: client/failover.h).
  bool Authenticate(const std::string& token, std::string* error,
                    bool* refused = nullptr,
                    boost::json::object* reply = nullptr);

  // Sends `request` and waits for the reply with the same "command"
  // (replies to other commands received meanwhile are dropped).
  bool Call(const boost::json::object& request, boost::json::object* reply,
            int timeout_ms, std::string* error);

 private:
  // Feeds received bytes to the reader; false with *error on bad input.
  bool Feed(const char* data, size_t size, std::string* error);
  bool PumpTls(std::string* error);

  common::UniqueFd fd_;
  TlsOptions tls_;
  // Declared after fd_: destroyed (its close_notify sent) before the
  // descriptor closes.
  std::unique_ptr<TlsChannel> channel_;
  size_t max_reply_bytes_ = protocol::kDefaultMaxValueBytes;
  int connect_timeout_ms_ = 10'000;
  std::unique_ptr<protocol::JsonStreamReader> reader_ =
      std::make_unique<protocol::JsonStreamReader>();
  std::deque<boost::json::object> ready_;
};

// The reply's "status" as a positive errno (the original sends negative
// values for lock and queue refusals: docs/protocol.md, differences from the
// original); 0 if absent.
int ReplyStatus(const boost::json::object& reply);

}  // namespace client

#endif  // CLIENT_SESSION_H_
