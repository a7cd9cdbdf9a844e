// ListenOn: opens, binds and listens `acceptor` on the first address `host`
// resolves to (passive: "" or "*" is every address), with SO_REUSEADDR so
// that a restart is not refused while old connections linger in TIME_WAIT.
// The main port (server/listener.h) and the HTTP port (http/http_server.h)
// both listen this way.
#ifndef COMMON_TCP_LISTEN_H_
#define COMMON_TCP_LISTEN_H_

#include <boost/asio.hpp>
#include <string>

namespace common {

// False with *error ("cannot resolve HOST:PORT: ..." or "cannot listen on
// HOST:PORT: ...").
bool ListenOn(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host,
              const std::string& port, std::string* error);

}  // namespace common

#endif  // COMMON_TCP_LISTEN_H_
