// Issue 10, end to end: before the server hands an item out a second time
// it asks Lustre whether the request is still live (a REMOVE Lustre ended
// is never replayed); a restore whose mover died mid-copy still ends at
// Lustre and answers its reader; a consistent-hash rewrite is applied once
// to an item the store lost and a mover re-announced.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/server/raw_peer.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

class LivenessTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }

  void Lfs(const std::vector<std::string>& args) {
    CommandResult r = sim_.Lfs(args);
    ASSERT_TRUE(r.ok()) << r.Describe();
  }

  // The latest record of `action` on `path` has `status`.
  ::testing::AssertionResult Reaches(const std::string& path,
                                     const std::string& action,
                                     const std::string& status) {
    return sim_.WaitForStatus(FidOf(path), action, status,
                              std::chrono::seconds(60))
           << "\n"
           << sim_.GetParam("hsm.actions") << cdt_.Logs();
  }

  int64_t Redispatch(const std::string& key) {
    json::object s = cdt_.Status();
    const json::value* r = s.if_contains("redispatch");
    if (!r || !r->is_object()) return -1;
    const json::value* v = r->get_object().if_contains(key);
    return v && v->is_int64() ? v->get_int64() : -1;
  }

  // A raw mover `id` that said ehlo (its reply read) and asked for work:
  // the `recv` reply is the next object to read.
  common::UniqueFd AskForWork(const std::string& id) {
    common::UniqueFd fd = ConnectTo(cdt_.port());
    EXPECT_TRUE(SendAll(fd.get(), R"({"command":"ehlo","id":")" + id +
                                      R"("}{"command":"recv"})"));
    EXPECT_NE(ReadObject(fd.get()).find("ehlo"), std::string::npos) << id;
    return fd;
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
};

// Defect 2: the mover ends a REMOVE at Lustre but its `done` never reaches
// the server (the server is stopped, then killed; the mover dies). Before
// the grace time of the recovered assignment ends, an archive of the file
// is asked again: it waits for the REMOVE's fate (one action per file),
// then runs. The server must not replay the REMOVE: the archive copy stays,
// the file can be released and restored, with its data.
TEST_F(LivenessTest, RemoveThatLustreEndedIsNeverReplayed) {
  const std::vector<std::string> grace = {"-v", "--client-grace", "4000"};
  ASSERT_TRUE(cdt_.StartServer(grace));
  Process* m1 = cdt_.StartMover("m1");
  ASSERT_NE(m1, nullptr);
  const std::string file = sim_.Path("f");
  ASSERT_TRUE(WriteTestFile(file, 300000, 11));
  const uint64_t digest = *DigestFile(file);
  Lfs({"hsm_archive", file});
  ASSERT_TRUE(Reaches(file, "ARCHIVE", "SUCCEED"));

  // The REMOVE reaches m1 while it is stopped, then the server stops.
  ASSERT_EQ(m1->Signal(SIGSTOP), 0);
  Lfs({"hsm_remove", file});
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("m1", "current_remove") == 1;
  })) << cdt_.Logs();
  ASSERT_EQ(cdt_.server().Signal(SIGSTOP), 0);
  ASSERT_EQ(m1->Signal(SIGCONT), 0);
  ASSERT_TRUE(Reaches(file, "REMOVE", "SUCCEED"));
  // Its done sits unread in the stopped server's socket: both die.
  m1->Kill();
  cdt_.KillServer();

  ASSERT_TRUE(cdt_.StartServer(grace));
  ASSERT_EQ(cdt_.ClientNumber("m1", "current_remove"), 1);  // placeholder
  ASSERT_NE(cdt_.StartMover("m2"), nullptr);
  Lfs({"hsm_archive", file});
  // One action per file: the new ARCHIVE waits behind m1's REMOVE, whose
  // fate is not known yet (held, not sent).
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("held_same_fid") == 1; }))
      << cdt_.Logs();
  EXPECT_EQ(cdt_.ClientNumber("m1", "current_remove"), 1) << cdt_.Logs();

  // Grace over: the server asks Lustre, which ended the REMOVE; then the
  // ARCHIVE goes.
  ASSERT_TRUE(WaitFor([&] { return cdt_.ClientStatus("m1").empty(); },
                      std::chrono::seconds(20)))
      << cdt_.Logs();
  ASSERT_TRUE(Reaches(file, "ARCHIVE", "SUCCEED"));
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.Counter("pending_remove") == 0 &&
           cdt_.Counter("running_remove") == 0;
  })) << cdt_.Logs();
  EXPECT_EQ(Redispatch("forgotten"), 1) << cdt_.Logs();
  EXPECT_EQ(cdt_.ClientNumber("m2", "done_remove"), 0) << "REMOVE replayed";

  Lfs({"hsm_release", file});
  Lfs({"hsm_restore", file});
  ASSERT_TRUE(Reaches(file, "RESTORE", "SUCCEED"));
  EXPECT_EQ(DigestFile(file), digest);
  EXPECT_EQ(sim_.CountActions("REMOVE", "SUCCEED"), 1u);
}

// A check that finds Lustre ended a request frees its file at once: the
// request waiting behind it (one action per file) goes to a mover whose
// `recv` was waiting, with nothing else to wake the server. (A check's
// forget once served no `recv`: the waiting request stayed queued until
// some other event, for ever on a quiet server.)
TEST_F(LivenessTest, ARequestFreedByACheckGoesToAWaitingMover) {
  ASSERT_TRUE(sim_.SetParam("hsm.active_request_timeout", "2"));
  ASSERT_TRUE(cdt_.StartServer({"--client-grace", "5000"}));
  const std::string file = sim_.Path("f");
  ASSERT_TRUE(WriteTestFile(file, 1000, 5));
  // A copy in archive 1 to remove; none archived, so an archive is taken.
  Lfs({"hsm_set", "--exists", "--archive-id", "1", file});

  // m1 takes the REMOVE and goes; Lustre times the request out.
  Lfs({"hsm_remove", file});
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_remove") == 1; }))
      << cdt_.Logs();
  {
    common::UniqueFd m1 = AskForWork("m1");
    const std::string taken = ReadObject(m1.get());
    ASSERT_NE(taken.find("hsm_action_list"), std::string::npos) << taken;
  }
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("REMOVE", "CANCELED") == 1;
  })) << sim_.GetParam("hsm.actions");

  // An ARCHIVE of the file waits behind m1's REMOVE, whose fate the
  // server learns only when m1's grace ends; m2 asks for work meanwhile.
  Lfs({"hsm_archive", file});
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("held_same_fid") == 1; }))
      << cdt_.Logs();
  common::UniqueFd m2 = AskForWork("m2");

  // Grace over: the check forgets the REMOVE and m2's recv gets the
  // ARCHIVE (ReadObject waits up to 30 s).
  const std::string given = ReadObject(m2.get());
  ASSERT_NE(given.find("hsm_action_list"), std::string::npos) << given << "\n"
                                                              << cdt_.Logs();
  EXPECT_NE(given.find(R"("hai_action":20,)"), std::string::npos)  // ARCHIVE
      << given;
  EXPECT_EQ(Redispatch("forgotten"), 1) << cdt_.Logs();
}

// Defect 3: a reader waits in hsm_read for a restore whose mover is killed
// in the middle of its copy (after its progress bound the restore to its
// volatile file: Lustre would refuse the end of any other copy, and keeps
// the binding when it sends a retried request again, so no other copy can
// begin it). After the grace time the server must not lose the request:
// it ends it at Lustre as failed, whatever the policy, and the reader gets
// an error instead of waiting for the request timeout; a new read restores
// the file. (With retries allowed it once asked a retry, which Lustre would
// send again bound: the reader would wait for nothing.)
class KilledRestoreTest : public LivenessTest,
                          public ::testing::WithParamInterface<bool> {};

TEST_P(KilledRestoreTest, ReaderOfARestoreWhoseMoverDiedMidCopyIsAnswered) {
  const bool retry = GetParam();
  if (retry) {
    ASSERT_TRUE(sim_.SetParam("hsm.policy", "-NRA"));
  }
  ASSERT_TRUE(cdt_.StartServer({"-v", "--client-grace", "1500"}));
  Process* fast = cdt_.StartMover("fast");
  ASSERT_NE(fast, nullptr);
  const std::string file = sim_.Path("cold");
  ASSERT_TRUE(WriteTestFile(file, 6 << 20, 5));
  const uint64_t digest = *DigestFile(file);
  Lfs({"hsm_archive", file});
  ASSERT_TRUE(Reaches(file, "ARCHIVE", "SUCCEED"));
  Lfs({"hsm_release", file});
  fast->Kill();
  ASSERT_TRUE(WaitFor([&] { return cdt_.ClientStatus("fast").empty(); }));

  Process* slow = cdt_.StartMover("slow", {}, {"-b", "1"});
  ASSERT_NE(slow, nullptr);
  auto read = [&](const std::string& name) {
    SpawnOptions options;
    options.stdout_path = sim_.archive() + "/../" + name + ".out";
    options.stderr_path = sim_.archive() + "/../" + name + ".err";
    std::string error;
    Process reader =
        Process::Spawn({SimLfsBinary(), "hsm_read", file}, options, &error);
    EXPECT_GE(reader.pid(), 0) << error;
    return reader;
  };
  auto output = [&](const std::string& name) {
    std::ifstream in(sim_.archive() + "/../" + name + ".out", std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
  };
  Process reader = read("first");
  // The copy has begun and reported progress: Lustre's record names the
  // slow mover's volatile file as its data FID.
  const std::string fid = FidOf(file);
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const ActionRecord& r : sim_.Actions())
          if (r.fid() == fid && r.action() == "RESTORE" &&
              r.status() == "STARTED" && r.Get("dfid") != fid)
            return true;
        return false;
      },
      std::chrono::seconds(30)))
      << sim_.GetParam("hsm.actions") << cdt_.Logs();
  slow->Kill();
  ASSERT_NE(cdt_.StartMover("other"), nullptr);

  auto status = reader.Wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value())
      << "the reader still waits\n"
      << sim_.GetParam("hsm.actions") << cdt_.Logs();
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_NE(WEXITSTATUS(*status), 0) << cdt_.Logs();
  // The request ended at Lustre, and the server holds nothing of it.
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.Counter("running_restore") == 0 &&
           cdt_.Counter("pending_restore") == 0;
  })) << cdt_.Logs();
  EXPECT_GE(Redispatch("failed"), 1) << cdt_.Logs();
  size_t restores = 0;
  for (const ActionRecord& r : sim_.Actions()) {
    if (r.fid() != fid || r.action() != "RESTORE") continue;
    ++restores;
    EXPECT_EQ(r.status(), "FAILED") << r.line;
  }
  EXPECT_EQ(restores, 1u) << sim_.GetParam("hsm.actions");
  EXPECT_EQ(
      cdt_.ServerLogLines("retry of a bound restore cannot succeed").size(), 1u)
      << cdt_.Logs();
  // A new read makes a new request, unbound: it restores the file.
  Process again = read("second");
  auto second = again.Wait(std::chrono::seconds(60));
  ASSERT_TRUE(second.has_value()) << cdt_.Logs();
  ASSERT_TRUE(WIFEXITED(*second) && WEXITSTATUS(*second) == 0) << cdt_.Logs();
  EXPECT_EQ(Digest(output("second")), digest);
  EXPECT_EQ(DigestFile(file), digest);
}

INSTANTIATE_TEST_SUITE_P(Policies, KilledRestoreTest,
                         ::testing::Values(false, true), [](const auto& info) {
                           return info.param ? "RetryAllowed" : "NoRetry";
                         });

// Defect 7: an archive placed by a consistent-hash rule (its data folded
// and rewritten) runs on its mover when the server restarts with an empty
// store; the mover re-announces it. At the next restart, recovery must not
// fold and rewrite it again: same data, same mover.
TEST_F(LivenessTest, ConsistentHashRewriteIsAppliedOncePerRequest) {
  std::string config = sim_.archive() + "/../coordinatool.conf";
  std::ofstream(config) << "archive_on_hosts_ch proj= 10 m0 m1 m2\n";
  const std::vector<std::string> args = {"-v", "-c", config, "--client-grace",
                                         "600000"};
  ASSERT_TRUE(cdt_.StartServer(args));
  for (const char* id : {"m0", "m1", "m2"})
    ASSERT_NE(cdt_.StartMover(id, {}, {"-b", "1"}), nullptr);
  const std::string file = sim_.Path("tagged");
  ASSERT_TRUE(WriteTestFile(file, 30 << 20, 3));
  Lfs({"hsm_archive", "--data", "proj=test1", file});
  // The mover the rule chose, and the data it was given.
  std::string mover, data;
  auto running = [&](std::string* who, std::string* what) {
    json::object s = cdt_.Status();
    for (const json::value& c : s["clients"].as_array()) {
      const json::object& o = c.as_object();
      const json::value* active = o.if_contains("active_requests");
      if (!active || active->as_array().empty()) continue;
      *who = std::string(o.at("client_id").as_string());
      *what = std::string(
          active->as_array()[0].as_object().at("hai_data").as_string());
      return true;
    }
    return false;
  };
  ASSERT_TRUE(WaitFor([&] { return running(&mover, &data); })) << cdt_.Logs();
  ASSERT_NE(data, "proj=test1");  // folded

  // The store is lost: the mover re-announces its item.
  cdt_.KillServer();
  std::filesystem::remove_all(cdt_.state_dir());
  ASSERT_TRUE(cdt_.StartServer(args));
  std::string who, what;
  ASSERT_TRUE(WaitFor([&] { return running(&who, &what); })) << cdt_.Logs();
  ASSERT_EQ(who, mover);
  ASSERT_EQ(what, data);

  // Recovery from what the re-announce stored: the same, once.
  cdt_.KillServer();
  ASSERT_TRUE(cdt_.StartServer(args));
  ASSERT_TRUE(WaitFor([&] { return running(&who, &what); })) << cdt_.Logs();
  EXPECT_EQ(who, mover);
  EXPECT_EQ(what, data) << "rewritten twice";
}

}  // namespace
}  // namespace testing_support
