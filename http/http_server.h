// HttpServer: the HTTP listener (`http_port`, docs/monitoring.md) on the
// server's event loop, for Prometheus scrapes and the dashboard: GET only,
// no request body, answered from the Router's table.
//
// A slow or hostile HTTP peer changes nothing for movers: every wait is an
// asynchronous operation of the loop, and what a peer may make the server
// hold is bounded:
// - the request head (request line and headers) is at most
//   max_header_bytes (431 past it), and no body is taken (413);
// - a request's head must arrive within request_timeout of the connection,
//   or of the previous response (keep-alive): else the connection is
//   closed; the same bound covers the TLS handshake; a response not taken
//   by the peer within write_timeout closes the connection too;
// - at most max_connections at once: one more is closed at once (a plain
//   one after a 503).
// A request line or target that is not printable ASCII is 400 and the
// connection closes. Authentication (http_auth.h) runs before the route:
// 401 with WWW-Authenticate, 403 for a known identity without the role.
// Every refusal is one debug line; a warning the first time of each kind,
// then at most once a minute with the count so far.
//
// Thread-safety: none; the event loop's thread.
#ifndef HTTP_HTTP_SERVER_H_
#define HTTP_HTTP_SERVER_H_

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/log_throttle.h"
#include "http/http_auth.h"
#include "http/router.h"

namespace http {

struct HttpServerOptions {
  size_t max_header_bytes = 8 * 1024;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds write_timeout{30'000};
  size_t max_connections = 64;
  // The TLS context for a new connection, asked at each accept (a reload's
  // new material serves new connections); null or returning null: plain.
  std::function<std::shared_ptr<boost::asio::ssl::context>()> tls;
  // Who may read (CheckAccess over the server's authorizer); null: anyone.
  std::function<Access(const std::vector<std::string>& identities,
                       std::string_view authorization)>
      authorize;
};

// What refusals the listener counts, each with its throttled warning.
enum class Refusal {
  kBadRequest,   // 400: unparsable head, a target outside printable ASCII
  kTooLarge,     // 413, 431
  kTimeout,      // head or handshake not in time, response not taken
  kAuth,         // 401, 403
  kTls,          // handshake failed
  kConnections,  // past max_connections
  kCount
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, const common::Clock& clock,
             const Router& router, HttpServerOptions options);
  ~HttpServer();

  // Binds and listens on host:port (port "0": any). False with *error.
  bool Listen(const std::string& host, const std::string& port,
              std::string* error);
  void Start();  // accepts until Stop()
  // Closes the listening socket and every connection. Idempotent.
  void Stop();
  uint16_t port() const { return port_; }
  size_t open() const { return sessions_.size(); }
  uint64_t refused(Refusal kind) const {
    return throttles_[static_cast<size_t>(kind)].count;
  }
  uint64_t served() const { return served_; }

  // For the sessions (http_server.cc).
  class Session;
  void Refused(Refusal kind, const std::string& peer, std::string_view why);
  void Served() { ++served_; }
  void Closed(Session* session);
  const Router& router() const { return router_; }
  const HttpServerOptions& options() const { return options_; }

 private:
  void Accept();

  boost::asio::io_context& io_;
  const common::Clock& clock_;
  const Router& router_;
  HttpServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_timer_;
  std::unordered_set<Session*> sessions_;
  std::array<common::LogThrottle, static_cast<size_t>(Refusal::kCount)>
      throttles_;
  common::LogThrottle accept_failures_;
  uint64_t served_ = 0;
  uint16_t port_ = 0;
  bool stopped_ = false;
  // Sessions outliving the server (their handlers still queued on the
  // io_context) see it gone.
  std::shared_ptr<HttpServer*> self_;
};

}  // namespace http

#endif  // HTTP_HTTP_SERVER_H_
