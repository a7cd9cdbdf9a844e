// Mover against a small coordinatool stand-in on a loopback socket, with
// the copytool's threads: one receiving thread in Recv() and a worker that
// reports completions. The stand-in only answers `ehlo` and records what
// each connection sent; the end-to-end tests (tests/server) run the real
// server under real copytools.
#include "preload/mover.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "protocol/json_stream.h"
#include "tests/support/wait_for.h"

namespace preload {
namespace {

namespace json = boost::json;
using testing_support::WaitFor;
using namespace std::chrono_literals;

// Accepts connections one after the other; on each, answers the ehlo and
// records every command until the first `recv`, then leaves the connection
// open (silent) and accepts the next.
class StandIn {
 public:
  StandIn() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 8) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = std::to_string(ntohs(addr.sin_port));
    thread_ = std::thread([this] { Run(); });
  }
  ~StandIn() {
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    if (thread_.joinable()) thread_.join();
    close(listen_fd_);
    for (int fd : fds_)
      if (fd >= 0) close(fd);
  }

  const std::string& port() const { return port_; }

  // The commands received so far on each connection (up to its `recv`).
  std::vector<std::vector<std::string>> commands() {
    std::lock_guard lock(mu_);
    return commands_;
  }
  size_t ready() {
    std::lock_guard lock(mu_);
    return ready_;
  }

  // Resets connection `n` (an RST, as when the server host goes away).
  void Reset(size_t n) {
    std::lock_guard lock(mu_);
    linger hard{1, 0};
    setsockopt(fds_[n], SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    close(fds_[n]);
    fds_[n] = -1;
  }

 private:
  void Run() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      size_t n;
      {
        std::lock_guard lock(mu_);
        n = fds_.size();
        fds_.push_back(fd);
        commands_.emplace_back();
      }
      Serve(fd, n);
    }
  }

  void Serve(int fd, size_t n) {
    protocol::JsonStreamReader reader;
    char buffer[4096];
    for (;;) {
      json::object message;
      while (!reader.Next(&message)) {
        ssize_t got = read(fd, buffer, sizeof(buffer));
        if (got <= 0 || !reader.Feed(std::string_view(buffer, got))) return;
      }
      std::string command(message["command"].as_string());
      std::lock_guard lock(mu_);
      commands_[n].push_back(command);
      if (command == "ehlo") {
        std::string reply = R"({"command":"ehlo","status":0,"progress":true})";
        if (write(fd, reply.data(), reply.size()) != ssize_t(reply.size()))
          return;
      }
      if (command == "recv") {
        ++ready_;
        return;
      }
    }
  }

  int listen_fd_ = -1;
  std::string port_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::vector<std::string>> commands_;
  size_t ready_ = 0;
};

config::ClientSettings SettingsFor(const StandIn& stand_in) {
  config::ClientSettings settings;
  settings.host = "127.0.0.1";
  settings.port = stand_in.port();
  settings.client_id = "mover_test";
  return settings;
}

client::BackoffOptions FastBackoff() {
  client::BackoffOptions options;
  options.base = 1ms;
  options.cap = 5ms;
  return options;
}

bool Open(int fd) { return fcntl(fd, F_GETFD) != -1; }

bool HungUp(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR));
}

// A worker thread whose completion cannot be sent (the server reset the
// connection) must not close the session under the receiving thread: that
// thread reads and polls it without the lock, and the copytool polls its
// descriptor (llapi_hsm_copytool_get_fd), which a close would leave
// pointing at nothing, or at whatever file is opened next. The receiving
// thread replaces the session at its next Recv(), and the completion goes
// on the new one.
TEST(MoverTest, WorkerFailingToSendLeavesTheSessionToTheReceivingThread) {
  StandIn stand_in;
  ASSERT_NE(stand_in.port(), "");
  Mover mover(SettingsFor(stand_in), "lustre", {}, {}, FastBackoff());
  std::string error;
  ASSERT_TRUE(mover.Start(&error)) << error;
  ASSERT_TRUE(WaitFor([&] { return stand_in.ready() == 1; }, 20s));
  const int first_fd = mover.fd();

  // Relaxed, on purpose: nothing orders the worker's failure before the
  // receiving thread's next step, as when a copytool's receiving thread is
  // woken by the kernel; ThreadSanitizer then sees any unlocked access.
  std::atomic<bool> worker_done{false};
  std::atomic<bool> polled{false};
  int first_rc = 0, second_rc = 0;
  char buffer[4096];
  std::thread receiver([&] {
    first_rc = mover.Recv(buffer, sizeof(buffer), /*nonblocking=*/true);
    polled = true;
    WaitFor([&] { return worker_done.load(std::memory_order_relaxed); }, 20s,
            1ms);
    second_rc = mover.Recv(buffer, sizeof(buffer), /*nonblocking=*/true);
  });
  ASSERT_TRUE(WaitFor([&] { return polled.load(); }, 20s));

  stand_in.Reset(0);
  ASSERT_TRUE(WaitFor([&] { return HungUp(first_fd); }, 20s));
  lu_fid fid{0x200000401, 1, 0};
  mover.ReportDone(protocol::ItemId{42, fid}, 0);  // its send fails
  EXPECT_TRUE(Open(first_fd))
      << "the worker closed the descriptor the receiving thread polls";
  worker_done.store(true, std::memory_order_relaxed);
  receiver.join();

  EXPECT_EQ(first_rc, -EAGAIN);
  EXPECT_EQ(second_rc, -EAGAIN);
  ASSERT_TRUE(WaitFor([&] { return stand_in.ready() == 2; }, 20s))
      << "the receiving thread did not reconnect";
  // The completion the worker could not send follows the new ehlo.
  EXPECT_EQ(stand_in.commands()[1],
            (std::vector<std::string>{"ehlo", "done", "recv"}));
}

}  // namespace
}  // namespace preload
