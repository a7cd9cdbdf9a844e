#include "common/tcp_listen.h"

#include <fmt/format.h>

namespace common {

namespace asio = boost::asio;

bool ListenOn(asio::ip::tcp::acceptor& acceptor, const std::string& host,
              const std::string& port, std::string* error) {
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(acceptor.get_executor());
  auto endpoints =
      resolver.resolve(host, port, asio::ip::tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    *error = fmt::format("cannot resolve {}:{}: {}", host, port, ec.message());
    return false;
  }
  asio::ip::tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    *error =
        fmt::format("cannot listen on {}:{}: {}", host, port, ec.message());
    return false;
  }
  return true;
}

}  // namespace common
