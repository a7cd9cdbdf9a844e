#include "tests/server/tls_peer.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <functional>

namespace testing_support {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;

void Configure(ssl::context& context, const TlsClientOptions& o) {
  boost::system::error_code ignored;
  if (!o.ca.empty()) {
    context.load_verify_file(o.ca, ignored);
    context.set_verify_mode(ssl::verify_peer, ignored);
  }
  if (!o.cert.empty()) {
    context.use_certificate_chain_file(o.cert, ignored);
    context.use_private_key_file(o.key, ssl::context::pem, ignored);
  }
}

void PrepareStream(ssl::stream<tcp::socket>& stream,
                   const TlsClientOptions& o) {
  if (o.ca.empty()) return;
  stream.set_verify_callback(ssl::host_name_verification(o.server_name));
  SSL_set_tlsext_host_name(stream.native_handle(), o.server_name.c_str());
}

// One plain connection and its TLS twin; bytes go both ways until either
// side ends, which ends both.
struct Pair : std::enable_shared_from_this<Pair> {
  Pair(tcp::socket p, ssl::context& context)
      : plain(std::move(p)), tls(plain.get_executor(), context) {}

  void Pump() {
    PlainToTls();
    TlsToPlain();
  }
  void PlainToTls() {
    auto self = shared_from_this();
    plain.async_read_some(
        asio::buffer(up), [this, self](boost::system::error_code ec, size_t n) {
          if (ec) return End();
          asio::async_write(
              tls, asio::buffer(up.data(), n),
              [this, self](boost::system::error_code wec, size_t) {
                if (wec) return End();
                PlainToTls();
              });
        });
  }
  void TlsToPlain() {
    auto self = shared_from_this();
    tls.async_read_some(asio::buffer(down), [this, self](
                                                boost::system::error_code ec,
                                                size_t n) {
      if (ec) return End();
      asio::async_write(plain, asio::buffer(down.data(), n),
                        [this, self](boost::system::error_code wec, size_t) {
                          if (wec) return End();
                          TlsToPlain();
                        });
    });
  }
  void End() {
    boost::system::error_code ignored;
    plain.shutdown(tcp::socket::shutdown_both, ignored);
    plain.close(ignored);
    tls.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    tls.next_layer().close(ignored);
  }

  tcp::socket plain;
  ssl::stream<tcp::socket> tls;
  std::array<char, 16384> up, down;
};

}  // namespace

TlsRelay::TlsRelay(int server_port, TlsClientOptions options)
    : server_port_(server_port),
      options_(std::move(options)),
      context_(ssl::context::tls_client),
      acceptor_(io_, {asio::ip::address_v4::loopback(), 0}) {
  Configure(context_, options_);
  port_ = acceptor_.local_endpoint().port();
  Accept();
  thread_ = std::thread([this] { io_.run(); });
}

TlsRelay::~TlsRelay() {
  io_.stop();
  thread_.join();
}

void TlsRelay::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec,
                                tcp::socket socket) {
    if (ec) return;
    auto pair = std::make_shared<Pair>(std::move(socket), context_);
    PrepareStream(pair->tls, options_);
    pair->tls.next_layer().async_connect(
        {asio::ip::address_v4::loopback(), static_cast<uint16_t>(server_port_)},
        [this, pair](boost::system::error_code cec) {
          if (cec) return pair->End();
          pair->tls.async_handshake(
              ssl::stream_base::client,
              [this, pair](boost::system::error_code hec) {
                if (hec) {
                  ++failures_;
                  return pair->End();
                }
                ++handshakes_;
                pair->Pump();
              });
        });
    Accept();
  });
}

TlsProbe::TlsProbe(const TlsClientOptions& options)
    : context_(ssl::context::tls_client) {
  Configure(context_, options);
  stream_ = std::make_unique<ssl::stream<tcp::socket>>(io_, context_);
  PrepareStream(*stream_, options);
}

bool TlsProbe::Run() {
  io_.restart();
  io_.run_for(std::chrono::seconds(30));
  if (io_.stopped()) return true;
  // Still waiting: give up on the connection.
  boost::system::error_code ignored;
  stream_->next_layer().close(ignored);
  io_.restart();
  io_.run_for(std::chrono::seconds(5));
  return false;
}

std::string TlsProbe::Connect(int port) {
  std::string why = "timeout";
  stream_->next_layer().async_connect(
      {asio::ip::address_v4::loopback(), static_cast<uint16_t>(port)},
      [&](boost::system::error_code ec) {
        if (ec) {
          why = "connect: " + ec.message();
          return;
        }
        stream_->async_handshake(
            ssl::stream_base::client, [&](boost::system::error_code hec) {
              if (!hec) {
                why = "";
                return;
              }
              why = hec.message();
              const long verify =
                  SSL_get_verify_result(stream_->native_handle());
              if (verify != X509_V_OK)
                why += std::string(" (") +
                       X509_verify_cert_error_string(verify) + ")";
            });
      });
  Run();
  return why;
}

std::string TlsProbe::PeerSubject() {
  X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
  if (cert == nullptr) return "";
  char text[512] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), text, sizeof(text));
  X509_free(cert);
  return text;
}

std::string TlsProbe::Call(const std::string& request) {
  std::string out;
  boost::json::stream_parser parser;
  std::array<char, 4096> buffer;
  std::function<void()> read = [&] {
    stream_->async_read_some(
        asio::buffer(buffer), [&](boost::system::error_code ec, size_t n) {
          if (ec) return;
          // One object: the server writes nothing between objects.
          for (size_t i = 0; i < n; ++i) {
            parser.write_some(std::string_view(&buffer[i], 1), ec);
            if (ec) return;
            if (parser.done()) {
              out = boost::json::serialize(parser.release());
              return;
            }
          }
          read();
        });
  };
  asio::async_write(*stream_, asio::buffer(request),
                    [&](boost::system::error_code ec, size_t) {
                      if (!ec) read();
                    });
  Run();
  return out;
}

}  // namespace testing_support
