// End to end: Lustre (the simulator) -> coordinatool -> movers running
// ct-posix unmodified under libcoordinatool_preload.so -> Lustre.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

class CoordinatoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.StartDaemon());
    ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000"}));
  }

  // Creates `count` files name<i> with sizes from `size_of`; returns their
  // paths and records their digests.
  std::vector<std::string> MakeFiles(
      const std::string& name, int count,
      const std::function<uint64_t(int)>& size_of) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      std::string path = sim_.Path(name + std::to_string(i));
      auto digest = WriteTestFile(path, size_of(i), 1000 + i);
      EXPECT_TRUE(digest.has_value()) << path;
      digests_[path] = digest.value_or(0);
      paths.push_back(path);
    }
    return paths;
  }

  void Lfs(const std::string& command, const std::vector<std::string>& paths) {
    RunLfs(sim_, command, paths);
  }

  ::testing::AssertionResult WaitForCount(const std::string& action,
                                          const std::string& status,
                                          size_t count) {
    if (WaitFor([&] { return sim_.CountActions(action, status) >= count; },
                std::chrono::seconds(180)))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << action << " " << status << ": "
                                         << sim_.CountActions(action, status)
                                         << " of " << count << "; logs:\n"
                                         << cdt_.Logs();
  }

  size_t CountStatus(const std::string& status) {
    size_t n = 0;
    for (const ActionRecord& r : sim_.Actions()) n += r.status() == status;
    return n;
  }

  // The main scenarios, run plain (CoordinatoolTest) and with TLS
  // (CoordinatoolTlsTest); their comments are at their tests below.
  void MixedRequestsThroughThreeMovers() {
    for (const char* id : {"m1", "m2", "m3"})
      ASSERT_NE(cdt_.StartMover(id), nullptr);
    auto files = MakeFiles("f", 1200, [](int i) -> uint64_t {
      if (i % 300 == 7) return (2u << 20) + i;  // a few of 2 MiB
      return (uint64_t(i) * 7919) % 65536;      // 0 .. 64 KiB
    });
    Lfs("hsm_archive", files);
    ASSERT_TRUE(WaitForCount("ARCHIVE", "SUCCEED", 1200));

    std::vector<std::string> released(files.begin(), files.begin() + 600);
    std::vector<std::string> removed(files.begin() + 600, files.begin() + 800);
    Lfs("hsm_release", released);
    Lfs("hsm_restore", released);
    Lfs("hsm_remove", removed);
    ASSERT_TRUE(WaitForCount("RESTORE", "SUCCEED", 600));
    ASSERT_TRUE(WaitForCount("REMOVE", "SUCCEED", 200));

    EXPECT_EQ(sim_.Actions().size(), 2000u);
    EXPECT_EQ(CountStatus("SUCCEED"), 2000u);
    for (const std::string& path : released)
      EXPECT_EQ(DigestFile(path), digests_[path]) << path;
    CommandResult state = sim_.Lfs({"hsm_state", removed[0]});
    // Lustre keeps the archive id after a remove.
    EXPECT_EQ(state.out, removed[0] + ": (0x00000000), archive_id:1\n");
    EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 1200; }));
    EXPECT_EQ(cdt_.Counter("done_restore"), 600);
    EXPECT_EQ(cdt_.Counter("done_remove"), 200);
    EXPECT_EQ(cdt_.Counter("running_archive"), 0);
  }

  void KilledMoversWorkMovesToOthers() {
    Process* slow = cdt_.StartMover("slow", {}, {"-b", "1"});
    ASSERT_NE(slow, nullptr);
    auto files = MakeFiles("k", 6, [](int) -> uint64_t { return 3 << 20; });
    Lfs("hsm_archive", files);
    ASSERT_TRUE(WaitFor([&] {
      return cdt_.ClientNumber("slow", "current_archive") == 6;
    })) << cdt_.Logs();
    slow->Kill();
    ASSERT_TRUE(WaitFor(
        [&] { return cdt_.ClientField("slow", "status") == "disconnected"; }));
    // Within the grace time the work stays with the dead mover.
    EXPECT_EQ(cdt_.Counter("running_archive"), 6);
    ASSERT_NE(cdt_.StartMover("fast"), nullptr);
    ASSERT_TRUE(WaitForCount("ARCHIVE", "SUCCEED", 6));
    EXPECT_EQ(CountStatus("SUCCEED"), 6u);
    EXPECT_EQ(CountStatus("FAILED"), 0u);
    EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 6; }));
    EXPECT_TRUE(cdt_.ClientStatus("slow").empty());  // forgotten after grace
    EXPECT_EQ(cdt_.ClientNumber("fast", "done_archive"), 6);
  }

  void MoversReannounceAfterARestart() {
    ASSERT_NE(cdt_.StartMover("m1", {}, {"-b", "2"}), nullptr);
    auto files = MakeFiles("s", 4, [](int) -> uint64_t { return 2 << 20; });
    Lfs("hsm_archive", files);
    ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("running_archive") == 4; }));
    cdt_.KillServer();
    ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000"}));
    ASSERT_TRUE(WaitFor([&] {
      return cdt_.ClientNumber("m1", "current_archive") == 4;
    })) << cdt_.Logs();
    ASSERT_TRUE(WaitForCount("ARCHIVE", "SUCCEED", 4));
    EXPECT_EQ(CountStatus("SUCCEED"), 4u);
    EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 4; }));
    EXPECT_EQ(cdt_.Counter("running_archive"), 0);
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  std::map<std::string, uint64_t> digests_;
};

// Issue: three movers, 2,000 mixed requests issued with sim-lfs, all reach
// SUCCEED at the simulated MDT; data identical after restore.
TEST_F(CoordinatoolTest, TwoThousandMixedRequestsThroughThreeMovers) {
  MixedRequestsThroughThreeMovers();
}

// Issue: with 1,000 archives queued and then 10 restores issued, the
// restores finish before the archive backlog is done.
TEST_F(CoordinatoolTest, RestoresOvertakeAnArchiveBacklog) {
  ASSERT_NE(cdt_.StartMover("m1", {{"COORDINATOOL_MAX_ARCHIVE", "2"}}),
            nullptr);
  auto to_restore =
      MakeFiles("r", 10, [](int i) -> uint64_t { return 5000 + i; });
  Lfs("hsm_archive", to_restore);
  ASSERT_TRUE(WaitForCount("ARCHIVE", "SUCCEED", 10));
  Lfs("hsm_release", to_restore);

  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  auto backlog = MakeFiles("a", 1000, [](int) -> uint64_t { return 4096; });
  Lfs("hsm_archive", backlog);
  Lfs("hsm_restore", to_restore);
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.Counter("pending_archive") == 1000 &&
           cdt_.Counter("pending_restore") == 10;
  })) << cdt_.Logs();
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());

  ASSERT_TRUE(WaitForCount("RESTORE", "SUCCEED", 10));
  size_t archived_when_restored = sim_.CountActions("ARCHIVE", "SUCCEED") - 10;
  EXPECT_LT(archived_when_restored, 1000u);
  for (const std::string& path : to_restore)
    EXPECT_EQ(DigestFile(path), digests_[path]) << path;
  ASSERT_TRUE(WaitForCount("ARCHIVE", "SUCCEED", 1010));
}

// Issue: per-mover limits and hal_size are never exceeded, checked from the
// simulator's side (hsm.sim_copy_peaks: the copies each mover process had
// running at once) and from the action lists the copytool received.
TEST_F(CoordinatoolTest, PerMoverLimitsAndReplySizeHold) {
  Process* limited = cdt_.StartMover(
      "limited", {{"COORDINATOOL_MAX_ARCHIVE", "3"}}, {"-b", "20"});
  // 600 bytes hold 4 items by the server's count (72 + 72 + data each).
  Process* small = cdt_.StartMover("small", {{"COORDINATOOL_HAL_SIZE", "600"}},
                                   {"-b", "20"});
  ASSERT_TRUE(limited && small);
  auto files = MakeFiles("l", 80, [](int) -> uint64_t { return 512 << 10; });
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitForCount("ARCHIVE", "SUCCEED", 80));

  std::string peaks = sim_.GetParam("hsm.sim_copy_peaks");
  std::string prefix = "pid=" + std::to_string(limited->pid()) + " archive=";
  size_t at = peaks.find(prefix);
  ASSERT_NE(at, std::string::npos) << peaks;
  unsigned running = 0, peak = 0;
  ASSERT_EQ(
      sscanf(peaks.c_str() + at + prefix.size(), "%u/%u", &running, &peak), 2);
  EXPECT_EQ(running, 0u);
  EXPECT_EQ(peak, 3u) << "limit exceeded, or never reached (then the test "
                         "proves nothing): "
                      << peaks;

  std::string log = cdt_.MoverLog("small");
  std::regex count_re("item_count=(\\d+)");
  int lists = 0, largest = 0;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), count_re);
       it != std::sregex_iterator(); ++it) {
    ++lists;
    largest = std::max(largest, std::stoi((*it)[1]));
  }
  EXPECT_GT(lists, 0) << log;
  EXPECT_LE(largest, 4) << log;
  EXPECT_EQ(cdt_.ClientNumber("limited", "done_archive") +
                cdt_.ClientNumber("small", "done_archive"),
            80);
}

// Issue: a mover killed with SIGKILL mid-run: its requests complete on the
// others after the grace time; nothing lost, nothing completed twice.
TEST_F(CoordinatoolTest, KilledMoversWorkMovesToOthersAfterGrace) {
  KilledMoversWorkMovesToOthers();
}

// Issue: a mover that reconnects within the grace time keeps its work. The
// server is restarted (a stateless one forgets everything): the movers come
// back, re-announce what they run, and finish it, exactly once.
TEST_F(CoordinatoolTest, MoversReannounceTheirWorkAfterAServerRestart) {
  MoversReannounceAfterARestart();
}

// Issue: cancel of a queued request (answered to Lustre by the server) and
// of a running one (sent to the mover that runs it).
TEST_F(CoordinatoolTest, CancelOfQueuedAndRunningRequests) {
  ASSERT_NE(cdt_.StartMover("m1", {}, {"-b", "1"}), nullptr);
  auto files = MakeFiles("c", 2, [](int) -> uint64_t { return 8 << 20; });
  // Queued: the server holds it while locked.
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  Lfs("hsm_archive", {files[0]});
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 1; }));
  Lfs("hsm_cancel", {files[0]});
  std::string fid0 = FidOf(files[0]);
  ASSERT_TRUE(sim_.WaitForStatus(fid0, "ARCHIVE", "CANCELED")) << cdt_.Logs();
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 0; }));
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());

  // Running: the mover copies at 1 MB/s; the cancel reaches it.
  Lfs("hsm_archive", {files[1]});
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("running_archive") == 1; }));
  Lfs("hsm_cancel", {files[1]});
  std::string fid1 = FidOf(files[1]);
  ASSERT_TRUE(sim_.WaitForStatus(fid1, "ARCHIVE", "CANCELED")) << cdt_.Logs();
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("running_archive") == 0; }))
      << cdt_.Logs();
  for (const std::string& path : files) {
    CommandResult state = sim_.Lfs({"hsm_state", path});
    EXPECT_EQ(state.out.find("archived"), std::string::npos) << state.out;
  }
}

// Issue: lock, unlock and lock-and-quit.
TEST_F(CoordinatoolTest, LockUnlockAndLockAndQuit) {
  ASSERT_NE(cdt_.StartMover("m1", {}, {"-b", "4"}), nullptr);
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  auto files = MakeFiles("q", 3, [](int) -> uint64_t { return 2 << 20; });
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 3; }));
  EXPECT_EQ(cdt_.Counter("locked"), 1);
  EXPECT_EQ(cdt_.Counter("running_archive"), 0);
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("running_archive") > 0; }));
  CommandResult quit = cdt_.Client({"--lock-quit"});
  ASSERT_TRUE(quit.ok()) << quit.Describe();
  // It finishes what runs, then exits by itself.
  auto status = cdt_.server().Wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value()) << cdt_.Logs();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  size_t archived = sim_.CountActions("ARCHIVE", "SUCCEED");
  EXPECT_GE(archived, 1u);
  EXPECT_LE(archived, 3u);
}

// Issue: coordinatool-client -Q fed the simulator's active_requests
// re-queues requests after a server restart without duplicating ones
// already known.
TEST_F(CoordinatoolTest, RequeueFromActiveRequestsAfterRestart) {
  // A server without a store: what a wiped store looks like.
  cdt_.KillServer();
  ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000", "--no-store"}));
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  auto files = MakeFiles("g", 20, [](int i) -> uint64_t { return 1000 * i; });
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 20; }));
  cdt_.KillServer();  // the queued requests were only in its memory
  ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000", "--no-store"}));
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());

  std::string active = sim_.GetParam("hsm.active_requests");
  ASSERT_EQ(std::count(active.begin(), active.end(), '\n'), 20) << active;
  // Refused whole (another filesystem's): the server's reason, a failure,
  // nothing queued, and not "Lustre holds them no more".
  CommandResult wrong = cdt_.Client({"-Q", "--fsname", "otherfs"}, active);
  EXPECT_FALSE(wrong.ok()) << wrong.Describe();
  EXPECT_EQ(wrong.err, "queue: Bad fsname\n") << wrong.Describe();
  EXPECT_EQ(cdt_.Counter("pending_archive"), 0);
  CommandResult first = cdt_.Client({"-Q"}, active);
  ASSERT_TRUE(first.ok()) << first.Describe();
  EXPECT_EQ(first.out, "queued 20 new requests, 0 already known\n");
  CommandResult again = cdt_.Client({"-Q"}, active);
  ASSERT_TRUE(again.ok()) << again.Describe();
  EXPECT_EQ(again.out, "queued 0 new requests, 20 already known\n");
  EXPECT_EQ(cdt_.Counter("pending_archive"), 20);

  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  ASSERT_TRUE(WaitForCount("ARCHIVE", "SUCCEED", 20));
  EXPECT_EQ(sim_.Actions().size(), 20u);
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 20; }));
}

// Issue 12: the main scenarios with TLS on every connection, mutual: the
// server requires a client certificate, which each mover (preload library)
// and client shows, and the clients check the server's certificate.
class CoordinatoolTlsTest : public CoordinatoolTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    cdt_.set_tls({.server_cert = pki_.server().cert,
                  .server_key = pki_.server().key,
                  .ca = pki_.ca(),
                  .client_ca = pki_.ca(),
                  .client_cert = pki_.client().cert,
                  .client_key = pki_.client().key});
    // And tokens (docs/auth.md): the movers' gives the mover role, the
    // client's and the status calls' the admin role.
    cdt_.EnableAuth();
    CoordinatoolTest::SetUp();
    // TLS is on indeed: a client without it is refused.
    CommandResult plain =
        RunCommand({CoordinatoolClientBinary(), "-H", "127.0.0.1", "-p",
                    std::to_string(cdt_.port())});
    EXPECT_FALSE(plain.ok()) << plain.Describe();
  }

  TempDir pki_dir_{"pki"};
  TestPki pki_{pki_dir_.path()};
};

TEST_F(CoordinatoolTlsTest, TwoThousandMixedRequestsThroughThreeMovers) {
  MixedRequestsThroughThreeMovers();
}

TEST_F(CoordinatoolTlsTest, KilledMoversWorkMovesToOthersAfterGrace) {
  KilledMoversWorkMovesToOthers();
}

TEST_F(CoordinatoolTlsTest, MoversReannounceTheirWorkAfterAServerRestart) {
  MoversReannounceAfterARestart();
}

}  // namespace
}  // namespace testing_support
