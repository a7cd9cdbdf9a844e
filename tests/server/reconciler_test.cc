// Issue 13, item 3, end to end: the reconciler (`coordinatool-client
// --reconcile`) running next to the simulator's MDT gives the server back
// the requests it lost between Lustre and its store, and makes it drop the
// waiting requests Lustre no longer has, which are never sent to a mover.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ReconcilerTest : public ::testing::Test {
 protected:
  // The reconciler, reading the simulator's active requests as
  // `lctl get_param -n mdt.*.hsm.active_requests` does on an MDS.
  ::testing::AssertionResult StartReconciler(
      const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {
        CoordinatoolClientBinary(),
        "-H",
        "127.0.0.1",
        "-p",
        std::to_string(cdt_.port()),
        "--reconcile",
        "--active-requests-command",
        SimLctlBinary() + " --mount " + sim_.mount() +
            " get_param -n 'mdt.*.hsm.active_requests'"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    SpawnOptions options;
    options.stderr_path = log_;
    options.stdout_path = log_;
    std::string error;
    reconciler_ = Process::Spawn(argv, options, &error);
    if (reconciler_.pid() < 0) return ::testing::AssertionFailure() << error;
    return ::testing::AssertionSuccess();
  }
  std::string ReconcilerLog() const { return ReadAll(log_); }

  std::vector<std::string> MakeFiles(const std::string& name, int count) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      std::string path = sim_.Path(name + std::to_string(i));
      EXPECT_TRUE(WriteTestFile(path, 1000 + i, i).has_value()) << path;
      paths.push_back(path);
    }
    return paths;
  }

  std::string Logs() {
    return cdt_.Logs() + "\nreconciler:\n" + ReconcilerLog() +
           "\nhsm.actions:\n" + sim_.GetParam("hsm.actions");
  }

  TempDir dir_{"reconciler"};
  std::string log_ = dir_.Join("reconciler.log");
  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  Process reconciler_;
};

// The server dies right after reading requests from Lustre and before
// storing them (the COORDINATOOL_TEST_KILL_AFTER_READS hook). Lustre holds
// them STARTED and will not send them again before its timeout (an hour
// here). Restarted, the server announces a new instance; the reconciler,
// running all along, sends Lustre's list at once (its periodic pass is an
// hour away): the requests come back with no manual step and complete.
TEST_F(ReconcilerTest, RequestsLostBeforeTheStoreComeBackAfterARestart) {
  ASSERT_TRUE(sim_.StartDaemon());
  setenv("COORDINATOOL_TEST_KILL_AFTER_READS", "1", 1);
  auto started = cdt_.StartServer();
  unsetenv("COORDINATOOL_TEST_KILL_AFTER_READS");
  ASSERT_TRUE(started);
  ASSERT_TRUE(StartReconciler({"--interval", "3600"}));
  ASSERT_TRUE(WaitFor([&] {
    return ReconcilerLog().find("0 requests at Lustre") != std::string::npos;
  })) << Logs();

  auto files = MakeFiles("lost", 5);
  RunLfs(sim_, "hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] { return !cdt_.server().Running(); })) << Logs();
  ASSERT_FALSE(cdt_.ServerLogLines("killed after reading from Lustre").empty());
  ASSERT_EQ(sim_.CountActions("ARCHIVE", "STARTED"), 5u)
      << sim_.GetParam("hsm.actions");

  ASSERT_TRUE(cdt_.StartServer()) << Logs();
  ASSERT_TRUE(WaitFor([&] {
    return ReconcilerLog().find("5 added") != std::string::npos;
  })) << Logs();
  EXPECT_EQ(cdt_.Counter("pending_archive"), 5);
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_TRUE(
      WaitFor([&] { return sim_.CountActions("ARCHIVE", "SUCCEED") == 5; },
              std::chrono::seconds(60)))
      << Logs();
  EXPECT_EQ(sim_.Actions().size(), 5u);
  // Each instance was seen and announced.
  auto instances = cdt_.ServerLogLines("instance [0-9a-f]{16}$");
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_NE(instances[0].substr(instances[0].size() - 16),
            instances[1].substr(instances[1].size() - 16));
  EXPECT_TRUE(reconciler_.Running());
}

// A request Lustre times out while it waits in the server (no mover yet)
// is dropped with its log line, and never sent to the mover that connects
// afterwards; a request made after it runs on that mover.
TEST_F(ReconcilerTest, ARequestLustreTimedOutIsDroppedNeverSent) {
  ASSERT_TRUE(sim_.StartDaemon({"hsm.active_request_timeout=2"}));
  ASSERT_TRUE(cdt_.StartServer());
  ASSERT_TRUE(StartReconciler({"--interval", "1"}));
  auto gone = MakeFiles("gone", 1);
  const std::string fid = FidOf(gone[0]);
  RunLfs(sim_, "hsm_archive", gone);
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 1; }))
      << Logs();
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("ARCHIVE", "CANCELED") == 1;
  })) << Logs();
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 0; }))
      << Logs();
  auto dropped =
      cdt_.ServerLogLines("dropped, never sent: Lustre no longer has it");
  ASSERT_EQ(dropped.size(), 1u) << Logs();
  EXPECT_NE(dropped[0].find(fid), std::string::npos) << dropped[0];
  EXPECT_NE(dropped[0].find("cookie 0x"), std::string::npos) << dropped[0];
  // The reply leaves once the drop is durable: the reconciler logs it a
  // little after the server forgot the request.
  EXPECT_TRUE(WaitFor([&] {
    return ReconcilerLog().find("1 dropped") != std::string::npos;
  })) << Logs();

  // A mover connects, and a new request runs on it: the dropped one was
  // ahead of it in the queue, had it been kept.
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  auto fresh = MakeFiles("fresh", 1);
  RunLfs(sim_, "hsm_archive", fresh);
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("ARCHIVE", "SUCCEED") == 1;
  })) << Logs();
  // Done: the fresh one only (a dropped request never ran).
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 1; }));
  const std::string mover_log = cdt_.MoverLog("m1");
  EXPECT_NE(mover_log.find(FidOf(fresh[0]).substr(1, 20)), std::string::npos)
      << mover_log;
  EXPECT_EQ(mover_log.find(fid.substr(1, 20)), std::string::npos) << mover_log;
  EXPECT_EQ(cdt_.Counter("running_archive"), 0);
}

// A list that cannot be read skips the pass: nothing is sent, nothing is
// dropped, and the reconciler says why.
TEST_F(ReconcilerTest, AFailedReadOfLustresListSendsNothing) {
  ASSERT_TRUE(sim_.StartDaemon());
  ASSERT_TRUE(cdt_.StartServer());  // no mover: the requests wait
  auto files = MakeFiles("kept", 2);
  RunLfs(sim_, "hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 2; }));
  std::vector<std::string> argv = {CoordinatoolClientBinary(),
                                   "-H",
                                   "127.0.0.1",
                                   "-p",
                                   std::to_string(cdt_.port()),
                                   "--reconcile",
                                   "--interval",
                                   "1",
                                   "--active-requests-command",
                                   "echo 'error: get_param' >&2; exit 2"};
  SpawnOptions options;
  options.stderr_path = log_;
  std::string error;
  reconciler_ = Process::Spawn(argv, options, &error);
  ASSERT_GE(reconciler_.pid(), 0) << error;
  ASSERT_TRUE(WaitFor([&] {
    std::string log = ReconcilerLog();
    size_t first = log.find("pass skipped");
    return first != std::string::npos &&
           log.find("pass skipped", first + 1) != std::string::npos;
  })) << Logs();
  EXPECT_NE(ReconcilerLog().find("exited with status 2"), std::string::npos);
  EXPECT_TRUE(cdt_.ServerLogLines("reconcile:").empty()) << Logs();
  EXPECT_EQ(cdt_.Counter("pending_archive"), 2);
}

}  // namespace
}  // namespace testing_support
