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
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <memory>
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
  // `ehlo_reply`: what it answers to every ehlo. Not `listening`: the port
  // is bound but refuses connections until Listen(), as a server not
  // started yet.
  explicit StandIn(std::string ehlo_reply =
                       R"({"command":"ehlo","status":0,"progress":true})",
                   bool listening = true)
      : ehlo_reply_(std::move(ehlo_reply)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = std::to_string(ntohs(addr.sin_port));
    if (listening) Listen();
  }

  // Starts accepting (once).
  void Listen() {
    if (listen(listen_fd_, 8) != 0) return;
    thread_ = std::thread([this] { Run(); });
  }

  // What it answers to a `recv` (then it stops reading, as before); empty:
  // nothing.
  void ReplyToRecv(std::string reply) {
    std::lock_guard lock(mu_);
    recv_reply_ = std::move(reply);
  }

  // Records every command, not only those up to the first `recv`.
  void KeepReading() {
    std::lock_guard lock(mu_);
    keep_reading_ = true;
  }

  // Connections from the `n`-th on are answered `ehlo_reply`.
  void ReplyFrom(size_t n, std::string ehlo_reply) {
    std::lock_guard lock(mu_);
    later_from_ = n;
    later_reply_ = std::move(ehlo_reply);
  }

  size_t connections() {
    std::lock_guard lock(mu_);
    return fds_.size();
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
      if (message.contains("quiet_done")) command += "(quiet)";
      // Many dones in one message: "done[N]".
      if (const auto* items = message.if_contains("items");
          items && items->is_array())
        command += "[" + std::to_string(items->get_array().size()) + "]";
      std::lock_guard lock(mu_);
      commands_[n].push_back(command);
      if (command.starts_with("ehlo")) {
        const std::string& reply =
            n >= later_from_ ? later_reply_ : ehlo_reply_;
        if (write(fd, reply.data(), reply.size()) != ssize_t(reply.size()))
          return;
      }
      if (command == "recv") {
        ++ready_;
        if (!recv_reply_.empty() &&
            write(fd, recv_reply_.data(), recv_reply_.size()) !=
                ssize_t(recv_reply_.size()))
          return;
        if (!keep_reading_) return;
      }
    }
  }

  const std::string ehlo_reply_;
  size_t later_from_ = SIZE_MAX;
  std::string later_reply_;
  std::string recv_reply_;
  bool keep_reading_ = false;
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
  settings.hosts = {"127.0.0.1"};
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

// Captures what is written to stderr (the library's log) while it lives.
class StderrCapture {
 public:
  StderrCapture() {
    char path[] = "/tmp/mover_test_stderr.XXXXXX";
    file_ = mkstemp(path);
    unlink(path);
    saved_ = dup(STDERR_FILENO);
    dup2(file_, STDERR_FILENO);
  }
  ~StderrCapture() {
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(file_);
  }
  std::string text() const {
    std::string text;
    char buffer[4096];
    ssize_t n;
    for (off_t at = 0; (n = pread(file_, buffer, sizeof(buffer), at)) > 0;
         at += n)
      text.append(buffer, n);
    return text;
  }
  size_t Count(const std::string& needle) const {
    const std::string all = text();
    size_t count = 0;
    for (size_t at = all.find(needle); at != std::string::npos;
         at = all.find(needle, at + 1))
      ++count;
    return count;
  }

 private:
  int file_ = -1;
  int saved_ = -1;
};

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
            (std::vector<std::string>{"ehlo(quiet)", "done", "recv"}));
}

// Completions ready at the same time (here: held while the server was
// lost) go in one message to a server that says it takes many, and one per
// message to a server that does not (the original): never the batch form
// to a server that did not announce it.
std::vector<std::string> CommandsAfterReconnect(const std::string& ehlo) {
  StandIn stand_in;
  if (stand_in.port().empty()) return {"no port"};
  stand_in.ReplyFrom(1, ehlo);
  Mover mover(SettingsFor(stand_in), "lustre", {}, {}, FastBackoff());
  std::string error;
  if (!mover.Start(&error)) return {error};
  if (!WaitFor([&] { return stand_in.ready() == 1; }, 20s)) return {"ready"};
  const int fd = mover.fd();
  stand_in.Reset(0);
  if (!WaitFor([&] { return HungUp(fd); }, 20s)) return {"hung up"};
  const lu_fid fid{0x200000401, 1, 0};
  for (uint64_t cookie : {41, 42, 43})
    mover.ReportDone(protocol::ItemId{cookie, fid}, 0);
  char buffer[4096];
  const int rc = mover.Recv(buffer, sizeof(buffer), /*nonblocking=*/true);
  if (rc != -EAGAIN) return {"recv " + std::to_string(rc)};
  if (!WaitFor([&] { return stand_in.ready() == 2; }, 20s))
    return {"no reconnect"};
  return stand_in.commands()[1];
}

TEST(MoverTest, CompletionsReadyTogetherGoInOneMessageOnlyWhenAnnounced) {
  EXPECT_EQ(
      CommandsAfterReconnect(R"({"command":"ehlo","status":0,"progress":true,)"
                             R"("done_items":true})"),
      (std::vector<std::string>{"ehlo(quiet)", "done[3]", "recv"}));
  EXPECT_EQ(CommandsAfterReconnect(
                R"({"command":"ehlo","status":0,"progress":true})"),
            (std::vector<std::string>{"ehlo(quiet)", "done", "done", "done",
                                      "recv"}));
}

// The linger (mover.h): a completion reported soon after a `done` message
// waits, and leaves with those that follow in one message; a failure
// leaves at once, taking those held; what is still held when the mover
// goes (the copytool unregisters) leaves then. The linger here is a minute:
// whatever arrives within the test's bounds was not held for it.
TEST(MoverTest, CompletionsSoonAfterADoneWaitForTheLingerFailuresDoNot) {
  StandIn stand_in(R"({"command":"ehlo","status":0,"done_items":true})");
  ASSERT_NE(stand_in.port(), "");
  stand_in.KeepReading();
  auto mover = std::make_unique<Mover>(
      SettingsFor(stand_in), "lustre", std::vector<uint32_t>{},
      Mover::EndAtLustre{}, FastBackoff(), std::chrono::minutes(1));
  std::string error;
  ASSERT_TRUE(mover->Start(&error)) << error;
  using Commands = std::vector<std::string>;
  auto got = [&](const Commands& expected) {
    return WaitFor([&] { return stand_in.commands()[0] == expected; }, 20s);
  };
  const lu_fid fid{0x200000401, 1, 0};
  mover->ReportDone(protocol::ItemId{1, fid}, 0);  // the first: at once
  ASSERT_TRUE(got({"ehlo(quiet)", "recv", "done"}))
      << stand_in.commands()[0].size();
  mover->ReportDone(protocol::ItemId{2, fid}, 0);
  mover->ReportDone(protocol::ItemId{3, fid}, 0);
  EXPECT_EQ(stand_in.commands()[0], (Commands{"ehlo(quiet)", "recv", "done"}))
      << "held by the linger";
  mover->ReportDone(protocol::ItemId{4, fid}, EIO);
  EXPECT_TRUE(got({"ehlo(quiet)", "recv", "done", "done[3]"}))
      << "a failure leaves at once, with those held";
  mover->ReportDone(protocol::ItemId{5, fid}, 0);
  mover.reset();
  EXPECT_TRUE(got({"ehlo(quiet)", "recv", "done", "done[3]", "done"}))
      << "the held completion leaves with the mover";
}

// With a short linger, the library's thread sends what was held.
TEST(MoverTest, HeldCompletionsLeaveAtTheLingersEnd) {
  StandIn stand_in(R"({"command":"ehlo","status":0,"done_items":true})");
  ASSERT_NE(stand_in.port(), "");
  stand_in.KeepReading();
  Mover mover(SettingsFor(stand_in), "lustre", {}, {}, FastBackoff(), 20ms);
  std::string error;
  ASSERT_TRUE(mover.Start(&error)) << error;
  const lu_fid fid{0x200000401, 1, 0};
  mover.ReportDone(protocol::ItemId{1, fid}, 0);
  mover.ReportDone(protocol::ItemId{2, fid}, 0);
  mover.ReportDone(protocol::ItemId{3, fid}, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        return stand_in.commands()[0] ==
               std::vector<std::string>{"ehlo(quiet)", "recv", "done",
                                        "done[2]"};
      },
      20s));
}

// Issue 13: a mover started before its server waits for it (the original
// retried every 5 s) rather than failing register: one log line per failed
// attempt, saying what failed and when the next attempt comes.
TEST(MoverTest, StartWaitsForAServerNotUpYet) {
  StandIn stand_in(R"({"command":"ehlo","status":0,"progress":true})",
                   /*listening=*/false);
  ASSERT_NE(stand_in.port(), "");
  StderrCapture log;
  Mover mover(SettingsFor(stand_in), "lustre", {}, {}, FastBackoff());
  std::string error;
  std::atomic<int> started{-1};
  std::thread start([&] { started = mover.Start(&error) ? 1 : 0; });
  ASSERT_TRUE(
      WaitFor([&] { return log.Count("; next attempt within ") >= 3; }, 20s));
  EXPECT_EQ(started.load(), -1) << "register gave up: " << error;
  EXPECT_NE(log.text().find("waiting for the server: cannot connect to "
                            "127.0.0.1:" +
                            stand_in.port()),
            std::string::npos)
      << log.text();
  stand_in.Listen();
  start.join();
  EXPECT_EQ(started.load(), 1) << error;
  ASSERT_TRUE(WaitFor([&] { return stand_in.ready() == 1; }, 20s));
  EXPECT_EQ(stand_in.commands()[0],
            (std::vector<std::string>{"ehlo(quiet)", "recv"}));
  EXPECT_NE(log.text().find("reached 127.0.0.1:" + stand_in.port() + " after"),
            std::string::npos)
      << log.text();
}

// A copytool's SIGTERM handler runs while register waits (ct-posix and
// others install it first): the wait ends, so that `systemctl stop` does
// not hang until its timeout.
TEST(MoverTest, AHandledSignalEndsTheWaitAtStart) {
  StandIn stand_in(R"({"command":"ehlo","status":0})", /*listening=*/false);
  ASSERT_NE(stand_in.port(), "");
  struct sigaction handled {
  }, previous{};
  handled.sa_handler = [](int) {};
  sigemptyset(&handled.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &handled, &previous), 0);
  StderrCapture log;
  client::BackoffOptions slow;  // long pauses: the signal finds one
  slow.base = 10s;
  slow.cap = 10s;
  Mover mover(SettingsFor(stand_in), "lustre", {}, {}, slow);
  std::string error;
  std::atomic<int> started{-1};
  std::thread start([&] { started = mover.Start(&error) ? 1 : 0; });
  ASSERT_TRUE(
      WaitFor([&] { return log.Count("next attempt within") >= 1; }, 20s));
  // Delivered until the thread has seen it (it may be between the log
  // line and its pause).
  EXPECT_TRUE(WaitFor(
      [&] {
        if (started.load() == -1) pthread_kill(start.native_handle(), SIGUSR1);
        return started.load() != -1;
      },
      20s, 50ms));
  start.join();
  sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_EQ(started.load(), 0);
  EXPECT_NE(error.find("a signal ended the wait"), std::string::npos) << error;
}

// llapi_hsm_copytool_recv returns -EINTR when a handled signal interrupts
// it, as Lustre's does: a copytool that stops on EINTR (its SIGTERM
// handler sets a flag) must not hang in the wait.
TEST(MoverTest, AHandledSignalEndsRecvWithEintr) {
  StandIn stand_in;
  ASSERT_NE(stand_in.port(), "");
  // On the heap: if Recv never returns, the test leaves its thread with
  // them rather than hang.
  struct Receiving {
    explicit Receiving(const StandIn& s)
        : mover(SettingsFor(s), "lustre", {}, {}, FastBackoff()) {}
    Mover mover;
    std::atomic<int> rc{1};
    char buffer[4096];
  };
  auto* r = new Receiving(stand_in);
  std::string error;
  ASSERT_TRUE(r->mover.Start(&error)) << error;
  struct sigaction handled {
  }, previous{};
  handled.sa_handler = [](int) {};
  sigemptyset(&handled.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &handled, &previous), 0);
  std::thread receiver([r] {
    r->rc = r->mover.Recv(r->buffer, sizeof(r->buffer), /*nonblocking=*/false);
  });
  ASSERT_TRUE(WaitFor([&] { return stand_in.ready() == 1; }, 20s));
  // Delivered until the receiver has returned (the first one may come
  // before it waits).
  const bool returned = WaitFor(
      [&] {
        if (r->rc.load() == 1) pthread_kill(receiver.native_handle(), SIGUSR1);
        return r->rc.load() != 1;
      },
      5s, 50ms);
  if (!returned) {
    receiver.detach();
    FAIL() << "Recv went on waiting after the signal";
  }
  receiver.join();
  sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_EQ(r->rc.load(), -EINTR);
  delete r;
}

// Waiting cannot fix a refusal: register fails at once with the reason.
TEST(MoverTest, StartFailsAtOnceWhenTheServerRefusesTheEhlo) {
  StandIn stand_in(
      R"({"command":"ehlo","status":13,"error":"mover id m9 not allowed"})");
  ASSERT_NE(stand_in.port(), "");
  StderrCapture log;
  Mover mover(SettingsFor(stand_in), "lustre", {}, {}, FastBackoff());
  std::string error;
  EXPECT_FALSE(mover.Start(&error));
  EXPECT_EQ(error, "127.0.0.1:" + stand_in.port() +
                       ": ehlo refused: mover id m9 not allowed");
  EXPECT_EQ(stand_in.connections(), 1u);
  EXPECT_EQ(log.Count("next attempt"), 0u) << log.text();
}

TEST(MoverTest, StartFailsAtOnceWithATokenFileItCannotRead) {
  StandIn stand_in;
  ASSERT_NE(stand_in.port(), "");
  config::ClientSettings settings = SettingsFor(stand_in);
  settings.token_file = "/nonexistent/token";
  Mover mover(settings, "lustre", {}, {}, FastBackoff());
  std::string error;
  EXPECT_FALSE(mover.Start(&error));
  EXPECT_NE(error.find("/nonexistent/token"), std::string::npos) << error;
  EXPECT_EQ(stand_in.connections(), 0u);
}

// An id still held by a connection the server has not yet found dead (the
// mover restarted quickly) is worth waiting for.
TEST(MoverTest, StartRetriesAnIdStillHeld) {
  StandIn stand_in(
      R"({"command":"ehlo","status":17,"error":"id already used"})");
  ASSERT_NE(stand_in.port(), "");
  stand_in.ReplyFrom(3, R"({"command":"ehlo","status":0,"progress":true})");
  StderrCapture log;
  Mover mover(SettingsFor(stand_in), "lustre", {}, {}, FastBackoff());
  std::string error;
  EXPECT_TRUE(mover.Start(&error)) << error;
  EXPECT_EQ(stand_in.connections(), 4u);
  EXPECT_EQ(log.Count("ehlo refused: id already used; next attempt within"), 3u)
      << log.text();
}

// connect_wait_ms bounds the wait: register then fails, saying why.
TEST(MoverTest, StartGivesUpAfterConnectWait) {
  StandIn stand_in(R"({"command":"ehlo","status":0})", /*listening=*/false);
  ASSERT_NE(stand_in.port(), "");
  StderrCapture log;
  config::ClientSettings settings = SettingsFor(stand_in);
  settings.connect_wait_ms = 50;
  Mover mover(settings, "lustre", {}, {}, FastBackoff());
  std::string error;
  EXPECT_FALSE(mover.Start(&error));
  EXPECT_NE(error.find("cannot connect to 127.0.0.1:" + stand_in.port()),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("(connect_wait_ms 50)"), std::string::npos) << error;
  EXPECT_GE(log.Count("next attempt within"), 1u) << log.text();

  settings.connect_wait_ms = 0;  // not at all: the first failure is final
  Mover once(settings, "lustre", {}, {}, FastBackoff());
  EXPECT_FALSE(once.Start(&error));
}

// Issue 17: several servers (the `host` list). The first that answers is
// used, in the order given.
TEST(MoverFailoverTest, StartTakesTheFirstServerThatAnswers) {
  StandIn down(R"({"command":"ehlo","status":0})", /*listening=*/false);
  StandIn up;
  ASSERT_NE(down.port(), "");
  ASSERT_NE(up.port(), "");
  config::ClientSettings settings = SettingsFor(up);
  settings.hosts = {"127.0.0.1:" + down.port(), "127.0.0.1"};
  StderrCapture log;
  Mover mover(settings, "lustre", {}, {}, FastBackoff());
  std::string error;
  ASSERT_TRUE(mover.Start(&error)) << error;
  ASSERT_TRUE(WaitFor([&] { return up.ready() == 1; }, 20s));
  EXPECT_EQ(up.commands()[0],
            (std::vector<std::string>{"ehlo(quiet)", "recv"}));
  EXPECT_EQ(log.Count("next attempt"), 0u) << log.text();
}

std::string StandbyAnswer(const std::string& command,
                          const std::string& leader) {
  return R"({"command":")" + command +
         R"(","status":11,"error":"standby: the leader is )" + leader +
         R"(","leader":")" + leader + R"("})";
}

// A standby names the leader, which is tried next even when it is not in
// the list.
TEST(MoverFailoverTest, StartFollowsAStandbyToTheLeader) {
  StandIn leader;
  ASSERT_NE(leader.port(), "");
  StandIn standby(StandbyAnswer("ehlo", "127.0.0.1:" + leader.port()));
  ASSERT_NE(standby.port(), "");
  Mover mover(SettingsFor(standby), "lustre", {}, {}, FastBackoff());
  std::string error;
  ASSERT_TRUE(mover.Start(&error)) << error;
  ASSERT_TRUE(WaitFor([&] { return leader.ready() == 1; }, 20s));
  EXPECT_EQ(standby.connections(), 1u);
  EXPECT_EQ(standby.commands()[0], std::vector<std::string>{"ehlo(quiet)"});
  EXPECT_EQ(leader.commands()[0],
            (std::vector<std::string>{"ehlo(quiet)", "recv"}));
}

// A standby that knows no leader yet, alone in the list: the mover waits
// (at most kStandbyRetryCap between rounds) and does not give up.
TEST(MoverFailoverTest, AStandbyWithoutLeaderIsWaitedFor) {
  StandIn standby(R"({"command":"ehlo","status":11,"error":"standby"})");
  ASSERT_NE(standby.port(), "");
  standby.ReplyFrom(2, R"({"command":"ehlo","status":0})");
  StderrCapture log;
  Mover mover(SettingsFor(standby), "lustre", {}, {}, FastBackoff());
  std::string error;
  ASSERT_TRUE(mover.Start(&error)) << error;
  EXPECT_EQ(standby.connections(), 3u);
  EXPECT_EQ(log.Count(": standby, no leader yet; next attempt within"), 2u)
      << log.text();
}

// The server is lost for good: the mover moves to the next server of its
// list by itself, and re-announces there what it still runs.
TEST(MoverFailoverTest, MovesToTheNextServerWhenItsServerDies) {
  auto first = std::make_unique<StandIn>();
  StandIn second;
  ASSERT_NE(first->port(), "");
  ASSERT_NE(second.port(), "");
  config::ClientSettings settings = SettingsFor(second);
  const std::string first_address = "127.0.0.1:" + first->port();
  settings.hosts = {first_address, "127.0.0.1:" + second.port()};
  StderrCapture log;
  Mover mover(settings, "lustre", {}, {}, FastBackoff());
  std::string error;
  ASSERT_TRUE(mover.Start(&error)) << error;
  ASSERT_TRUE(WaitFor([&] { return first->ready() == 1; }, 20s));
  first.reset();  // the server dies: connections and port closed

  char buffer[4096];
  ASSERT_TRUE(WaitFor(
      [&] {
        mover.Recv(buffer, sizeof(buffer), /*nonblocking=*/true);
        return second.ready() == 1;
      },
      20s));
  EXPECT_EQ(second.commands()[0],
            (std::vector<std::string>{"ehlo(quiet)", "recv"}));
  EXPECT_NE(log.text().find("reconnected to 127.0.0.1:" + second.port() +
                            " (was " + first_address + ")"),
            std::string::npos)
      << log.text();
}

// A server that stepped down answers as a standby on the open session:
// the mover leaves it for the leader it names.
TEST(MoverFailoverTest, AStandbyAnswerOnTheSessionMovesToTheLeader) {
  StandIn leader;
  StandIn stepped_down;
  ASSERT_NE(leader.port(), "");
  ASSERT_NE(stepped_down.port(), "");
  stepped_down.ReplyToRecv(StandbyAnswer("recv", "127.0.0.1:" + leader.port()));
  StderrCapture log;
  Mover mover(SettingsFor(stepped_down), "lustre", {}, {}, FastBackoff());
  std::string error;
  ASSERT_TRUE(mover.Start(&error)) << error;
  char buffer[4096];
  int rc = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        rc = mover.Recv(buffer, sizeof(buffer), /*nonblocking=*/true);
        return leader.ready() == 1;
      },
      20s))
      << log.text();
  EXPECT_EQ(rc, -EAGAIN);  // the copytool saw nothing but a wait
  EXPECT_EQ(leader.commands()[0],
            (std::vector<std::string>{"ehlo(quiet)", "recv"}));
  EXPECT_EQ(log.Count("answered recv as a standby (the leader is 127.0.0.1:" +
                      leader.port() + "): moving"),
            1u)
      << log.text();
}

}  // namespace
}  // namespace preload
