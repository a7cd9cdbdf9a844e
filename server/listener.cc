#include "server/listener.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <memory>

#include "common/tcp_listen.h"

namespace server {

namespace asio = boost::asio;
namespace json = boost::json;

size_t MaxConnectionsFor(int64_t setting) {
  if (setting > 0) return static_cast<size_t>(setting);
  rlimit limit{};
  rlim_t fds = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
  // Beyond a million descriptors the cap stops mattering.
  if (fds == RLIM_INFINITY || fds > (1u << 20)) fds = 1u << 20;
  return fds > 128 ? static_cast<size_t>(fds) - 64
                   : std::max<size_t>(8, fds / 2);
}

Listener::Listener(asio::io_context& io, const common::Clock& clock,
                   size_t max_connections, std::function<size_t()> open,
                   std::function<void(asio::ip::tcp::socket)> accepted)
    : io_(io),
      clock_(clock),
      max_connections_(max_connections),
      open_(std::move(open)),
      accepted_(std::move(accepted)),
      acceptor_(io),
      pause_timer_(io) {}

bool Listener::Listen(const std::string& host, const std::string& port,
                      std::string* error) {
  if (!common::ListenOn(acceptor_, host, port, error)) return false;
  port_ = acceptor_.local_endpoint().port();
  return true;
}

void Listener::Start() { Accept(); }

void Listener::Stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  pause_timer_.cancel();
}

void Listener::Accept() {
  if (stopped_) return;
  acceptor_.async_accept([this](const boost::system::error_code& ec,
                                asio::ip::tcp::socket socket) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
    // Out of descriptors (or memory), the pending connection stays in the
    // backlog and accept fails again at once: retrying at once spins a core
    // and floods the log. Pause instead; the movers already connected are
    // served meanwhile.
    if (ec) return Pause(ec);
    if (failures_.count) {
      spdlog::info("accept works again after {} failures", failures_.count);
      failures_.count = 0;
      pause_ = {};
    }
    if (open_() >= max_connections_) {
      Refuse(std::move(socket));
    } else {
      accepted_(std::move(socket));
    }
    Accept();
  });
}

void Listener::Pause(const boost::system::error_code& ec) {
  using std::chrono::milliseconds;
  pause_ = std::clamp(pause_ * 2, milliseconds(10), milliseconds(1000));
  if (failures_.Count(clock_.Now())) {
    spdlog::warn(
        "accept: {} ({} connections, {} failures so far): pausing accepts "
        "for up to {} ms at a time; logged again in a minute at most",
        ec.message(), open_(), failures_.count, 1000);
  }
  pause_timer_.expires_after(pause_);
  pause_timer_.async_wait([this](const boost::system::error_code& wait_ec) {
    if (!wait_ec) Accept();
  });
}

void Listener::Refuse(asio::ip::tcp::socket socket) {
  if (refused_.Count(clock_.Now())) {
    spdlog::warn(
        "refusing connections: {} open, max_connections {} ({} refused so "
        "far; logged again in a minute at most)",
        open_(), max_connections_, refused_.count);
  }
  // A reply without "command": clients take it as the answer to whatever
  // they ask, and report its error.
  std::string text = json::serialize(
      json::object{{"status", EAGAIN},
                   {"error", fmt::format("the server has too many connections "
                                         "(max_connections {}), retry later",
                                         max_connections_)}});
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.send(asio::buffer(text), 0, ignored);
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  // Closing now would reset the connection if the peer's request arrives
  // after, losing the refusal: wait a little for the peer to close first,
  // for a bounded number of sockets.
  if (lingering_ >= 64) return;
  ++lingering_;
  auto peer = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
  auto timer = std::make_shared<asio::steady_timer>(io_);
  auto buffer = std::make_shared<std::array<char, 4096>>();
  auto done = std::make_shared<bool>(false);
  auto finish = [this, peer, timer, done] {
    if (*done) return;
    *done = true;
    --lingering_;
    boost::system::error_code ignored;
    timer->cancel();
    peer->close(ignored);
  };
  timer->expires_after(std::chrono::seconds(2));
  timer->async_wait([finish](const boost::system::error_code& ec) {
    if (!ec) finish();
  });
  auto drain = std::make_shared<std::function<void()>>();
  *drain = [peer, buffer, finish, drain_weak = std::weak_ptr(drain)] {
    peer->async_read_some(
        asio::buffer(*buffer),
        [finish, drain_weak](const boost::system::error_code& ec, size_t) {
          auto again = drain_weak.lock();
          if (ec || !again) return finish();
          (*again)();
        });
  };
  (*drain)();
  // The read handler holds the only other reference chain; keep the
  // function alive until the timer or the peer ends it.
  timer->async_wait([drain](const boost::system::error_code&) {});
}

}  // namespace server
