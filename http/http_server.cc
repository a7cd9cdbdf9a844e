#include "http/http_server.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "common/tcp_listen.h"
#include "tls/identity.h"

namespace http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

std::string_view RefusalName(Refusal kind) {
  switch (kind) {
    case Refusal::kBadRequest:
      return "malformed requests";
    case Refusal::kTooLarge:
      return "oversized requests";
    case Refusal::kTimeout:
      return "peers too slow";
    case Refusal::kAuth:
      return "requests without the monitor or admin role";
    case Refusal::kTls:
      return "failed TLS handshakes";
    case Refusal::kConnections:
      return "connections past the cap";
    case Refusal::kCount:
      break;
  }
  return "?";
}

// What a read error of the request head answers: 0 (close without a
// response), or a status.
int StatusOfReadError(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
    return 431;
  if (ec == bhttp::error::unexpected_body || ec == bhttp::error::body_limit)
    return 413;
  if (ec.category() ==
      bhttp::make_error_code(bhttp::error::bad_method).category())
    return 400;
  return 0;
}

}  // namespace

class HttpServer::Session {
 public:
  virtual ~Session() = default;
  virtual void Start() = 0;
  virtual void Close() = 0;
};

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <typename Stream>
class SessionOf final : public HttpServer::Session,
                        public std::enable_shared_from_this<SessionOf<Stream>> {
 public:
  // `context`: the TLS context (TlsStream), kept for the session's life.
  SessionOf(HttpServer& server, std::weak_ptr<HttpServer*> alive,
            std::string peer, asio::ip::tcp::socket socket,
            std::shared_ptr<asio::ssl::context> context)
      : server_(&server),
        alive_(std::move(alive)),
        peer_(std::move(peer)),
        context_(std::move(context)),
        stream_(MakeStream(std::move(socket), context_.get())),
        buffer_(server.options().max_header_bytes + 1024) {}

  void Start() override {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      Lowest().expires_after(server_->options().request_timeout);
      auto self = this->shared_from_this();
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self](const beast::error_code& ec) { self->OnHandshake(ec); });
    } else {
      ReadRequest();
    }
  }

  void Close() override {
    beast::error_code ignored;
    Lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

 private:
  static Stream MakeStream(asio::ip::tcp::socket socket,
                           asio::ssl::context* context) {
    if constexpr (std::is_same_v<Stream, TlsStream>)
      return TlsStream(beast::tcp_stream(std::move(socket)), *context);
    else
      return beast::tcp_stream(std::move(socket));
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // The server, unless it is gone or stopped (then the session ends).
  HttpServer* Server() {
    auto alive = alive_.lock();
    return alive && *alive ? server_ : nullptr;
  }

  void OnHandshake(const beast::error_code& ec) {
    HttpServer* server = Server();
    if (!server) return;
    if (ec) {
      server->Refused(
          ec == beast::error::timeout ? Refusal::kTimeout : Refusal::kTls,
          peer_, "TLS handshake failed: " + ec.message());
      return End();
    }
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      SSL* ssl = stream_.native_handle();
      X509* cert = SSL_get1_peer_certificate(ssl);
      if (cert != nullptr && SSL_get_verify_result(ssl) == X509_V_OK)
        identities_ = tls::IdentitiesOf(cert);
      X509_free(cert);
    }
    ReadRequest();
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(
        static_cast<uint32_t>(server_->options().max_header_bytes));
    parser_->body_limit(0);
    Lowest().expires_after(server_->options().request_timeout);
    auto self = this->shared_from_this();
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self](const beast::error_code& ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(const beast::error_code& ec) {
    HttpServer* server = Server();
    if (!server) return;
    if (ec) {
      if (ec == bhttp::error::end_of_stream ||
          ec == asio::error::connection_reset ||
          ec == asio::ssl::error::stream_truncated ||
          ec == asio::error::operation_aborted)
        return End();
      if (ec == beast::error::timeout) {
        server->Refused(Refusal::kTimeout, peer_,
                        "no whole request within the request timeout");
        return End();
      }
      const int status = StatusOfReadError(ec);
      if (status == 0) return End();
      server->Refused(status == 400 ? Refusal::kBadRequest : Refusal::kTooLarge,
                      peer_, fmt::format("{} ({})", status, ec.message()));
      return Respond(TextResponse(status, ec.message()), false);
    }
    const auto& head = parser_->get();
    const bool keep_alive = head.keep_alive();
    HttpRequest request;
    request.method = std::string(head.method_string());
    if (!SplitTarget(head.target(), &request.path, &request.query)) {
      server->Refused(Refusal::kBadRequest, peer_,
                      "400 (target not an origin-form path of printable "
                      "ASCII)");
      return Respond(TextResponse(400, "bad target"), false);
    }
    Access access;
    if (server->options().authorize) {
      auto it = head.find(bhttp::field::authorization);
      access = server->options().authorize(
          identities_, it == head.end() ? std::string_view()
                                        : std::string_view(it->value()));
    }
    if (access.status != 0) {
      server->Refused(
          Refusal::kAuth, peer_,
          fmt::format("{} {}: {}", access.status, request.path, access.why));
      HttpResponse response = TextResponse(access.status, access.why);
      if (access.status == 401)
        for (const std::string& challenge : Challenges())
          response.headers.emplace_back("WWW-Authenticate", challenge);
      return Respond(std::move(response), keep_alive);
    }
    request.identity = access.identity;
    HttpResponse response = server->router().Route(request);
    if (response.status != 200)
      spdlog::debug("http {}: {} {} {}", peer_, request.method, request.path,
                    response.status);
    server->Served();
    Respond(std::move(response), keep_alive);
  }

  void Respond(HttpResponse response, bool keep_alive) {
    response_.emplace();
    auto& out = *response_;
    out.version(11);
    out.result(static_cast<unsigned>(response.status));
    out.set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) out.insert(name, value);
    out.body() = std::move(response.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    Lowest().expires_after(server_->options().write_timeout);
    auto self = this->shared_from_this();
    bhttp::async_write(stream_, out,
                       [self, keep_alive](const beast::error_code& ec, size_t) {
                         self->OnWritten(ec, keep_alive);
                       });
  }

  void OnWritten(const beast::error_code& ec, bool keep_alive) {
    HttpServer* server = Server();
    if (!server) return;
    response_.reset();
    if (ec == beast::error::timeout)
      server->Refused(Refusal::kTimeout, peer_,
                      "response not taken within the write timeout");
    if (ec || !keep_alive) {
      beast::error_code ignored;
      Lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      return End();
    }
    ReadRequest();
  }

  void End() {
    Lowest().close();
    if (HttpServer* server = Server()) server->Closed(this);
  }

  HttpServer* server_;
  std::weak_ptr<HttpServer*> alive_;
  std::string peer_;
  std::shared_ptr<asio::ssl::context> context_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  std::vector<std::string> identities_;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, const common::Clock& clock,
                       const Router& router, HttpServerOptions options)
    : io_(io),
      clock_(clock),
      router_(router),
      options_(std::move(options)),
      acceptor_(io),
      pause_timer_(io),
      self_(std::make_shared<HttpServer*>(this)) {}

HttpServer::~HttpServer() {
  Stop();
  *self_ = nullptr;
}

bool HttpServer::Listen(const std::string& host, const std::string& port,
                        std::string* error) {
  if (!common::ListenOn(acceptor_, host, port, error)) return false;
  port_ = acceptor_.local_endpoint().port();
  return true;
}

void HttpServer::Start() { Accept(); }

void HttpServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  pause_timer_.cancel();
  // Each session's pending operation ends with an error and drops it.
  std::vector<Session*> open(sessions_.begin(), sessions_.end());
  sessions_.clear();
  *self_ = nullptr;
  for (Session* session : open) session->Close();
}

void HttpServer::Closed(Session* session) { sessions_.erase(session); }

void HttpServer::Refused(Refusal kind, const std::string& peer,
                         std::string_view why) {
  spdlog::debug("http {}: refused: {}", peer, why);
  common::LogThrottle& throttle = throttles_[static_cast<size_t>(kind)];
  if (!throttle.Count(clock_.Now())) return;
  spdlog::warn("http {}: {} ({} {} so far; logged again in a minute at most)",
               peer, why, throttle.count, RefusalName(kind));
}

void HttpServer::Accept() {
  if (stopped_) return;
  acceptor_.async_accept([this, alive = std::weak_ptr(self_)](
                             const beast::error_code& ec,
                             asio::ip::tcp::socket socket) {
    auto live = alive.lock();
    if (!live || !*live || stopped_ || ec == asio::error::operation_aborted)
      return;
    if (ec) {
      // Out of descriptors: the connection stays in the backlog and would
      // fail again at once; pause rather than spin (the main port's
      // listener does the same).
      if (accept_failures_.Count(clock_.Now()))
        spdlog::warn("http: accept: {} ({} failures so far): pausing",
                     ec.message(), accept_failures_.count);
      pause_timer_.expires_after(std::chrono::milliseconds(200));
      pause_timer_.async_wait([this, alive](const beast::error_code& wait) {
        auto still = alive.lock();
        if (!wait && still && *still) Accept();
      });
      return;
    }
    beast::error_code ignored;
    auto endpoint = socket.remote_endpoint(ignored);
    std::string peer =
        fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
    std::shared_ptr<asio::ssl::context> tls =
        options_.tls ? options_.tls() : nullptr;
    if (sessions_.size() >= options_.max_connections) {
      Refused(Refusal::kConnections, peer,
              fmt::format("{} connections open: closed", sessions_.size()));
      if (!tls) {
        static constexpr std::string_view kBusy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n";
        socket.non_blocking(true, ignored);
        socket.send(asio::buffer(kBusy.data(), kBusy.size()), 0, ignored);
      }
      socket.close(ignored);
      return Accept();
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    std::shared_ptr<Session> session;
    // A TLS session keeps the context it started with.
    if (tls)
      session = std::make_shared<SessionOf<TlsStream>>(
          *this, self_, std::move(peer), std::move(socket), std::move(tls));
    else
      session = std::make_shared<SessionOf<PlainStream>>(
          *this, self_, std::move(peer), std::move(socket), nullptr);
    sessions_.insert(session.get());
    session->Start();
    Accept();
  });
}

}  // namespace http
