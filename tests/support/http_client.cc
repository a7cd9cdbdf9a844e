#include "tests/support/http_client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>

namespace testing_support {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

template <typename Stream>
HttpResult Exchange(Stream& stream, const std::string& target,
                    const HttpRequestOptions& options) {
  HttpResult result;
  bhttp::request<bhttp::empty_body> request(
      bhttp::string_to_verb(options.method), target, 11);
  request.set(bhttp::field::host, "localhost");
  for (const auto& [name, value] : options.headers) request.insert(name, value);
  beast::error_code ec;
  bhttp::write(stream, request, ec);
  if (ec) {
    result.error = "write: " + ec.message();
    return result;
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64u << 20);
  bhttp::read(stream, buffer, parser, ec);
  if (ec) {
    result.error = "read: " + ec.message();
    return result;
  }
  const auto& response = parser.get();
  result.status = response.result_int();
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (char& ch : name) ch = static_cast<char>(std::tolower(ch));
    result.headers.emplace(name, std::string(field.value()));
  }
  result.body = response.body();
  return result;
}

}  // namespace

HttpResult HttpGet(int port, const std::string& target,
                   const HttpRequestOptions& options) {
  asio::io_context io;
  beast::tcp_stream tcp(io);
  tcp.expires_after(options.timeout);
  beast::error_code ec;
  tcp.socket().connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
  HttpResult result;
  if (ec) {
    result.error = "connect: " + ec.message();
    return result;
  }
  if (!options.tls) return Exchange(tcp, target, options);
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_verify_mode(asio::ssl::verify_peer);
  context.load_verify_file(options.tls_files.ca, ec);
  if (!ec && !options.tls_files.cert.empty()) {
    context.use_certificate_chain_file(options.tls_files.cert, ec);
    if (!ec)
      context.use_private_key_file(options.tls_files.key,
                                   asio::ssl::context::pem, ec);
  }
  if (ec) {
    result.error = "TLS files: " + ec.message();
    return result;
  }
  context.set_verify_callback(asio::ssl::host_name_verification("localhost"));
  beast::ssl_stream<beast::tcp_stream&> stream(tcp, context);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) {
    result.error = "handshake: " + ec.message();
    return result;
  }
  return Exchange(stream, target, options);
}

std::string RawHttp(int port, const std::string& bytes,
                    std::chrono::seconds timeout) {
  asio::io_context io;
  beast::tcp_stream tcp(io);
  tcp.expires_after(timeout);
  beast::error_code ec;
  tcp.socket().connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
  if (ec) return "connect: " + ec.message();
  tcp.write_some(asio::buffer(bytes), ec);
  std::string out;
  char buffer[4096];
  while (true) {
    size_t n = tcp.read_some(asio::buffer(buffer), ec);
    out.append(buffer, n);
    if (ec == beast::error::timeout) return out + "timeout";
    if (ec) return out;
  }
}

}  // namespace testing_support
