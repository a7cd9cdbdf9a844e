// Scheduling policies end to end: the server on the simulator with real
// movers (ct-posix under the preload library).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

// The lines of a report file, and the movers its `sent` lines name.
std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::set<std::string> SentTo(const std::vector<std::string>& lines) {
  std::set<std::string> movers;
  for (const std::string& line : lines)
    if (line.rfind("sent ", 0) == 0)
      movers.insert(line.substr(line.rfind(' ') + 1));
  return movers;
}

class PolicyTest : public ::testing::Test {
 public:
  void StartWith(const std::string& config) { Start(config); }

 protected:
  // Starts the simulator and a server with `config` as its configuration.
  void Start(const std::string& config) {
    ASSERT_TRUE(sim_.StartDaemon());
    config_path_ = sim_.archive() + "/../coordinatool.conf";
    std::ofstream(config_path_) << config;
    ASSERT_TRUE(
        cdt_.StartServer({"-c", config_path_, "--client-grace", "600000"}));
  }

  std::vector<std::string> Archive(const std::string& name, int count,
                                   const std::string& data) {
    return sim_.ArchiveNewFiles(name, count, data);
  }

 public:
  ::testing::AssertionResult AllArchived(
      const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
      auto r = sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED");
      if (!r) return r << "\n" << cdt_.Logs();
    }
    return ::testing::AssertionSuccess();
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  std::string config_path_;
};

// archive_on_hosts: archives whose data carries the tag go to a listed
// mover only, even when another mover is idle and asking for work.
TEST_F(PolicyTest, HostAffinitySendsTaggedArchivesToItsMover) {
  Start("archive_on_hosts tape=t1 mover-b\n");
  ASSERT_NE(cdt_.StartMover("mover-a"), nullptr);
  auto tagged = Archive("t", 12, "tape=t1");
  // Nobody listed is connected: the archives wait for mover-b.
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 12; }))
      << cdt_.Logs();
  EXPECT_EQ(cdt_.ClientNumber("mover-a", "current_archive"), 0);
  ASSERT_NE(cdt_.StartMover("mover-b"), nullptr);
  ASSERT_TRUE(AllArchived(tagged));
  EXPECT_TRUE(WaitFor(
      [&] { return cdt_.ClientNumber("mover-b", "done_archive") == 12; }));
  EXPECT_EQ(cdt_.ClientNumber("mover-a", "done_archive"), 0);
  // Untagged archives still go to anyone.
  auto plain = Archive("p", 4, "");
  ASSERT_TRUE(AllArchived(plain));
}

// archive_on_hosts_ch: the mover comes from a hash of the tag's value, so
// the same value always lands on the same mover, whoever else is connected;
// its archives wait while it is away (leaving) and run when it comes back
// (joining).
TEST_F(PolicyTest, ConsistentHashingWithMoversJoiningAndLeaving) {
  // djb2("test0") % 3 == 0, "test1" -> 1, "test2" -> 2.
  Start("archive_on_hosts_ch proj= 0 m0 m1 m2\n");
  ASSERT_NE(cdt_.StartMover("m0"), nullptr);
  Process* m1 = cdt_.StartMover("m1");
  ASSERT_NE(m1, nullptr);
  auto p0 = Archive("a", 5, "proj=test0");
  auto p1 = Archive("b", 5, "proj=test1");
  auto p2 = Archive("c", 5, "proj=test2");
  ASSERT_TRUE(AllArchived(p0));
  ASSERT_TRUE(AllArchived(p1));
  EXPECT_EQ(cdt_.Counter("pending_archive"), 5);  // m2 has not joined
  EXPECT_EQ(cdt_.ClientNumber("m0", "done_archive"), 5);
  EXPECT_EQ(cdt_.ClientNumber("m1", "done_archive"), 5);

  ASSERT_NE(cdt_.StartMover("m2"), nullptr);  // joins
  ASSERT_TRUE(AllArchived(p2));
  EXPECT_TRUE(
      WaitFor([&] { return cdt_.ClientNumber("m2", "done_archive") == 5; }));

  m1->Kill();  // leaves
  ASSERT_TRUE(WaitFor(
      [&] { return cdt_.ClientField("m1", "status") == "disconnected"; }));
  auto again = Archive("d", 3, "proj=test1");
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 3; }));
  EXPECT_EQ(cdt_.ClientNumber("m0", "done_archive"), 5);
  EXPECT_EQ(cdt_.ClientNumber("m2", "done_archive"), 5);
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);  // comes back
  ASSERT_TRUE(AllArchived(again));
  EXPECT_EQ(cdt_.ClientNumber("m0", "done_archive"), 5);
  EXPECT_EQ(cdt_.ClientNumber("m2", "done_archive"), 5);
}

// archive_on_hosts_ch with COUNT folds the value and rewrites it in the
// data the mover receives (and in what Lustre's copytool sees).
TEST_F(PolicyTest, ConsistentHashingFoldsTheValueForTheMover) {
  // djb2("test1") % 10 == 8 and djb2("8") % 3 == 2: m2.
  Start("archive_on_hosts_ch proj= 10 m0 m1 m2\n");
  for (const char* id : {"m0", "m1", "m2"})
    ASSERT_NE(cdt_.StartMover(id), nullptr);
  auto files = Archive("f", 4, "proj=test1,x=y");
  ASSERT_TRUE(AllArchived(files));
  EXPECT_TRUE(
      WaitFor([&] { return cdt_.ClientNumber("m2", "done_archive") == 4; }));
  EXPECT_EQ(cdt_.ClientNumber("m0", "done_archive"), 0);
  EXPECT_EQ(cdt_.ClientNumber("m1", "done_archive"), 0);
}

}  // namespace
}  // namespace testing_support

namespace testing_support {
namespace {

// Fair share: three users of unequal weight recall files; with one restore
// at a time, the first dozen done follow the weights, not the arrival
// order (alice's bulk recall was queued first). The owner comes from the
// request data (`by_tag`) or from the files' uid.
void SharedByWeight(PolicyTest* t, SimMount& sim, CoordinatoolSetup& cdt,
                    bool by_tag) {
  const std::map<std::string, uid_t> uid_of = {
      {"alice", 1001}, {"bob", 1002}, {"carol", 1003}};
  t->StartWith(by_tag ? "fair_share_tag user=\nfair_share_weight bob 2\n"
                        "fair_share_weight carol 3\n"
                      : "fair_share_by uid\nfair_share_weight 1002 2\n"
                        "fair_share_weight 1003 3\n");
  ASSERT_NE(
      cdt.StartMover("m1", {{"COORDINATOOL_MAX_RESTORE", "1"}}, {"-b", "1"}),
      nullptr);
  std::map<std::string, std::string> user_of;  // FID -> user
  std::map<std::string, std::vector<std::string>> files;
  for (const char* user : {"alice", "bob", "carol"}) {
    for (int i = 0; i < 12; ++i) {
      std::string path = sim.Path(std::string(user) + std::to_string(i));
      ASSERT_TRUE(WriteTestFile(path, 100000, i).has_value());
      ASSERT_EQ(chown(path.c_str(), uid_of.at(user), 0), 0) << path;
      files[user].push_back(path);
    }
  }
  std::vector<std::string> all;
  for (auto& [user, paths] : files)
    all.insert(all.end(), paths.begin(), paths.end());
  std::vector<std::string> archive = {"hsm_archive"};
  archive.insert(archive.end(), all.begin(), all.end());
  ASSERT_TRUE(sim.Lfs(archive).ok());
  ASSERT_TRUE(t->AllArchived(all));
  std::vector<std::string> release = {"hsm_release"};
  release.insert(release.end(), all.begin(), all.end());
  ASSERT_TRUE(sim.Lfs(release).ok());
  for (auto& [user, paths] : files)
    for (const std::string& path : paths) user_of[FidOf(path)] = user;

  ASSERT_TRUE(cdt.Client({"--lock"}).ok());
  int queued = 0;
  for (const char* user : {"alice", "bob", "carol"}) {
    std::vector<std::string> args = {"hsm_restore"};
    if (by_tag)
      args.insert(args.end(), {"--data", std::string("user=") + user});
    args.insert(args.end(), files[user].begin(), files[user].end());
    CommandResult r = sim.Lfs(args);
    ASSERT_TRUE(r.ok()) << r.Describe();
    queued += 12;
    ASSERT_TRUE(WaitFor([&] {
      return cdt.Counter("pending_restore") == queued;
    })) << cdt.Logs();
  }
  ASSERT_TRUE(cdt.Client({"--unlock"}).ok());

  std::map<std::string, int> done;
  ASSERT_TRUE(WaitFor([&] {
    done.clear();
    int total = 0;
    for (const ActionRecord& r : sim.Actions()) {
      if (r.action() != "RESTORE" || r.status() != "SUCCEED") continue;
      ++done[user_of[r.fid()]];
      ++total;
    }
    return total >= 12;
  })) << cdt.Logs();
  // Weights 1:2:3 give 2, 4 and 6 of the first 12; arrival order would
  // have given alice all 12.
  EXPECT_LE(done["alice"], 3)
      << done["alice"] << "/" << done["bob"] << "/" << done["carol"];
  EXPECT_GE(done["carol"], 5);
  EXPECT_GE(done["carol"], done["bob"]);
  EXPECT_GE(done["bob"], done["alice"]);
  ASSERT_TRUE(
      WaitFor([&] { return sim.CountActions("RESTORE", "SUCCEED") == 36; },
              std::chrono::seconds(120)));
}

TEST_F(PolicyTest, RestoresAreSharedBetweenUsersByWeight) {
  SharedByWeight(this, sim_, cdt_, /*by_tag=*/true);
}

TEST_F(PolicyTest, RestoresAreSharedBetweenFileOwnersByWeight) {
  SharedByWeight(this, sim_, cdt_, /*by_tag=*/false);
}

// Restore locality: the helper (the reference table) sends each tape's
// restores to the mover that reads it; tapes it does not know go anywhere.
TEST_F(PolicyTest, RestoreLocalityHelperChoosesTheMover) {
  const std::string table = sim_.archive() + "/../tapes";
  std::ofstream(table) << "# tape mover\nVOL1 m2\nVOL2 m1\n";
  Start(std::string("restore_locality_command ") + LOCATE_TABLE_BIN +
        " --tag tape= " + table +
        "\nreporting_dir reports\nreporting_hint tape\n"
        "reporting_schedule_interval_ms 3600000\n");
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_NE(cdt_.StartMover("m2"), nullptr);
  std::map<std::string, std::vector<std::string>> files;
  std::vector<std::string> all;
  for (const char* tape : {"VOL1", "VOL2", "VOL9"}) {
    files[tape] = Archive(tape, 4, "");
    all.insert(all.end(), files[tape].begin(), files[tape].end());
  }
  ASSERT_TRUE(AllArchived(all));
  std::vector<std::string> release = {"hsm_release"};
  release.insert(release.end(), all.begin(), all.end());
  ASSERT_TRUE(sim_.Lfs(release).ok());
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  for (const char* tape : {"VOL1", "VOL2", "VOL9"}) {
    std::vector<std::string> args = {"hsm_restore", "--data",
                                     std::string("tape=") + tape};
    args.insert(args.end(), files[tape].begin(), files[tape].end());
    ASSERT_TRUE(sim_.Lfs(args).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_restore") == 12; }));
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("RESTORE", "SUCCEED") == 12;
  })) << cdt_.Logs();
  const std::string reports = sim_.Path("reports");
  ASSERT_TRUE(WaitFor([&] {
    return SentTo(Lines(reports + "/VOL1")).size() == 1 &&
           SentTo(Lines(reports + "/VOL2")).size() == 1;
  }));
  EXPECT_EQ(SentTo(Lines(reports + "/VOL1")), std::set<std::string>{"m2"});
  EXPECT_EQ(SentTo(Lines(reports + "/VOL2")), std::set<std::string>{"m1"});
  auto vol1 = Lines(reports + "/VOL1");
  for (const std::string& path : files["VOL1"])
    EXPECT_NE(
        std::find(vol1.begin(), vol1.end(), "assign " + FidOf(path) + " m2"),
        vol1.end());
  // Unknown tape: no assign line, any mover.
  for (const std::string& line : Lines(reports + "/VOL9"))
    EXPECT_NE(line.rfind("assign ", 0), 0u) << line;
}

}  // namespace
}  // namespace testing_support

namespace testing_support {
namespace {

// Recalls in tape order: the helper (the reference table) names each file's
// tape and position; each tape's restores go to one mover, in position
// order, whatever the order they were asked in.
TEST_F(PolicyTest, RecallsOfATapeGoToOneMoverInPositionOrder) {
  const std::vector<uint64_t> positions = {500, 100, 300, 600, 200, 400};
  std::map<std::string, std::vector<std::string>> files;
  std::vector<std::string> all;
  const std::string table = sim_.archive() + "/../media";
  {
    std::ofstream out(table);
    out << "# file mover medium position\n";
    for (const char* tape : {"T1", "T2"})
      for (size_t i = 0; i < positions.size(); ++i)
        out << tape << "_" << i << " - " << tape << " " << positions[i] << "\n";
  }
  Start(std::string("restore_locality_command ") + LOCATE_TABLE_BIN +
        " --tag file= " + table +
        "\nbatch_restores_slices_sec 3600\n"
        "reporting_dir reports\nreporting_hint tape\n"
        "reporting_schedule_interval_ms 3600000\n");
  for (const char* id : {"m1", "m2"})
    ASSERT_NE(cdt_.StartMover(id, {{"COORDINATOOL_MAX_RESTORE", "1"}}),
              nullptr);
  for (const char* tape : {"T1", "T2"}) {
    files[tape] = Archive(tape, static_cast<int>(positions.size()), "");
    all.insert(all.end(), files[tape].begin(), files[tape].end());
  }
  ASSERT_TRUE(AllArchived(all));
  std::vector<std::string> release = {"hsm_release"};
  release.insert(release.end(), all.begin(), all.end());
  ASSERT_TRUE(sim_.Lfs(release).ok());
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  for (const char* tape : {"T1", "T2"})
    for (size_t i = 0; i < positions.size(); ++i)
      ASSERT_TRUE(sim_.Lfs({"hsm_restore", "--data",
                            std::string("tape=") + tape + ",file=" + tape +
                                "_" + std::to_string(i),
                            files[tape][i]})
                      .ok());
  // Every restore located on its medium before any is sent.
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.Counter("pending_restore_on_media") == 12;
  })) << cdt_.Logs();
  EXPECT_EQ(cdt_.Counter("waiting_media"), 2);
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("RESTORE", "SUCCEED") == 12;
  })) << cdt_.Logs();
  // Ascending positions: 100, 200, ... are files 1, 4, 2, 5, 0, 3.
  const std::string reports = sim_.Path("reports");
  std::set<std::string> movers;
  for (const char* tape : {"T1", "T2"}) {
    std::vector<std::string> expected;
    for (size_t i : {1, 4, 2, 5, 0, 3})
      expected.push_back(FidOf(files[tape][i]));
    std::vector<std::string> sent;
    std::set<std::string> to;
    for (const std::string& line : Lines(reports + "/" + tape)) {
      if (line.rfind("sent ", 0) != 0) continue;
      sent.push_back(line.substr(5, line.rfind(' ') - 5));
      to.insert(line.substr(line.rfind(' ') + 1));
    }
    EXPECT_EQ(sent, expected) << tape;
    EXPECT_EQ(to.size(), 1u) << tape;
    movers.insert(to.begin(), to.end());
  }
  EXPECT_EQ(movers, (std::set<std::string>{"m1", "m2"}));
}

// Batching with host affinity: each hint's archives all go to one mover
// (the hint holds a slot for the whole slice, even when another mover is
// idle), and the pinned hint only to its host. The report files say which
// mover got each file.
TEST_F(PolicyTest, BatchingKeepsEachHintOnOneMoverWithHostAffinity) {
  Start(
      "batch_archives_slices_sec 3600\n"
      "batch_archives_slots_per_client 2\n"
      "archive_on_hosts pin m2\n"
      "reporting_dir reports\n"
      "reporting_hint r\n"
      "reporting_schedule_interval_ms 3600000\n");
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_NE(cdt_.StartMover("m2"), nullptr);
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  auto a = Archive("a", 6, "r=A");
  auto b = Archive("b", 4, "r=B");
  auto p = Archive("p", 3, "r=P,pin");
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 13; }))
      << cdt_.Logs();
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  ASSERT_TRUE(AllArchived(a));
  ASSERT_TRUE(AllArchived(b));
  ASSERT_TRUE(AllArchived(p));
  const std::string reports = sim_.Path("reports");
  std::map<std::string, std::set<std::string>> movers;
  for (const char* hint : {"A", "B", "P"}) {
    ASSERT_TRUE(WaitFor([&] {
      auto lines = Lines(reports + "/" + hint);
      return std::count_if(lines.begin(), lines.end(),
                           [](const auto& l) {
                             return l.rfind("done ", 0) == 0;
                           }) == (hint[0] == 'A'   ? 6
                                  : hint[0] == 'B' ? 4
                                                   : 3);
    })) << hint;
    movers[hint] = SentTo(Lines(reports + "/" + hint));
    EXPECT_EQ(movers[hint].size(), 1u) << hint;
  }
  EXPECT_EQ(movers["P"], std::set<std::string>{"m2"});
  EXPECT_EQ(cdt_.ClientNumber("m1", "done_archive") +
                cdt_.ClientNumber("m2", "done_archive"),
            13);
  // m2 holds its hints for the slice (one hour): P, and A or B.
  const std::string batches = cdt_.ClientField("m2", "batches");
  EXPECT_NE(batches.find(R"("hint":"r=P,pin")"), std::string::npos) << batches;
}

// Report files line by line (docs/policies.md, report files): new, assign,
// sent, done for archives; progress of waiting restores in the global queue;
// the file removed two ticks after its last item ended.
TEST_F(PolicyTest, ReportFilesFollowTheDocumentedFormat) {
  Start(
      "archive_on_hosts pin m1\n"
      "archive_on_hosts anchor nobody\n"
      "reporting_dir reports\n"
      "reporting_hint job\n"
      "reporting_schedule_interval_ms 100\n");
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  // An anchor keeps the report live while the lines are read: it waits
  // for a mover that never comes.
  auto anchor = Archive("anchor", 1, "job=run7,anchor");
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 1; }));
  auto files = Archive("f", 2, "job=run7,pin");
  ASSERT_TRUE(AllArchived(files));
  const std::string report = sim_.Path("reports/run7");
  const std::string a = FidOf(anchor[0]), f0 = FidOf(files[0]),
                    f1 = FidOf(files[1]);
  std::vector<std::string> lines;
  ASSERT_TRUE(WaitFor([&] {
    lines = Lines(report);
    return lines.size() == 10;
  })) << ::testing::PrintToString(Lines(report));
  // Lustre sends f0 and f1 in one list: new and assign come per item as it
  // is placed, then the reply and the results.
  std::vector<std::string> placed(lines.begin(), lines.begin() + 6);
  std::vector<std::string> want_placed = {
      "new " + a,  "assign " + a + " nobody",
      "new " + f0, "assign " + f0 + " m1",
      "new " + f1, "assign " + f1 + " m1"};
  EXPECT_EQ(placed, want_placed);
  EXPECT_EQ(lines[6], "sent " + f0 + " m1");
  EXPECT_EQ(lines[7], "sent " + f1 + " m1");
  std::set<std::string> done(lines.begin() + 8, lines.end());
  EXPECT_EQ(done,
            (std::set<std::string>{"done " + f0 + " 0", "done " + f1 + " 0"}));
  // The anchor's cancel ends the last item: a cancel line, then the file
  // goes after two ticks.
  ASSERT_TRUE(sim_.Lfs({"hsm_cancel", anchor[0]}).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto l = Lines(report);
    return !l.empty() && l.back() == "cancel " + a;
  })) << ::testing::PrintToString(Lines(report));
  EXPECT_TRUE(WaitFor([&] { return access(report.c_str(), F_OK) != 0; }));

  // Restores waiting in the global queue get progress lines each tick.
  ASSERT_TRUE(sim_.Lfs({"hsm_release", files[0], files[1]}).ok());
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  ASSERT_TRUE(
      sim_.Lfs({"hsm_restore", "--data", "job=back", files[0], files[1]}).ok());
  const std::string back = sim_.Path("reports/back");
  ASSERT_TRUE(WaitFor([&] {
    auto l = Lines(back);
    return std::find(l.begin(), l.end(),
                     "progress " + FidOf(files[1]) + " global_queue 2/2") !=
           l.end();
  })) << ::testing::PrintToString(Lines(back));
  auto l = Lines(back);
  EXPECT_NE(std::find(l.begin(), l.end(),
                      "progress " + FidOf(files[0]) + " global_queue 1/2"),
            l.end());
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  EXPECT_TRUE(WaitFor([&] { return access(back.c_str(), F_OK) != 0; }));
}

// The optional cap of queued restores per owner: a new restore of an
// owner that has that many queued already fails at Lustre with EDQUOT, with
// a log and a report line; other owners' restores are queued as before.
TEST_F(PolicyTest, RestoresBeyondAnOwnersQueuedCapFailWithEdquot) {
  Start(
      "fair_share_tag user=\nmax_queued_restores_per_owner 2\n"
      "reporting_dir reports\nreporting_hint job\n"
      "reporting_schedule_interval_ms 3600000\n");
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  auto files = Archive("f", 4, "");
  ASSERT_TRUE(AllArchived(files));
  std::vector<std::string> release = {"hsm_release"};
  release.insert(release.end(), files.begin(), files.end());
  ASSERT_TRUE(sim_.Lfs(release).ok());
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(
        sim_.Lfs({"hsm_restore", "--data", "user=alice,job=cap", files[i]})
            .ok());
  ASSERT_TRUE(
      sim_.Lfs({"hsm_restore", "--data", "user=bob,job=cap", files[3]}).ok());
  const std::string refused = FidOf(files[2]);
  ASSERT_TRUE(sim_.WaitForStatus(refused, "RESTORE", "FAILED")) << cdt_.Logs();
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_restore") == 3; }))
      << cdt_.Logs();
  EXPECT_EQ(cdt_.Counter("restores_over_queue_cap"), 1);
  EXPECT_EQ(cdt_.Counter("max_queued_restores_per_owner"), 2);
  EXPECT_EQ(cdt_.ServerLogLines("request dropped .*reason=queued_cap "
                                "owner=alice cap=2 status=" +
                                std::to_string(EDQUOT))
                .size(),
            1u)
      << cdt_.Logs();
  auto lines = Lines(sim_.Path("reports/cap"));
  EXPECT_NE(
      std::find(lines.begin(), lines.end(), "quota " + refused + " alice 2"),
      lines.end())
      << ::testing::PrintToString(lines);
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  for (int i : {0, 1, 3})
    EXPECT_TRUE(sim_.WaitForStatus(FidOf(files[i]), "RESTORE", "SUCCEED"))
        << cdt_.Logs();
}

}  // namespace
}  // namespace testing_support

namespace testing_support {
namespace {

// Policy configuration errors stop the start with the file and line, and
// nothing is served; the daemon never half-applies a policy.
TEST_F(PolicyTest, ConflictingPolicyConfigurationIsRefusedAtStart) {
  ASSERT_TRUE(sim_.StartDaemon());
  const std::string conf = sim_.archive() + "/../bad.conf";
  std::ofstream(conf) << "movers m1 m2\n"
                         "archive_on_hosts tape= m1\n"
                         "archive_on_hosts_ch proj= 0 m1 m3\n";
  SpawnOptions options;
  options.env = {{"COORDINATOOL_REDIS_HOST", ""},
                 {"COORDINATOOL_CONF", "/dev/null"}};
  CommandResult r =
      RunCommand({CoordinatoolBinary(), "-c", conf, "--store", "none", "-H",
                  "127.0.0.1", "-p", "0", sim_.mount()},
                 std::chrono::seconds(30), options);
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find(conf + ":3:"), std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("unknown host 'm3'"), std::string::npos) << r.Describe();
}

// A locality helper that cannot run costs the restores their locality,
// never their progress.
TEST_F(PolicyTest, BrokenLocalityHelperDoesNotHoldRestores) {
  Start(
      "restore_locality_command /bin/false\n"
      "restore_locality_timeout_ms 200\n");
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  auto files = Archive("f", 3, "");
  ASSERT_TRUE(AllArchived(files));
  std::vector<std::string> release = {"hsm_release"};
  release.insert(release.end(), files.begin(), files.end());
  ASSERT_TRUE(sim_.Lfs(release).ok());
  std::vector<std::string> restore = {"hsm_restore", "--data", "tape=VOL1"};
  restore.insert(restore.end(), files.begin(), files.end());
  ASSERT_TRUE(sim_.Lfs(restore).ok());
  EXPECT_TRUE(WaitFor([&] {
    return sim_.CountActions("RESTORE", "SUCCEED") == 3;
  })) << cdt_.Logs();
}

// Status shows each mover's batch slots as the original does (hint,
// running count, absolute expiry seconds) plus what waits for the hint.
TEST_F(PolicyTest, StatusShowsEachMoversBatchSlots) {
  Start(
      "batch_archives_slices_sec 3600 7200\n"
      "batch_archives_slots_per_client 2\n");
  ASSERT_NE(cdt_.StartMover("m1", {{"COORDINATOOL_MAX_ARCHIVE", "2"}}),
            nullptr);
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  auto files = Archive("f", 4, "tape=A");
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 4; }));
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  ASSERT_TRUE(AllArchived(files));
  const std::string batches = cdt_.ClientField("m1", "batches");
  // Slot 0 took the hint; slot 1 stayed free.
  EXPECT_NE(batches.find(R"("hint":"tape=A")"), std::string::npos) << batches;
  EXPECT_NE(batches.find(R"("hint":"")"), std::string::npos) << batches;
  EXPECT_NE(batches.find(R"("current_count":0)"), std::string::npos) << batches;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(batches, m, std::regex(R"("expire_max_s":(\d+))")))
      << batches;
  EXPECT_GT(std::stoll(m[1]), now + 7000);
  EXPECT_LE(std::stoll(m[1]), now + 7200);
}

}  // namespace
}  // namespace testing_support

namespace testing_support {
namespace {

// With one slot per mover, each new hint goes to a mover that holds none
// (the least busy first), not to one whose slice must end first.
TEST_F(PolicyTest, NewBatchesGoToTheLeastBusyMovers) {
  Start(
      "batch_archives_slices_sec 30 60\n"
      "batch_archives_slots_per_client 1\n"
      "reporting_dir reports\n"
      "reporting_hint project\n");
  for (const char* id : {"m1", "m2", "m3"})
    ASSERT_NE(cdt_.StartMover(id), nullptr);
  // Archives without data first: not batched, any mover takes them.
  ASSERT_TRUE(AllArchived(Archive("plain", 60, "")));
  std::set<std::string> used;
  std::map<std::string, std::vector<std::string>> files;
  for (const char* project : {"alpha", "beta", "gamma"})
    files[project] = Archive(project, 10, std::string("project=") + project);
  for (const char* project : {"alpha", "beta", "gamma"}) {
    ASSERT_TRUE(AllArchived(files[project]));
    const std::string report = sim_.Path(std::string("reports/") + project);
    ASSERT_TRUE(WaitFor([&] {
      auto lines = Lines(report);
      return std::count_if(lines.begin(), lines.end(), [](const auto& l) {
               return l.rfind("done ", 0) == 0;
             }) == 10;
    }));
    auto movers = SentTo(Lines(report));
    ASSERT_EQ(movers.size(), 1u) << project;
    used.insert(*movers.begin());
  }
  EXPECT_EQ(used.size(), 3u) << cdt_.Logs();
}

}  // namespace
}  // namespace testing_support

namespace testing_support {
namespace {

// A mover killed in the middle of its batch: while it is away (grace time)
// its hint stays its own; once it is forgotten, the slot is free, the
// archive it was copying is placed again, and another mover takes the
// whole rest of the batch. Nothing is lost or done twice.
TEST_F(PolicyTest, AKilledMoversBatchMovesToAnotherAfterGrace) {
  ASSERT_TRUE(sim_.StartDaemon());
  config_path_ = sim_.archive() + "/../coordinatool.conf";
  std::ofstream(config_path_) << "batch_archives_slices_sec 3600\n"
                                 "batch_archives_slots_per_client 1\n";
  ASSERT_TRUE(cdt_.StartServer({"-c", config_path_, "--client-grace", "1000"}));
  Process* slow =
      cdt_.StartMover("slow", {{"COORDINATOOL_MAX_ARCHIVE", "1"}}, {"-b", "1"});
  ASSERT_NE(slow, nullptr);
  std::vector<std::string> files;
  for (int i = 0; i < 6; ++i) {
    files.push_back(sim_.Path("k" + std::to_string(i)));
    ASSERT_TRUE(WriteTestFile(files.back(), 3 << 20, i).has_value());
  }
  std::vector<std::string> args = {"hsm_archive", "--data", "tape=A"};
  args.insert(args.end(), files.begin(), files.end());
  ASSERT_TRUE(sim_.Lfs(args).ok());
  // `slow` takes the hint and copies one archive at a time at 1 MiB/s.
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("slow", "current_archive") == 1;
  })) << cdt_.Logs();
  ASSERT_NE(cdt_.StartMover("fast"), nullptr);
  // The batch is slow's: the idle `fast` gets none of it.
  ASSERT_TRUE(
      WaitFor([&] { return cdt_.ClientField("fast", "status") == "waiting"; }));
  EXPECT_EQ(cdt_.Counter("pending_archive"), 5);
  EXPECT_EQ(cdt_.ClientNumber("fast", "current_archive"), 0);
  EXPECT_EQ(cdt_.ClientNumber("fast", "done_archive"), 0);
  slow->Kill();
  ASSERT_TRUE(AllArchived(files));
  EXPECT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("fast", "done_archive") == 6;
  })) << cdt_.Logs();
  EXPECT_TRUE(cdt_.ClientStatus("slow").empty());  // forgotten
  EXPECT_EQ(sim_.CountActions("ARCHIVE", "FAILED"), 0);
}

}  // namespace
}  // namespace testing_support

namespace testing_support {
namespace {

// The request log's `sent` lines of `action` (docs/operations.md, request
// log), as FIDs in the order the server handed the requests to movers.
std::vector<std::string> SentInOrder(const CoordinatoolSetup& cdt,
                                     const std::string& action) {
  const std::regex sent(R"(request sent (\[[^\]]+\]) cookie=\S+ action=)" +
                        action + " ");
  std::vector<std::string> fids;
  for (const std::string& line : cdt.ServerLogLines("request sent ")) {
    std::smatch m;
    if (std::regex_search(line, m, sent)) fids.push_back(m[1]);
  }
  return fids;
}

// Blocking restores first: eight bulk restores (`hsm_restore`, no flag) are
// queued, then a reader waits on a ninth file (`sim-lfs hsm_read`: the
// simulator's implicit restore carries HSM_REQ_BLOCKING, as Lustre's does
// for an open or read of a released file). One mover takes one restore at
// a time. Returns the reader's restore's place among the restores sent.
class BlockingRestoreTest : public PolicyTest {
 protected:
  size_t PlaceOfTheBlockingRestore(int share) {
    Start("restore_blocking_share " + std::to_string(share) + "\n");
    EXPECT_NE(cdt_.StartMover("m1", {{"COORDINATOOL_MAX_RESTORE", "1"}}),
              nullptr);
    auto bulk = Archive("bulk", 8, "");
    auto read = Archive("read", 1, "");
    std::vector<std::string> release = {"hsm_release"};
    release.insert(release.end(), bulk.begin(), bulk.end());
    release.push_back(read[0]);
    EXPECT_TRUE(AllArchived(bulk));
    EXPECT_TRUE(AllArchived(read));
    EXPECT_TRUE(sim_.Lfs(release).ok());
    // The whole backlog is queued before any is sent; the read comes last,
    // alone in its list (Lustre's list takes its flags from its last item,
    // so a blocking restore listed with bulk ones may lose its flag).
    EXPECT_TRUE(cdt_.Client({"--lock"}).ok());
    std::vector<std::string> restore = {"hsm_restore"};
    restore.insert(restore.end(), bulk.begin(), bulk.end());
    EXPECT_TRUE(sim_.Lfs(restore).ok());
    EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("pending_restore") == 8; }))
        << cdt_.Logs();
    SpawnOptions options;
    options.stdout_path = sim_.archive() + "/../read.out";
    options.stderr_path = sim_.archive() + "/../read.err";
    std::string error;
    Process reader =
        Process::Spawn({SimLfsBinary(), "hsm_read", read[0]}, options, &error);
    EXPECT_GE(reader.pid(), 0) << error;
    EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("pending_restore") == 9; }))
        << cdt_.Logs();
    const boost::json::object state = cdt_.Status();
    const boost::json::value* in_force = state.if_contains("restore_blocking");
    EXPECT_TRUE(in_force && in_force->is_string() &&
                in_force->get_string() ==
                    (share ? std::to_string(share) + "%" : "off"))
        << state;
    EXPECT_TRUE(cdt_.Client({"--unlock"}).ok());

    auto status = reader.Wait(std::chrono::seconds(60));
    EXPECT_TRUE(status.has_value() && WIFEXITED(*status) &&
                WEXITSTATUS(*status) == 0)
        << cdt_.Logs();
    EXPECT_TRUE(WaitFor([&] {
      return sim_.CountActions("RESTORE", "SUCCEED") == 9;
    })) << cdt_.Logs();
    EXPECT_EQ(DigestFile(sim_.archive() + "/../read.out"), DigestFile(read[0]));
    // The simulator marked the reader's restore blocking, the others not.
    const std::string fid = FidOf(read[0]);
    for (const ActionRecord& r : sim_.Actions()) {
      if (r.action() == "RESTORE") {
        EXPECT_EQ(r.Get("flags"), r.fid() == fid ? "0x4" : "0x0") << r.line;
      }
    }
    std::vector<std::string> sent;
    // Request lines reach the log at the end of a turn of the event loop.
    EXPECT_TRUE(WaitFor([&] {
      sent = SentInOrder(cdt_, "RESTORE");
      return sent.size() == 9;
    })) << ::testing::PrintToString(sent);
    EXPECT_EQ(cdt_.Counter("blocking_restores_sent"), share ? 1 : 0);
    return static_cast<size_t>(std::find(sent.begin(), sent.end(), fid) -
                               sent.begin());
  }
};

// With the share on, the reader's restore is the first sent, before the
// eight that arrived earlier.
TEST_F(BlockingRestoreTest, ABlockingRestoreGoesBeforeEarlierBulkRestores) {
  EXPECT_EQ(PlaceOfTheBlockingRestore(90), 0u) << cdt_.Logs();
}

// With the share at 0 the priority is off: it waits its turn, last.
TEST_F(BlockingRestoreTest, WithShareZeroABlockingRestoreWaitsItsTurn) {
  EXPECT_EQ(PlaceOfTheBlockingRestore(0), 8u) << cdt_.Logs();
}

}  // namespace
}  // namespace testing_support

namespace testing_support {
namespace {

// One action per file at a time: a second archive of a file requested while
// its first archive runs, and a remove requested then, are held (Lustre
// accepts both: it looks for an earlier request of the file only for
// cancels) and sent one after the other once the earlier one ended, even
// with an idle mover asking for work. The file ends archived, then removed.
TEST_F(PolicyTest, RequestsOfABusyFileWaitForTheEarlierOne) {
  Start("");
  // The first archive is held running: its mover is stopped while it has
  // it (a 2 MiB copy at 1 MiB/s leaves time to stop it mid-copy).
  Process* first = cdt_.StartMover("m1", {}, {"-b", "1"});
  ASSERT_NE(first, nullptr);
  const std::string file = sim_.Path("busy");
  ASSERT_TRUE(WriteTestFile(file, 2 << 20, 3).has_value());
  const std::string fid = FidOf(file);
  RunLfs(sim_, "hsm_archive", {file});
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("m1", "current_archive") == 1;
  })) << cdt_.Logs();
  ASSERT_EQ(first->Signal(SIGSTOP), 0);
  ASSERT_NE(cdt_.StartMover("m2"), nullptr);  // idle, asking for work

  // `show FID --json`: type and state of each of the file's requests.
  auto states = [&] {
    std::multiset<std::string> out;
    CommandResult r = cdt_.Client({"show", fid, "--json"});
    if (!r.ok()) return out;
    const boost::json::value reply = boost::json::parse(r.out);
    for (const boost::json::value& v : reply.at("requests").as_array())
      out.insert(std::string(v.at("type").as_string()) + " " +
                 std::string(v.at("state").as_string()));
    return out;
  };
  RunLfs(sim_, "hsm_archive", {file});
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("held_same_fid") == 1; }))
      << cdt_.Logs();
  EXPECT_EQ(states(), (std::multiset<std::string>{"archive running",
                                                  "archive after_same_fid"}));
  RunLfs(sim_, "hsm_remove", {file});
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("held_same_fid") == 2; }))
      << cdt_.Logs();
  EXPECT_EQ(states(), (std::multiset<std::string>{"archive running",
                                                  "archive after_same_fid",
                                                  "remove after_same_fid"}));
  // The idle mover got neither: nothing running on it, nothing done.
  for (const char* key :
       {"current_archive", "current_remove", "done_archive", "done_remove"})
    EXPECT_EQ(cdt_.ClientNumber("m2", key), 0) << key;
  EXPECT_EQ(cdt_.ClientNumber("m1", "current_archive"), 1);

  ASSERT_EQ(first->Signal(SIGCONT), 0);
  // All three end, and succeed.
  std::map<std::string, int> succeeded;  // action -> records
  ASSERT_TRUE(WaitFor([&] {
    succeeded.clear();
    for (const ActionRecord& r : sim_.Actions())
      if (r.fid() == fid && r.status() == "SUCCEED") ++succeeded[r.action()];
    return succeeded["ARCHIVE"] + succeeded["REMOVE"] == 3;
  })) << sim_.GetParam("hsm.actions")
      << cdt_.Logs();
  EXPECT_EQ(succeeded["ARCHIVE"], 2) << sim_.GetParam("hsm.actions");
  // Removed last: no copy left, not archived (Lustre keeps the archive id);
  // an archive ending after the remove would leave it archived.
  CommandResult state = sim_.Lfs({"hsm_state", file});
  EXPECT_EQ(state.out, file + ": (0x00000000), archive_id:1\n");
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("held_same_fid") == 0; }));

  // The request log: each request of the file was sent after the one
  // before it was done, the archives first.
  const std::regex event(
      R"(request (sent|done) \S+ cookie=(\S+) action=(\S+))");
  std::vector<std::string> events;
  ASSERT_TRUE(WaitFor([&] {
    events.clear();
    for (const std::string& line :
         cdt_.ServerLogLines("request (sent|done) ")) {
      std::smatch m;
      if (line.find(" " + fid + " ") != std::string::npos &&
          std::regex_search(line, m, event))
        events.push_back(std::string(m[1]) + " " + std::string(m[3]) + " " +
                         std::string(m[2]));
    }
    return events.size() == 6;
  })) << ::testing::PrintToString(events);
  for (size_t i = 0; i < events.size(); i += 2) {
    EXPECT_EQ(events[i].substr(0, 5), "sent ") << i;
    // The done of the request just sent (same cookie) comes before the
    // next sent.
    EXPECT_EQ(events[i + 1], "done" + events[i].substr(4)) << i;
  }
  EXPECT_EQ(events[0].substr(0, 13), "sent ARCHIVE ");
  EXPECT_EQ(events[2].substr(0, 13), "sent ARCHIVE ");
  EXPECT_EQ(events[4].substr(0, 12), "sent REMOVE ");
}

}  // namespace
}  // namespace testing_support
