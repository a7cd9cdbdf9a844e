// Listener: the server's listening socket. It accepts connections and hands
// each new socket to the server, and keeps the daemon serving the peers it
// has when accepting goes wrong:
// - accept fails (out of descriptors or memory): the pending connection
//   stays in the backlog and would fail again at once, so accepts pause,
//   10 ms doubling to 1 s, instead of spinning a core;
// - past max_connections: the peer gets a refusal it can read (EAGAIN),
//   then the socket lingers briefly so that the peer's own request does not
//   reset it before the refusal is read.
// Failures and refusals are counted and logged the first time, then at most
// once a minute. Its two timers (the pause, the linger) are I/O waits of a
// socket, kept here rather than in the ServerCore: they decide nothing about
// items or movers.
//
// Thread-safety: the event loop's thread only.
#ifndef SERVER_LISTENER_H_
#define SERVER_LISTENER_H_

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/log_throttle.h"

namespace server {

// The connection cap for the `max_connections` setting: itself, or when 0
// what the descriptor limit allows less a reserve for the store, the Lustre
// channel, report files and the locality helper.
size_t MaxConnectionsFor(int64_t setting);

class Listener {
 public:
  // `open` counts the connections open now; `accepted` takes a new one.
  Listener(boost::asio::io_context& io, const common::Clock& clock,
           size_t max_connections, std::function<size_t()> open,
           std::function<void(boost::asio::ip::tcp::socket)> accepted);

  // Binds and listens on host:port (port "0": any). False with *error.
  bool Listen(const std::string& host, const std::string& port,
              std::string* error);
  void Start();  // accepts until Stop()
  void Stop();
  uint16_t port() const { return port_; }
  size_t max_connections() const { return max_connections_; }
  // A new cap (reload): connections open past it stay; new ones are
  // refused until fewer are open.
  void set_max_connections(size_t max) { max_connections_ = max; }

 private:
  void Accept();
  void Pause(const boost::system::error_code& ec);
  void Refuse(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  const common::Clock& clock_;
  size_t max_connections_;
  std::function<size_t()> open_;
  std::function<void(boost::asio::ip::tcp::socket)> accepted_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_timer_;
  std::chrono::milliseconds pause_{0};
  common::LogThrottle failures_;
  common::LogThrottle refused_;
  size_t lingering_ = 0;  // refused sockets waiting for the peer's close
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace server

#endif  // SERVER_LISTENER_H_
