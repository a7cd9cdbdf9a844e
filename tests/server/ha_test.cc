// Issue 17, leader and standby (docs/high-availability.md): two
// coordinatool servers of one file system on one redis-server, each with a
// lease of 1 s, the simulator, and ct-posix movers under the preload
// library that know both servers.
//  - A leader SIGSTOPped past its lease: the standby takes over; the old
//    leader, SIGCONTed, sends nothing more and exits with 75; the mover
//    moves to the new leader and every request ends once.
//  - A leader whose lease keeper is frozen (it never notices the lease
//    ran out): its writes are fenced, nothing reaches the mover or Redis,
//    it exits with 75.
//  - The leader SIGKILLed again and again under a mixed workload: every
//    request ends at Lustre once; takeover times printed.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client/session.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/server/store_fixture.h"
#include "tests/support/file_data.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One coordinatool server of the pair, on a port chosen in advance (the
// movers are told both addresses before either starts).
class HaServer {
 public:
  HaServer(std::string name, std::string log_dir, int port)
      : name_(std::move(name)), log_dir_(std::move(log_dir)), port_(port) {}

  std::string address() const { return fmt::format("127.0.0.1:{}", port_); }
  int port() const { return port_; }
  Process& process() { return process_; }
  const std::string& log() const { return log_; }
  std::string Log() const { return ReadText(log_); }

  // Starts it with `args` (and the mount) and waits until it listens.
  ::testing::AssertionResult Start(
      const std::vector<std::string>& args,
      const std::vector<std::pair<std::string, std::string>>& env = {}) {
    log_ = fmt::format("{}/{}-{}.log", log_dir_, name_, ++starts_);
    std::vector<std::string> argv = {CoordinatoolBinary(), "-H", "127.0.0.1",
                                     "-p", std::to_string(port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    SpawnOptions options;
    options.stdout_path = options.stderr_path = log_;
    options.env = {{"COORDINATOOL_CONF", "/dev/null"}};
    options.env.insert(options.env.end(), env.begin(), env.end());
    std::string error;
    process_ = Process::Spawn(argv, options, &error);
    if (process_.pid() < 0) return ::testing::AssertionFailure() << error;
    if (!WaitFor([&] {
          return Log().find("listening for") != std::string::npos ||
                 !process_.Running();
        }) ||
        !process_.Running())
      return ::testing::AssertionFailure() << name_ << " did not start:\n"
                                           << Log();
    return ::testing::AssertionSuccess();
  }

  // The status reply, asked without ehlo (a standby answers it too); an
  // empty object when the server does not answer.
  json::object Status() const {
    client::Session session;
    std::string error;
    json::object reply;
    session.set_connect_timeout_ms(2000);
    if (!session.Connect("127.0.0.1", std::to_string(port_), &error) ||
        !session.Call({{"command", "status"}}, &reply, 5000, &error))
      return {};
    return reply;
  }
  std::string Role() const {
    json::object status = Status();
    const json::value* role = status.if_contains("role");
    return role && role->is_string() ? std::string(role->get_string()) : "";
  }

 private:
  const std::string name_;
  const std::string log_dir_;
  const int port_;
  int starts_ = 0;
  std::string log_;
  Process process_;
};

class HaTest : public StoreFixture {
 protected:
  HaTest() : StoreFixture("redis") {}

  void SetUp() override {
    StoreFixture::SetUp();
    for (const char* name : {"a", "b"}) {
      const int port = FreeLoopbackPort();
      ASSERT_GT(port, 0);
      servers_.push_back(
          std::make_unique<HaServer>(name, sim_.archive() + "/../logs", port));
    }
    // Movers are started through cdt_, which names its port in their
    // environment; COORDINATOOL_HOST gives them both servers.
    cdt_.set_port(servers_[0]->port());
  }

  HaServer& a() { return *servers_[0]; }
  HaServer& b() { return *servers_[1]; }
  std::string Both() const {
    return servers_[0]->address() + "," + servers_[1]->address();
  }

  std::vector<std::string> HaArgs(std::vector<std::string> extra = {},
                                  int lease_ms = 1000) {
    std::vector<std::string> args = ServerArgs(
        {"--store", "redis", "--ha-lease", std::to_string(lease_ms), "-v"});
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(sim_.mount());
    return args;
  }

  std::vector<std::string> MakeFiles(const std::string& name, int count,
                                     uint64_t size = 5000) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      std::string path = sim_.Path(name + std::to_string(i));
      EXPECT_TRUE(WriteTestFile(path, size + 13 * i, i)) << path;
      paths.push_back(path);
    }
    return paths;
  }

  // Every record of hsm.actions final and SUCCEED, `count` of them, one
  // per cookie.
  void ExpectAllSucceededOnce(size_t count) {
    ASSERT_TRUE(WaitFor([&] {
      auto actions = sim_.Actions();
      if (actions.size() < count) return false;
      for (const ActionRecord& r : actions)
        if (r.status() != "SUCCEED") return false;
      return true;
    })) << sim_.GetParam("hsm.actions")
        << Logs();
    std::map<std::string, int> per_cookie;
    for (const ActionRecord& r : sim_.Actions()) ++per_cookie[CookieOf(r)];
    EXPECT_EQ(per_cookie.size(), count);
    for (const auto& [cookie, n] : per_cookie) EXPECT_EQ(n, 1) << cookie;
  }

  std::string Logs() const {
    std::string text;
    for (const auto& s : servers_)
      text += "\n--- server log " + s->log() + ":\n" + s->Log();
    return text + cdt_.Logs();
  }

  // Files the movers' copytool wrote to the archive.
  size_t ArchivedCopies() const {
    size_t n = 0;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(sim_.archive()))
      n += entry.is_regular_file();
    return n;
  }

  // The wait status of `server`'s process once it exited by itself.
  std::optional<int> ExitStatus(HaServer& server) {
    return server.process().Wait(std::chrono::seconds(30));
  }

  std::vector<std::unique_ptr<HaServer>> servers_;
};

TEST_F(HaTest, StandbyAnswersWithTheLeaderAndItsOwnStatus) {
  ASSERT_TRUE(a().Start(HaArgs()));
  ASSERT_TRUE(WaitFor([&] { return a().Role() == "leader"; })) << Logs();
  ASSERT_TRUE(b().Start(HaArgs()));
  // A standby says so from its start, and names the leader once its first
  // look at the lease has answered: wait for both.
  json::object status;
  ASSERT_TRUE(WaitFor([&] {
    status = b().Status();
    return status["role"] == "standby" && status.contains("leader");
  })) << Logs();
  EXPECT_EQ(status["leader"], a().address().c_str());
  EXPECT_EQ(a().Status()["epoch"], 1);
  // Only the leader registered with Lustre.
  EXPECT_EQ(sim_.AgentCount(), 1u);

  // coordinatool-client status of the standby alone: its own status.
  SpawnOptions quiet;
  quiet.env = {{"COORDINATOOL_CONF", "/dev/null"}};
  CommandResult own =
      RunCommand({CoordinatoolClientBinary(), "-H", b().address(), "--json"},
                 std::chrono::seconds(30), quiet);
  ASSERT_TRUE(own.ok()) << own.Describe();
  EXPECT_NE(own.out.find("\"role\": \"standby\""), std::string::npos)
      << own.out;
  // With both servers listed, the standby first: the leader's status.
  CommandResult led =
      RunCommand({CoordinatoolClientBinary(), "-H",
                  b().address() + "," + a().address(), "--json"},
                 std::chrono::seconds(30), quiet);
  ASSERT_TRUE(led.ok()) << led.Describe();
  EXPECT_NE(led.out.find("\"role\": \"leader\""), std::string::npos) << led.out;

  // A mover that lists the standby first moves with the leader.
  ASSERT_NE(cdt_.SpawnMover("m1", {{"COORDINATOOL_HOST",
                                    b().address() + "," + a().address()}}),
            nullptr);
  Lfs("hsm_archive", MakeFiles("f", 5));
  ExpectAllSucceededOnce(5);
}

TEST_F(HaTest, ALeaderPausedPastItsLeaseStepsDownAndTheStandbyTakesOver) {
  ASSERT_TRUE(a().Start(HaArgs()));
  ASSERT_TRUE(WaitFor([&] { return a().Role() == "leader"; })) << Logs();
  ASSERT_TRUE(b().Start(HaArgs()));
  ASSERT_TRUE(WaitFor([&] { return b().Role() == "standby"; })) << Logs();
  // 1 MiB/s: the 2 MiB archive runs while the leader is paused.
  Process* mover = cdt_.SpawnMover("m1", {{"COORDINATOOL_HOST", Both()}},
                                   {"--bandwidth", "1"});
  ASSERT_NE(mover, nullptr);
  std::vector<std::string> files = MakeFiles("slow", 1, 2 << 20);
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("ARCHIVE", "STARTED") == 1 &&
           a().Log().find("mover=m1") != std::string::npos;
  })) << Logs();

  ASSERT_EQ(a().process().Signal(SIGSTOP), 0);
  const auto paused = Clock::now();
  ASSERT_TRUE(WaitFor([&] { return b().Role() == "leader"; })) << Logs();
  const auto took_over = Clock::now();
  EXPECT_EQ(b().Status()["epoch"], 2);
  // The lease lapsed before the standby could take it.
  EXPECT_GE(took_over - paused, std::chrono::milliseconds(600));
  // New work while the old leader sleeps.
  std::vector<std::string> more = MakeFiles("more", 3);
  Lfs("hsm_archive", more);

  ASSERT_EQ(a().process().Signal(SIGCONT), 0);
  std::optional<int> status = ExitStatus(a());
  ASSERT_TRUE(status.has_value()) << Logs();
  ASSERT_TRUE(WIFEXITED(*status)) << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 75) << Logs();
  EXPECT_NE(a().Log().find("stepping down"), std::string::npos) << a().Log();
  // Requests the sleeping leader's registration received come back through
  // the reconciler's pass, here run by hand as it would.
  std::string active = sim_.GetParam("hsm.active_requests");
  if (!active.empty()) {
    std::string input = sim_.archive() + "/../logs/active.txt";
    std::ofstream(input) << active;
    CommandResult r =
        RunCommand({"/bin/sh", "-c", "exec \"$0\" \"$@\" < " + input,
                    CoordinatoolClientBinary(), "-H", b().address(), "-Q"});
    EXPECT_TRUE(r.ok()) << r.Describe();
  }
  ExpectAllSucceededOnce(4);
  EXPECT_TRUE(mover->Running());
  // The mover moved to the new leader.
  EXPECT_NE(cdt_.MoverLog("m1").find("reconnected to " + b().address()),
            std::string::npos)
      << cdt_.MoverLog("m1");
}

TEST_F(HaTest, ALeaderThatMissedItsLeaseIsFencedAndSendsNothing) {
  // The leader's keeper frozen: it never renews nor sees its lease end,
  // so only the fencing of its writes can stop it.
  ASSERT_TRUE(a().Start(HaArgs(), {{"COORDINATOOL_TEST_FREEZE_LEASE", "1"}}));
  ASSERT_TRUE(WaitFor([&] {
    return a().Log().find("took over") != std::string::npos;
  })) << Logs();
  // Requests stored by the first leader.
  std::vector<std::string> files = MakeFiles("f", 3);
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] {
    return redis_->HGetAll("coordinatool_requests").size() == 3;
  })) << Logs();
  // Its lease lapses in Redis (never renewed): the standby takes over.
  ASSERT_TRUE(b().Start(HaArgs()));
  ASSERT_TRUE(WaitFor([&] { return b().Role() == "leader"; })) << Logs();
  EXPECT_EQ(b().Status()["epoch"], 2);

  // A mover that knows only the old leader asks it for work: it places the
  // requests, but the assignment is fenced, and nothing is sent.
  Process* stale =
      cdt_.SpawnMover("stale", {{"COORDINATOOL_HOST", a().address()}});
  ASSERT_NE(stale, nullptr);
  std::optional<int> status = ExitStatus(a());
  ASSERT_TRUE(status.has_value()) << Logs();
  ASSERT_TRUE(WIFEXITED(*status)) << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 75) << Logs();
  EXPECT_NE(a().Log().find("FENCED"), std::string::npos) << a().Log();
  EXPECT_TRUE(redis_->HGetAll("coordinatool_assigned").empty());
  EXPECT_EQ(sim_.CountActions("ARCHIVE", "SUCCEED"), 0u);
  // The mover was given nothing: no archive copy was made.
  EXPECT_EQ(ArchivedCopies(), 0u);

  // The new leader's mover does the work, once each.
  ASSERT_NE(cdt_.SpawnMover("m1", {{"COORDINATOOL_HOST", Both()}}), nullptr);
  ExpectAllSucceededOnce(3);
}

// The leader SIGKILLed kLeaderKills times, alternating between the two
// servers (the killed one started again as a standby each time), under a
// mixed workload of archives, restores and removes; the reconciler runs
// next to the MDT as on a site. Every request ends at Lustre once, with
// success; restored files have their bytes. Takeover time: from the kill
// to the new leader's first request sent to a mover.
TEST_F(HaTest, TwentyLeaderKillsUnderAMixedWorkloadLoseNothing) {
  constexpr int kLeaderKills = 20;
  constexpr int kLeaseMs = 600;
  const std::vector<std::string> args = HaArgs({}, kLeaseMs);
  ASSERT_TRUE(a().Start(args));
  ASSERT_TRUE(WaitFor([&] { return a().Role() == "leader"; })) << Logs();
  ASSERT_TRUE(b().Start(args));
  for (const char* id : {"m1", "m2"})
    ASSERT_NE(cdt_.SpawnMover(id, {{"COORDINATOOL_HOST", Both()}}), nullptr);
  // The reconciler, with both servers: it gives a new leader what Lustre
  // had sent to the dead one and that was not stored yet.
  SpawnOptions reconciler_options;
  reconciler_options.stdout_path = reconciler_options.stderr_path =
      sim_.archive() + "/../logs/reconciler.log";
  reconciler_options.env = {{"COORDINATOOL_CONF", "/dev/null"}};
  std::string error;
  Process reconciler =
      Process::Spawn({CoordinatoolClientBinary(), "-H", Both(), "--reconcile",
                      "--interval", "2", "--active-requests-command",
                      SimLctlBinary() + " --mount " + sim_.mount() +
                          " get_param -n 'mdt.*.hsm.active_requests'"},
                     reconciler_options, &error);
  ASSERT_GT(reconciler.pid(), 0) << error;

  std::map<std::string, uint64_t> digest;  // of every file written
  std::vector<std::string> archived;       // archives asked for
  std::set<std::string> restored, removed;
  auto add_files = [&](const std::string& name, int count) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      std::string path = sim_.Path(name + std::to_string(i));
      auto d = WriteTestFile(path, 3000 + 7 * digest.size(), digest.size());
      EXPECT_TRUE(d.has_value());
      digest[path] = d.value_or(0);
      paths.push_back(path);
    }
    return paths;
  };
  // Files archived by now with nothing pending: a restore (after a
  // release) of one, a remove of another.
  auto restore_and_remove = [&] {
    std::vector<std::string> restore, remove;
    for (const std::string& path : archived) {
      if (restored.count(path) || removed.count(path)) continue;
      if (sim_.Lfs({"hsm_action", path}).out.find(": NOOP") ==
          std::string::npos)
        continue;
      std::string state = sim_.Lfs({"hsm_state", path}).out;
      if (state.find("archived") == std::string::npos ||
          state.find("released") != std::string::npos)
        continue;
      if (restore.empty()) {
        restore.push_back(path);
        restored.insert(path);
      } else {
        remove.push_back(path);
        removed.insert(path);
        break;
      }
    }
    Lfs("hsm_release", restore);
    Lfs("hsm_restore", restore);
    Lfs("hsm_remove", remove);
  };

  std::vector<double> takeover_ms;
  int leader = 0;
  for (int kill = 0; kill < kLeaderKills; ++kill) {
    HaServer& old_leader = *servers_[leader];
    HaServer& next = *servers_[1 - leader];
    // Work in flight at the kill: new archives, restores, removes.
    std::vector<std::string> batch = add_files(fmt::format("k{}_", kill), 3);
    Lfs("hsm_archive", batch);
    archived.insert(archived.end(), batch.begin(), batch.end());
    restore_and_remove();
    ASSERT_TRUE(WaitFor([&] { return next.Role() == "standby"; })) << Logs();
    const std::string log_before = next.Log();
    old_leader.process().Kill();
    const auto killed = Clock::now();
    // Work that only the next leader can send.
    std::vector<std::string> after = add_files(fmt::format("a{}_", kill), 1);
    Lfs("hsm_archive", after);
    archived.insert(archived.end(), after.begin(), after.end());
    ASSERT_TRUE(WaitFor(
        [&] {
          const std::string text = next.Log();
          return text.size() > log_before.size() &&
                 text.find("request sent", log_before.size()) !=
                     std::string::npos;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(10)))
        << "kill " << kill << Logs();
    takeover_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - killed)
            .count());
    // The killed one comes back as a standby, as systemd would start it.
    ASSERT_TRUE(old_leader.Start(args)) << Logs();
    leader = 1 - leader;
  }

  // Everything ends once, with success.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto actions = sim_.Actions();
        size_t expected = archived.size() + restored.size() + removed.size();
        if (actions.size() < expected) return false;
        for (const ActionRecord& r : actions)
          if (r.status() != "SUCCEED") return false;
        return true;
      },
      std::chrono::seconds(120)))
      << sim_.GetParam("hsm.actions") << Logs();
  std::map<std::string, int> per_cookie;
  for (const ActionRecord& r : sim_.Actions()) ++per_cookie[CookieOf(r)];
  EXPECT_EQ(per_cookie.size(),
            archived.size() + restored.size() + removed.size());
  for (const auto& [cookie, n] : per_cookie) EXPECT_EQ(n, 1) << cookie;
  for (const std::string& path : restored)
    EXPECT_EQ(DigestFile(path), digest[path]) << path;

  std::sort(takeover_ms.begin(), takeover_ms.end());
  const double bound_ms = 2.0 * kLeaseMs + 5000;
  fmt::print(
      "takeover (kill to the new leader's first request sent), {} kills, "
      "lease {} ms: min {:.0f} ms, median {:.0f} ms, max {:.0f} ms (bound "
      "{:.0f} ms)\n",
      takeover_ms.size(), kLeaseMs, takeover_ms.front(),
      takeover_ms[takeover_ms.size() / 2], takeover_ms.back(), bound_ms);
  // A generous bound from the lease: its remaining life and the standby's
  // next try (2 leases), plus loading, registering and the movers'
  // reconnection.
  EXPECT_LT(takeover_ms.back(), bound_ms);
}

}  // namespace
}  // namespace testing_support
