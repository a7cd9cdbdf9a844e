// End-to-end behaviour of single HSM operations through the real tools:
// remove, hsm_read of a released file, and the output formats of
// hsm_state, hsm_action, hsm.active_requests, hsm.agents and hsm.actions
// (docs/lustre.md: debugfs text, lfs commands).
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "tests/sim/hsm_test_util.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class HsmOpsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }

  // Creates `name` with `size` bytes and returns its path.
  std::string MakeFile(const std::string& name, uint64_t size) {
    const std::string path = sim_.Path(name);
    auto digest = WriteTestFile(path, size, size + name.size());
    EXPECT_TRUE(digest) << path;
    digests_[path] = digest.value_or(0);
    return path;
  }

  // Archives `path` and waits for its request to succeed.
  void Archive(const std::string& path) {
    CommandResult r = sim_.Lfs({"hsm_archive", path});
    ASSERT_TRUE(r.ok()) << r.Describe();
    ASSERT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"));
  }

  std::string Output(const std::vector<std::string>& args) {
    CommandResult r = sim_.Lfs(args);
    EXPECT_TRUE(r.ok()) << r.Describe();
    return r.out;
  }

  SimMount sim_;
  std::map<std::string, uint64_t> digests_;
};

TEST_F(HsmOpsTest, RemoveClearsArchivedAndDeletesTheArchiveCopy) {
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string file = MakeFile("doomed", 3 * kMiB + 17);
  Archive(file);
  const std::string copy = ArchiveCopyOf(sim_, file);
  ASSERT_EQ(DigestFile(copy), digests_[file]);

  CommandResult r = sim_.Lfs({"hsm_remove", file});
  ASSERT_TRUE(r.ok()) << r.Describe();
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(file), "REMOVE", "SUCCEED"));
  EXPECT_EQ(HsmStates(file) & (HS_ARCHIVED | HS_EXISTS), 0u);
  EXPECT_FALSE(FileExists(copy));
  EXPECT_FALSE(FileExists(copy + "_tmp"));
  EXPECT_EQ(DigestFile(file), digests_[file]);  // the file itself is intact
}

// A remove of a deleted file without --archive: Lustre records it with
// archive id 0 and, with no copytool serving every archive, sends it to each
// archive id served. Before, the simulator gave it the default archive id
// (1), which no copytool here serves, and the archive copy stayed.
TEST_F(HsmOpsTest, RemoveOfADeletedFileWithoutArchiveReachesItsArchive) {
  ASSERT_NE(sim_.StartCopytool({"-A", "2"}), nullptr);
  const std::string file = MakeFile("gone", 100000);
  CommandResult r = sim_.Lfs({"hsm_archive", "-a", "2", file});
  ASSERT_TRUE(r.ok()) << r.Describe();
  const std::string fid = FidOf(file);
  ASSERT_TRUE(sim_.WaitForStatus(fid, "ARCHIVE", "SUCCEED"));
  const std::string copy = ArchiveCopyOf(sim_, file);
  ASSERT_TRUE(FileExists(copy)) << copy;
  ASSERT_EQ(unlink(file.c_str()), 0);

  r = sim_.Lfs({"hsm_remove", "--mntpath", sim_.mount(), fid});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_TRUE(WaitFor([&] { return !FileExists(copy); })) << sim_.Logs();
  std::map<std::string, std::string> removes;  // archive# -> status
  EXPECT_TRUE(WaitFor([&] {
    removes.clear();
    for (const ActionRecord& rec : sim_.Actions())
      if (rec.action() == "REMOVE") removes[rec.Get("archive#")] = rec.status();
    return removes.size() == 2 && removes["2"] == "SUCCEED";
  })) << sim_.GetParam("hsm.actions");
  EXPECT_EQ(removes["0"], "SUCCEED");
}

TEST_F(HsmOpsTest, HsmReadOfAReleasedFileReturnsTheOriginalData) {
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string file = MakeFile("cold", 2 * kMiB + 5);
  Archive(file);
  CommandResult r = sim_.Lfs({"hsm_release", file});
  ASSERT_TRUE(r.ok()) << r.Describe();
  ASSERT_EQ(HsmStates(file) & HS_RELEASED, HS_RELEASED);

  r = sim_.Lfs({"hsm_read", file});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.out.size(), 2 * kMiB + 5);
  EXPECT_EQ(Digest(r.out), digests_[file]);
  // The read restored the file (an implicit, blocking restore).
  EXPECT_EQ(HsmStates(file) & HS_RELEASED, 0u);
  EXPECT_EQ(DigestFile(file), digests_[file]);
  bool blocking = false;
  for (const ActionRecord& rec : sim_.Actions()) {
    if (rec.fid() == FidOf(file) && rec.action() == "RESTORE") {
      EXPECT_EQ(rec.status(), "SUCCEED") << rec.line;
      blocking = rec.Get("flags") == "0x4";
    }
  }
  EXPECT_TRUE(blocking) << sim_.GetParam("hsm.actions");
}

TEST_F(HsmOpsTest, HsmStatePrintsTheFlagWordsInLfsOrder) {
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string file = MakeFile("states", 100000);
  EXPECT_EQ(Output({"hsm_state", file}), file + ": (0x00000000)\n");
  Archive(file);
  EXPECT_EQ(Output({"hsm_state", file}),
            file + ": (0x00000009) exists archived, archive_id:1\n");
  ASSERT_TRUE(sim_.Lfs({"hsm_release", file}).ok());
  EXPECT_EQ(Output({"hsm_state", file}),
            file + ": (0x0000000d) released exists archived, archive_id:1\n");
  ASSERT_TRUE(sim_.Lfs({"hsm_restore", file}).ok());
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(file), "RESTORE", "SUCCEED"));
  ASSERT_TRUE(AppendTestData(file, 10, 1));
  EXPECT_EQ(Output({"hsm_state", file}),
            file + ": (0x0000000b) exists dirty archived, archive_id:1\n");
}

// lfs (2.16+) reports a file it cannot read and goes on with the next ones,
// exiting with the first error.
TEST_F(HsmOpsTest, StateActionSetAndClearGoOnPastAFileTheyCannotRead) {
  const std::string first = MakeFile("first", 10);
  const std::string missing = sim_.Path("missing");
  const std::string last = MakeFile("last", 20);

  CommandResult r = sim_.Lfs({"hsm_state", first, missing, last});
  EXPECT_EQ(r.exit_code, ENOENT) << r.Describe();
  EXPECT_EQ(r.out, first + ": (0x00000000)\n" + last + ": (0x00000000)\n");
  EXPECT_EQ(r.err, "sim-lfs hsm_state: get HSM state for '" + missing +
                       "' failed: No such file or directory\n");

  r = sim_.Lfs({"hsm_action", missing, first});
  EXPECT_EQ(r.exit_code, ENOENT) << r.Describe();
  EXPECT_EQ(r.out, first + ": NOOP\n");
  EXPECT_EQ(r.err, "sim-lfs hsm_action: get hsm action for '" + missing +
                       "' failed: No such file or directory\n");

  r = sim_.Lfs({"hsm_set", "--norelease", first, missing, last});
  EXPECT_EQ(r.exit_code, ENOENT) << r.Describe();
  EXPECT_EQ(r.err, "sim-lfs hsm_set: change hsm flags for '" + missing +
                       "' failed: No such file or directory\n");
  EXPECT_EQ(HsmStates(first), uint32_t{HS_NORELEASE});
  EXPECT_EQ(HsmStates(last), uint32_t{HS_NORELEASE});

  r = sim_.Lfs({"hsm_clear", "--norelease", missing, first, last});
  EXPECT_EQ(r.exit_code, ENOENT) << r.Describe();
  EXPECT_EQ(HsmStates(first), 0u);
  EXPECT_EQ(HsmStates(last), 0u);
}

TEST_F(HsmOpsTest, HsmActionShowsNoopWaitingAndRunning) {
  const std::string file = MakeFile("busy", 3 * kMiB);
  EXPECT_EQ(Output({"hsm_action", file}), file + ": NOOP\n");
  // No copytool yet: the request waits.
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", file}).ok());
  EXPECT_EQ(Output({"hsm_action", file}),
            file + ": ARCHIVE waiting (from 0 to EOF)\n");
  // A slow copytool (1 MiB/s) takes it and reports progress every second.
  ASSERT_NE(sim_.StartCopytool({"-b", "1"}), nullptr);
  const std::regex running(
      std::regex_replace(file, std::regex(R"([.\[\]])"), R"(\$&)") +
      R"(: ARCHIVE running \(([1-9][0-9]*) bytes moved\)
)");
  std::string out;
  EXPECT_TRUE(WaitFor([&] {
    out = Output({"hsm_action", file});
    return std::regex_match(out, running);
  })) << out;
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "SUCCEED"));
  EXPECT_EQ(Output({"hsm_action", file}), file + ": NOOP\n");
}

TEST_F(HsmOpsTest, DebugfsFilesDescribeARunningRequest) {
  const std::string file = MakeFile("watched", 3 * kMiB);
  ASSERT_NE(sim_.StartCopytool({"-b", "1"}), nullptr);
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", file}).ok());
  const std::string fid = FidOf(file);
  ASSERT_TRUE(sim_.WaitForStatus(fid, "ARCHIVE", "STARTED"));

  const std::string agents = sim_.GetParam("hsm.agents");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      agents, m,
      std::regex(
          R"(uuid=(\S+) archive_id=ANY requests=\[current:1 ok:0 errors:0\]
)"))) << agents;
  const std::string uuid = m[1];

  const std::string fid_re =
      std::regex_replace(fid, std::regex(R"([\[\]])"), R"(\$&)");
  std::string active;
  ASSERT_TRUE(WaitFor([&] {
    active = sim_.GetParam("hsm.active_requests");
    return std::regex_match(
        active, std::regex("fid=" + fid_re + " dfid=" + fid_re +
                           R"( compound/cookie=0x0/0x[0-9a-f]+ action=ARCHIVE )"
                           R"(archive#=1 flags=0x0 )"
                           R"(extent=0x0-0xffffffffffffffff gid=0x0 data=\[\] )"
                           R"(canceled=0 uuid=)" +
                           uuid + R"( done=[1-9][0-9]*
)"));
  })) << active;

  const std::string actions = sim_.GetParam("hsm.actions");
  EXPECT_TRUE(std::regex_match(
      actions,
      std::regex(R"(lrh=\[type=10680000 len=136 idx=1/[0-9]+\] fid=)" + fid_re +
                 " dfid=" + fid_re +
                 R"( compound/cookie=0x0/0x[0-9a-f]+ action=ARCHIVE )"
                 R"(archive#=1 flags=0x0 extent=0x0-0xffffffffffffffff )"
                 R"(gid=0x0 datalen=0 status=STARTED data=\[\]
)"))) << actions;
  // The status is awk field 13, as sanity-hsm's wait_request_state reads it.
  std::istringstream words(actions);
  std::string word;
  for (int i = 0; i < 13; ++i) words >> word;
  EXPECT_EQ(word, "status=STARTED");

  // Once it succeeded: no active request, and the agent counted it as ok.
  ASSERT_TRUE(sim_.WaitForStatus(fid, "ARCHIVE", "SUCCEED"));
  EXPECT_EQ(sim_.GetParam("hsm.active_requests"), "");
  EXPECT_EQ(
      sim_.GetParam("hsm.agents"),
      "uuid=" + uuid + " archive_id=ANY requests=[current:0 ok:1 errors:0]\n");
}

}  // namespace
}  // namespace testing_support
