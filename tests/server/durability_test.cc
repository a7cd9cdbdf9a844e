// Issue 4, end to end: no request is ever lost or done twice when the
// server, its store or a mover crashes, with the embedded journal and with a
// real redis-server; the original's Redis schema is recovered; stale work
// is taken back from a hung mover.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "client/active_requests.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/server/store_fixture.h"
#include "tests/support/file_data.h"
#include "tests/support/redis_server.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

bool Final(const std::string& status) {
  return status == "SUCCEED" || status == "FAILED" || status == "CANCELED";
}

// The server restarted on its store, and what every run must end with.
class DurabilityFixture : public StoreFixture {
 protected:
  explicit DurabilityFixture(std::string kind)
      : StoreFixture(std::move(kind), {"-v"}) {}

  // What the systemd unit's post-start step does: requests Lustre lists as
  // active but the store lacks (read from the channel, not yet durable at
  // the crash) are queued again; known ones are skipped.
  ::testing::AssertionResult RequeueActive() {
    std::string active = sim_.GetParam("hsm.active_requests");
    if (active.empty()) return ::testing::AssertionSuccess();
    CommandResult r = cdt_.Client({"-Q"}, active);
    if (r.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r.Describe();
  }

  ::testing::AssertionResult Restart(std::vector<std::string> extra = {}) {
    cdt_.KillServer();
    auto started = cdt_.StartServer(ServerArgs(std::move(extra)));
    if (!started) return started;
    return RequeueActive();
  }

  std::vector<std::string> MakeFiles(const std::string& name, int count,
                                     uint64_t max_size) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      std::string path = sim_.Path(name + std::to_string(i));
      EXPECT_TRUE(WriteTestFile(path, (uint64_t(i) * 7919) % max_size, i));
      paths.push_back(path);
    }
    return paths;
  }

  // Every record of hsm.actions is final, there are `count` of them, one per
  // cookie, all SUCCEED; every success was reported to a server at most
  // once; nothing is left queued or running.
  void ExpectAllDoneOnce(size_t count) {
    ASSERT_TRUE(WaitFor(
        [&] {
          auto actions = sim_.Actions();
          if (actions.size() < count) return false;
          for (const ActionRecord& r : actions)
            if (!Final(r.status())) return false;
          return true;
        },
        std::chrono::seconds(120)))
        << sim_.GetParam("hsm.actions") << cdt_.Logs();
    std::map<std::string, int> per_cookie;
    for (const ActionRecord& r : sim_.Actions()) {
      ++per_cookie[CookieOf(r)];
      EXPECT_EQ(r.status(), "SUCCEED") << r.line;
    }
    EXPECT_EQ(sim_.Actions().size(), count);
    for (const auto& [cookie, n] : per_cookie) EXPECT_EQ(n, 1) << cookie;
    std::map<std::string, int> successes;
    std::regex done(R"(done \S+ cookie (0x[0-9a-f]+) status 0$)");
    for (const std::string& line : cdt_.ServerLogLines("done .* status 0$")) {
      std::smatch m;
      if (std::regex_search(line, m, done)) ++successes[m[1]];
    }
    for (const auto& [cookie, n] : successes)
      EXPECT_LE(n, 1) << "cookie " << cookie << " completed " << n << " times";
    EXPECT_TRUE(WaitFor([&] {
      json::object s = cdt_.Status();
      for (const char* key :
           {"running_archive", "running_restore", "running_remove",
            "pending_archive", "pending_restore", "pending_remove"})
        if (s.contains(key) && s.at(key).as_int64() != 0) return false;
      return true;
    })) << cdt_.Logs();
  }

  // The store holds nothing once everything is done: a restarted server
  // recovers no request.
  void ExpectStoreEmpty() {
    if (redis_) {
      EXPECT_TRUE(WaitFor([&] {
        return redis_->HGetAll("coordinatool_requests").empty() &&
               redis_->HGetAll("coordinatool_assigned").empty();
      })) << "left in Redis: "
          << redis_->HGetAll("coordinatool_requests").size();
    }
    ASSERT_TRUE(Restart());
    auto lines = cdt_.ServerLogLines("recovered \\d+ requests");
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines.back().find("recovered 0 requests"), std::string::npos)
        << lines.back();
  }
};

class DurabilityTest : public DurabilityFixture,
                       public ::testing::WithParamInterface<std::string> {
 protected:
  DurabilityTest() : DurabilityFixture(GetParam()) {}
};

class RedisStoreE2eTest : public DurabilityFixture {
 protected:
  RedisStoreE2eTest() : DurabilityFixture("redis") {}
};

class EmbeddedStoreE2eTest : public DurabilityFixture {
 protected:
  EmbeddedStoreE2eTest() : DurabilityFixture("embedded") {}
};

// Size of the crash loop, from the environment (for long runs by hand):
// COORDINATOOL_CRASH_SERVER_KILLS (rounds, each ending in a server kill),
// COORDINATOOL_CRASH_MOVER_KILLS, COORDINATOOL_CRASH_FILES. The defaults
// keep a CI run near a minute per store.
int EnvCount(const char* name, int fallback) {
  const char* value = getenv(name);
  return value && atoi(value) > 0 ? atoi(value) : fallback;
}

// Per cookie, how many times a mover finished `action` (ct-posix logs
// "<ACTION> [fid] cookie=0x... done" once per run), from every mover log.
std::map<std::string, int> RunsOf(const std::string& logs_dir,
                                  const std::string& action) {
  std::map<std::string, int> runs;
  std::regex done(action + R"( \[\S+\] cookie=(0x[0-9a-f]+) done)");
  for (const auto& entry : std::filesystem::directory_iterator(logs_dir)) {
    if (entry.path().filename().string().rfind("mover-", 0) != 0) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (std::regex_search(line, m, done)) ++runs[m[1]];
    }
  }
  return runs;
}

// Issue 4 and issue 10: under a continuous mixed workload (archives,
// releases and restores, removes, and archives again of removed files) with
// three movers, the server is killed with SIGKILL at random moments (one
// round in three it kills itself right after reading requests from Lustre,
// before storing them: COORDINATOOL_TEST_KILL_AFTER_READS) and movers are
// killed in the middle of their transfers (restores included), restarted
// under their own id or another. Every request ends at Lustre exactly once,
// no REMOVE or restore runs twice, no archive copy is lost and no file's
// data changes (every archived file is released and restored at the end).
TEST_P(DurabilityTest, CrashLoopLosesNothingAndDoublesNothing) {
  const int kRounds = EnvCount("COORDINATOOL_CRASH_SERVER_KILLS", 20);
  const int kMoverKills = EnvCount("COORDINATOOL_CRASH_MOVER_KILLS", 6);
  const int kFiles = EnvCount("COORDINATOOL_CRASH_FILES", 240);
  const int kPerRound = std::max(1, kFiles / kRounds);
  // Retries allowed, as sites that want them set it. A restore a dead
  // mover's copy had bound to its volatile cannot be retried (Lustre sends
  // it again bound; docs/lustre.md): the server fails it, and the file is
  // restored again at the end. Every other request succeeds.
  ASSERT_TRUE(sim_.SetParam("hsm.policy", "-NRA"));
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  std::vector<std::string> movers = {"m1", "m2", "m3"};
  std::vector<Process*> mover_process;
  for (const std::string& id : movers)
    mover_process.push_back(cdt_.StartMover(id, {}, {"-b", "4"}));
  for (Process* p : mover_process) ASSERT_NE(p, nullptr);
  auto files = MakeFiles("f", kRounds * kPerRound, 1 << 20);
  std::map<std::string, uint64_t> digest;
  for (const std::string& path : files) digest[path] = *DigestFile(path);
  std::mt19937 random(redis() ? 2 : 1);
  auto state = [&](const std::string& path) {
    return sim_.Lfs({"hsm_state", path}).out;
  };
  auto has = [](const std::string& text, const char* word) {
    return text.find(word) != std::string::npos;
  };
  auto contains = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  int server_kills = 0, self_kills = 0, mover_kills = 0;
  // Rounds that kill a mover (every round kills one more when there are
  // more mover kills than rounds).
  std::vector<int> kills_in_round(kRounds, kMoverKills / kRounds);
  for (int i = 0; i < kMoverKills % kRounds; ++i)
    ++kills_in_round[(i * kRounds) / (kMoverKills % kRounds)];
  // One round's requests: new archives, then on files of earlier rounds
  // restores, removes, and archives again of files whose copy was removed.
  auto issue = [&](int round) {
    std::vector<std::string> batch(files.begin() + round * kPerRound,
                                   files.begin() + (round + 1) * kPerRound);
    Lfs("hsm_archive", batch);
    if (round >= 3) {
      // Files of earlier rounds: restore some archived ones, remove some,
      // and archive again some whose archive copy was removed.
      std::vector<std::string> restore, remove, again;
      for (int i = 0; i < 8; ++i) {
        const std::string& path = files[std::uniform_int_distribution<int>(
            0, (round - 2) * kPerRound - 1)(random)];
        if (contains(restore, path) || contains(remove, path) ||
            contains(again, path))
          continue;
        // Only files with nothing pending at Lustre: a release or a remove
        // would make a pending request fail.
        if (!has(sim_.Lfs({"hsm_action", path}).out, ": NOOP")) continue;
        std::string s = state(path);
        if (has(s, "released")) continue;
        if (!has(s, "archived")) {
          if (!has(s, "exists")) again.push_back(path);
          continue;
        }
        (i % 2 == 0 ? restore : remove).push_back(path);
      }
      Lfs("hsm_release", restore);
      Lfs("hsm_restore", restore);
      Lfs("hsm_remove", remove);
      Lfs("hsm_archive", again);
    }
  };
  for (int round = 0; round < kRounds; ++round) {
    const bool self_kill = round % 3 == 2;
    if (!self_kill) issue(round);
    for (int kill = 0; kill < kills_in_round[round]; ++kill) {
      // A mover dies in the middle of what it runs; it comes back under
      // its own id (a restart) or another one (a replacement).
      size_t k = std::uniform_int_distribution<size_t>(0, 2)(random);
      WaitFor(
          [&] {
            return cdt_.ClientNumber(movers[k], "current_archive") +
                       cdt_.ClientNumber(movers[k], "current_restore") >
                   0;
          },
          std::chrono::milliseconds(1500), std::chrono::milliseconds(20));
      mover_process[k]->Kill();
      ++mover_kills;
      if (mover_kills % 2 == 0) movers[k] += "x";
      mover_process[k] = cdt_.StartMover(movers[k], {}, {"-b", "4"});
      ASSERT_NE(mover_process[k], nullptr);
    }
    if (self_kill) {
      // The next server dies right after reading its first request from
      // Lustre, before storing it.
      cdt_.KillServer();
      setenv("COORDINATOOL_TEST_KILL_AFTER_READS", "1", 1);
      ASSERT_TRUE(cdt_.StartServer(ServerArgs())) << cdt_.Logs();
      unsetenv("COORDINATOOL_TEST_KILL_AFTER_READS");
      (void)RequeueActive();  // fails if it is dead already
      issue(round);           // what it reads first is not stored
      if (WaitFor([&] { return !cdt_.server().Running(); },
                  std::chrono::milliseconds(2000)))
        ++self_kills;
    } else {
      std::uniform_int_distribution<int> pause_ms(0, 300);
      WaitFor([] { return false; }, std::chrono::milliseconds(pause_ms(random)),
              std::chrono::milliseconds(10));  // the random moment
    }
    ++server_kills;
    ASSERT_TRUE(Restart()) << cdt_.Logs();
  }
  // Every request final, then every archived file released and restored.
  auto all_final = [&] {
    for (const ActionRecord& r : sim_.Actions())
      if (!Final(r.status())) return false;
    return true;
  };
  ASSERT_TRUE(WaitFor(all_final, std::chrono::seconds(240)))
      << sim_.GetParam("hsm.actions") << cdt_.Logs();
  std::vector<std::string> archived, released;
  for (const std::string& path : files) {
    std::string s = state(path);
    if (!has(s, "archived") || has(s, "dirty")) continue;
    // Released: its restore was a bound one, failed.
    (has(s, "released") ? released : archived).push_back(path);
  }
  Lfs("hsm_release", archived);
  archived.insert(archived.end(), released.begin(), released.end());
  Lfs("hsm_restore", archived);
  ASSERT_TRUE(WaitFor(all_final, std::chrono::seconds(240)))
      << sim_.GetParam("hsm.actions") << cdt_.Logs();

  // The figures.
  std::map<std::string, int> per_cookie;
  size_t requests = 0, not_succeeded = 0, bound_failed = 0;
  for (const ActionRecord& r : sim_.Actions()) {
    ++requests;
    ++per_cookie[CookieOf(r)];
    if (r.status() == "SUCCEED") continue;
    if (r.action() == "RESTORE" && r.status() == "FAILED" &&
        !cdt_.ServerLogLines(CookieOf(r) +
                             ": a retry of a bound restore cannot succeed")
             .empty()) {
      ++bound_failed;  // the server could only fail it (see above)
      continue;
    }
    ++not_succeeded;
    ADD_FAILURE() << r.line;
  }
  size_t ended_twice = 0;
  for (const auto& [cookie, n] : per_cookie) ended_twice += n > 1;
  const std::string logs_dir = sim_.archive() + "/../logs";
  size_t run_twice = 0;
  for (const char* action : {"REMOVE", "RESTORE"})
    for (const auto& [cookie, n] : RunsOf(logs_dir, action))
      if (n > 1) {
        ++run_twice;
        ADD_FAILURE() << action << " cookie " << cookie << " ran " << n
                      << " times";
      }
  size_t wrong_data = 0;
  for (const std::string& path : files)
    if (DigestFile(path) != digest[path]) {
      ++wrong_data;
      ADD_FAILURE() << path << ": data changed; " << state(path);
    }
  int64_t lost = 0;
  json::object s = cdt_.Status();
  for (const char* key :
       {"running_archive", "running_restore", "running_remove",
        "pending_archive", "pending_restore", "pending_remove"})
    if (s.contains(key)) lost += s.at(key).as_int64();
  fmt::print(stderr,
             "crash loop ({}): requests {}, server kills {} ({} after reading "
             "from Lustre, before storing), mover kills {}, lost {}, not "
             "succeeded {} (and {} bound restores failed), ended twice {}, "
             "REMOVEs or restores run twice {}, files with wrong data {} (of "
             "{}, {} restored at the end)\n",
             kind_, requests, server_kills, self_kills, mover_kills, lost,
             not_succeeded, bound_failed, ended_twice, run_twice, wrong_data,
             files.size(), archived.size());
  EXPECT_EQ(ended_twice, 0u);
  EXPECT_EQ(lost, 0);
  EXPECT_GT(requests, files.size());
  ExpectStoreEmpty();
}

// Issue: a mover that reconnects after the server restarted keeps its
// work; the queue and the assignments come from the store (no -Q here).
TEST_P(DurabilityTest, MoverReconnectingAfterARestartKeepsItsWork) {
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  ASSERT_NE(
      cdt_.StartMover("m1", {{"COORDINATOOL_MAX_ARCHIVE", "3"}}, {"-b", "1"}),
      nullptr);
  auto files = MakeFiles("r", 8, 1);
  for (const std::string& path : files)
    ASSERT_TRUE(AppendTestData(path, 2 << 20, 7));
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("m1", "current_archive") == 3 &&
           cdt_.Counter("pending_archive") == 5;
  })) << cdt_.Logs();
  cdt_.KillServer();
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  auto recovered = cdt_.ServerLogLines("recovered \\d+ requests");
  ASSERT_FALSE(recovered.empty());
  EXPECT_NE(recovered.back().find("recovered 8 requests"), std::string::npos)
      << recovered.back();
  EXPECT_NE(recovered.back().find("3 of them running on 1 movers"),
            std::string::npos)
      << recovered.back();
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientField("m1", "status") != "disconnected" &&
           !cdt_.ClientField("m1", "status").empty();
  })) << cdt_.Logs();
  EXPECT_FALSE(
      cdt_.ServerLogLines("mover m1 ready, 3 items re-announced").empty());
  ExpectAllDoneOnce(8);
  EXPECT_TRUE(cdt_.ServerLogLines("running items placed again").empty())
      << "m1 lost its work";
}

// Issue: a mover killed while the server is down too: the restarted server
// keeps its work for the grace time, then hands it to a mover with a new id.
TEST_P(DurabilityTest, KilledMoversWorkGoesToANewMoverAfterARestart) {
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  Process* old_mover = cdt_.StartMover("old", {}, {"-b", "1"});
  ASSERT_NE(old_mover, nullptr);
  auto files = MakeFiles("k", 4, 1);
  for (const std::string& path : files)
    ASSERT_TRUE(AppendTestData(path, 3 << 20, 9));
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("old", "current_archive") == 4;
  })) << cdt_.Logs();
  old_mover->Kill();
  cdt_.KillServer();
  ASSERT_TRUE(cdt_.StartServer(ServerArgs({"--client-grace", "1500"})));
  // A placeholder for the mover, holding its work.
  EXPECT_EQ(cdt_.ClientField("old", "status"), "disconnected");
  EXPECT_EQ(cdt_.ClientNumber("old", "current_archive"), 4);
  ASSERT_NE(cdt_.StartMover("new"), nullptr);
  ExpectAllDoneOnce(4);
  EXPECT_TRUE(cdt_.ClientStatus("old").empty());  // forgotten after grace
  EXPECT_EQ(cdt_.ClientNumber("new", "done_archive"), 4);
  ExpectStoreEmpty();
}

INSTANTIATE_TEST_SUITE_P(Stores, DurabilityTest,
                         ::testing::Values("embedded", "redis"),
                         [](const auto& info) { return info.param; });

// Issue: Redis restarted mid-workload. While it is down the server serves
// what it holds, takes nothing new from Lustre and says so; once it is back
// everything completes, once, and Redis ends empty.
TEST_F(RedisStoreE2eTest, RedisRestartedMidWorkload) {
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  for (const char* id : {"m1", "m2"})
    ASSERT_NE(cdt_.StartMover(id, {}, {"-b", "5"}), nullptr);
  auto files = MakeFiles("w", 60, 1 << 20);
  std::vector<std::string> first(files.begin(), files.begin() + 30);
  std::vector<std::string> second(files.begin() + 30, files.end());
  Lfs("hsm_archive", first);
  ASSERT_TRUE(
      WaitFor([&] { return sim_.CountActions("ARCHIVE", "SUCCEED") >= 5; }));
  redis_->Kill();
  Lfs("hsm_archive", second);
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.Status()["store_state"] == "cannot persist";
  })) << cdt_.Logs();
  EXPECT_FALSE(cdt_.ServerLogLines("cannot persist: not taking new").empty());
  // The work held goes on meanwhile.
  ASSERT_TRUE(
      WaitFor([&] { return sim_.CountActions("ARCHIVE", "SUCCEED") >= 10; }));
  ASSERT_EQ(redis_->Start(), "");
  ASSERT_TRUE(WaitFor([&] { return cdt_.Status()["store_state"] == "ok"; }))
      << cdt_.Logs();
  ExpectAllDoneOnce(60);
  ExpectStoreEmpty();
}

// Issue: a store written by an older run, the original coordinatool's Redis
// schema written by hand, is recovered: queued items are dispatched, items
// assigned to a mover that never comes back go elsewhere after the grace
// time, and an assignment without its request is deleted.
TEST_F(RedisStoreE2eTest, RecoversTheOriginalsRedisSchema) {
  // Real requests that Lustre has handed to an agent: a locked server
  // takes them and keeps them queued.
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  auto files = MakeFiles("o", 6, 1 << 16);
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 6; }));
  cdt_.KillServer();
  std::vector<protocol::WireItem> items;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(client::ParseActiveRequests(sim_.GetParam("hsm.active_requests"),
                                          &items, &warnings, &error))
      << error;
  ASSERT_EQ(items.size(), 6u);

  // What the original leaves in Redis: its own key order, an extra key it
  // kept as received, decimal numbers, -1 for a whole-file extent.
  redis_->Call({"DEL", "coordinatool_requests", "coordinatool_assigned"});
  for (size_t i = 0; i < items.size(); ++i) {
    const hsm_action_item& hai = items[i].item.hai;
    std::string key = fmt::format(
        "{:016x}{:016x}{:08x}{:08x}", uint64_t{hai.hai_cookie},
        uint64_t{hai.hai_dfid.f_seq}, hai.hai_dfid.f_oid, hai.hai_dfid.f_ver);
    std::string json = fmt::format(
        R"({{"hai_action":20,"hai_fid":{{"f_seq":{},"f_oid":{},"f_ver":{}}},)"
        R"("hai_dfid":{{"f_seq":{},"f_oid":{},"f_ver":{}}},)"
        R"("hai_extent_offset":0,"hai_extent_length":-1,"hai_cookie":{},)"
        R"("hai_gid":0,"hai_data":"","hal_archive_id":1,"hal_flags":0,)"
        R"("timestamp":{},"origin":"lhsmd_coordinatool 0.4"}})",
        uint64_t{hai.hai_fid.f_seq}, hai.hai_fid.f_oid, hai.hai_fid.f_ver,
        uint64_t{hai.hai_dfid.f_seq}, hai.hai_dfid.f_oid, hai.hai_dfid.f_ver,
        uint64_t{hai.hai_cookie}, 1700000000000000000 + i);
    ASSERT_EQ(redis_->Call({"HSET", "coordinatool_requests", key, json}),
              std::vector<std::string>{"1"});
    if (i < 2)
      redis_->Call({"HSET", "coordinatool_assigned", key, "gone-mover"});
  }
  redis_->Call({"HSET", "coordinatool_assigned",
                "00000000000000010000000200000401000000ff00000000", "x"});

  ASSERT_TRUE(cdt_.StartServer(ServerArgs({"--client-grace", "1500"})));
  auto recovered = cdt_.ServerLogLines("recovered \\d+ requests");
  ASSERT_FALSE(recovered.empty());
  EXPECT_NE(recovered.back().find("recovered 6 requests from redis 127.0.0.1:" +
                                  std::to_string(redis_->port()) +
                                  ", 2 of them running on 1 movers"),
            std::string::npos)
      << recovered.back();
  EXPECT_EQ(cdt_.Counter("pending_archive"), 4);
  EXPECT_EQ(cdt_.ClientNumber("gone-mover", "current_archive"), 2);
  EXPECT_TRUE(WaitFor(
      [&] { return redis_->HGetAll("coordinatool_assigned").size() == 2; }));
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ExpectAllDoneOnce(6);
  EXPECT_EQ(cdt_.ClientNumber("m1", "done_archive"), 6);
  ExpectStoreEmpty();
}

// Issue: stale-work detection. A mover stops (SIGSTOP) in the middle of its
// transfers: without progress for --stale-timeout, its items are cancelled
// on it and dispatched to another mover, which completes them, once.
TEST_F(EmbeddedStoreE2eTest, StaleTransferIsTakenBackFromAHungMover) {
  ASSERT_TRUE(cdt_.StartServer(ServerArgs({"--stale-timeout", "1500"})));
  Process* hung = cdt_.StartMover("hung", {}, {"-b", "1"});
  ASSERT_NE(hung, nullptr);
  auto files = MakeFiles("h", 2, 1);
  for (const std::string& path : files)
    ASSERT_TRUE(AppendTestData(path, 4 << 20, 3));
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("hung", "current_archive") == 2;
  })) << cdt_.Logs();
  ASSERT_EQ(hung->Signal(SIGSTOP), 0);
  ASSERT_NE(cdt_.StartMover("healthy"), nullptr);
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("ARCHIVE", "SUCCEED") == 2;
  })) << cdt_.Logs();
  EXPECT_EQ(cdt_.ServerLogLines("no progress on mover hung").size(), 2u);
  EXPECT_TRUE(WaitFor(
      [&] { return cdt_.ClientNumber("healthy", "done_archive") == 2; }));
  EXPECT_EQ(cdt_.ClientNumber("hung", "current_archive"), 0);
  hung->Kill();
  ExpectAllDoneOnce(2);
}

}  // namespace
}  // namespace testing_support
