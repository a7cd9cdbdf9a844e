// ct-posix as a daemon: clean shutdown on SIGTERM, archive ids it serves,
// archive layouts, dry runs, and archive copies that went missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <regex>
#include <string>

#include "tests/sim/hsm_test_util.h"
#include "tests/support/file_data.h"
#include "tests/support/process.h"
#include "tests/support/sim_daemon.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class CopytoolTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }

  std::string MakeFile(const std::string& name, uint64_t size) {
    const std::string path = sim_.Path(name);
    auto digest = WriteTestFile(path, size, size);
    EXPECT_TRUE(digest) << path;
    digest_ = digest.value_or(0);
    return path;
  }

  void Request(const std::vector<std::string>& args) {
    CommandResult r = sim_.Lfs(args);
    ASSERT_TRUE(r.ok()) << r.Describe();
  }

  // Exit status 0 within 10 s of SIGTERM.
  static ::testing::AssertionResult ExitsCleanlyOnSigterm(Process* ct) {
    ct->Signal(SIGTERM);
    std::optional<int> status = ct->Wait(std::chrono::seconds(10));
    if (!status) return ::testing::AssertionFailure() << "still running";
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "wait status " << *status;
  }

  SimMount sim_;
  uint64_t digest_ = 0;
};

TEST_F(CopytoolTest, SigtermUnregistersAndExitsZero) {
  Process* ct = sim_.StartCopytool();
  ASSERT_NE(ct, nullptr);
  EXPECT_TRUE(ExitsCleanlyOnSigterm(ct));
  EXPECT_EQ(sim_.AgentCount(), 0u);
}

// Under a library that does not provide llapi_hsm_copytool_get_fd (the
// original coordinatool's preload library), ct-posix says so and receives
// with blocking calls instead of waiting on no descriptor for ever; SIGTERM
// still stops it.
TEST_F(CopytoolTest, WorksWithoutTheCopytoolDescriptor) {
  const std::string log = sim_.archive() + "/../ct-no-get-fd.log";
  SpawnOptions options;
  options.stdout_path = options.stderr_path = log;
  const char* asan = getenv("ASAN_OPTIONS");
  options.env = {{"LD_PRELOAD", NO_GET_FD_LIB},
                 {"ASAN_OPTIONS", std::string(asan ? asan : "") +
                                      (asan && *asan ? ":" : "") +
                                      "verify_asan_link_order=0"}};
  std::string error;
  Process ct = Process::Spawn(
      {CtPosixBinary(), "-p", sim_.archive(), "-u", "1", sim_.mount()}, options,
      &error);
  ASSERT_GT(ct.pid(), 0) << error;
  ASSERT_TRUE(WaitFor([&] { return sim_.AgentCount() == 1; }))
      << ReadWholeFile(log);
  const std::string file = MakeFile("no-fd", 200000);
  Request({"hsm_archive", file});
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "SUCCEED"))
      << ReadWholeFile(log);
  EXPECT_NE(ReadWholeFile(log).find("cannot get the copytool's descriptor; "
                                    "receiving with blocking calls instead"),
            std::string::npos)
      << ReadWholeFile(log);
  EXPECT_TRUE(ExitsCleanlyOnSigterm(&ct)) << ReadWholeFile(log);
}

TEST_F(CopytoolTest, SigtermDuringACopyEndsItAsFailedAndExits) {
  Process* ct = sim_.StartCopytool({"-b", "1", "-c", "256K"});
  ASSERT_NE(ct, nullptr);
  const std::string file = MakeFile("long", 16 * kMiB);
  Request({"hsm_archive", file});
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "STARTED"));

  EXPECT_TRUE(ExitsCleanlyOnSigterm(ct));
  // The interrupted copy was ended (EINTR), not left to time out.
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "FAILED"));
  EXPECT_EQ(sim_.AgentCount(), 0u);
  const std::string copy = ArchiveCopyOf(sim_, file);
  EXPECT_FALSE(FileExists(copy));
  EXPECT_FALSE(FileExists(copy + "_tmp"));
}

TEST_F(CopytoolTest, ServesOnlyTheArchivesItRegisteredFor) {
  ASSERT_NE(sim_.StartCopytool({"-A", "2"}), nullptr);
  const std::string one = MakeFile("for-archive-1", 1000);
  const std::string two = MakeFile("for-archive-2", 1000);
  Request({"hsm_archive", "-a", "1", one});
  Request({"hsm_archive", "-a", "2", two});
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(two), "ARCHIVE", "SUCCEED"));
  EXPECT_EQ(sim_.StatusOf(FidOf(one), "ARCHIVE"), "WAITING");
  const std::string agents = sim_.GetParam("hsm.agents");
  EXPECT_TRUE(std::regex_match(
      agents,
      std::regex(R"(uuid=\S+ archive_id=2 requests=\[current:0 ok:1 errors:0\]
)"))) << agents;
}

TEST_F(CopytoolTest, ArchiveFormatV2UsesOneDirectoryLevel) {
  ASSERT_NE(sim_.StartCopytool({"-F", "v2"}), nullptr);
  const std::string file = MakeFile("flat", 5000);
  Request({"hsm_archive", file});
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "SUCCEED"));
  lu_fid fid{};
  ASSERT_EQ(llapi_path2fid(file.c_str(), &fid), 0);
  EXPECT_EQ(
      DigestFile(ct::ArchivePath(sim_.archive(), fid, ct::ArchiveFormat::kV2)),
      digest_);
  EXPECT_FALSE(FileExists(ArchiveCopyOf(sim_, file)));  // not the v1 path
}

TEST_F(CopytoolTest, DryRunOnlyLogs) {
  ASSERT_NE(sim_.StartCopytool({"--dry-run"}), nullptr);
  const std::string file = MakeFile("untouched", 5000);
  Request({"hsm_archive", file});
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "STARTED"));
  ASSERT_TRUE(WaitFor([&] {
    return sim_.Logs().find("dry-run: ARCHIVE " + FidOf(file)) !=
           std::string::npos;
  })) << sim_.Logs();
  EXPECT_FALSE(FileExists(ArchiveCopyOf(sim_, file)));
  EXPECT_EQ(sim_.StatusOf(FidOf(file), "ARCHIVE"), "STARTED");
}

TEST_F(CopytoolTest, RestoreWithoutAnArchiveCopyFailsAndTheFileStaysReleased) {
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string file = MakeFile("lost", 5000);
  Request({"hsm_archive", file});
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "SUCCEED"));
  Request({"hsm_release", file});
  ASSERT_EQ(unlink(ArchiveCopyOf(sim_, file).c_str()), 0);

  Request({"hsm_restore", file});
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(file), "RESTORE", "FAILED"));
  EXPECT_EQ(HsmStates(file) & HS_RELEASED, HS_RELEASED);
}

TEST_F(CopytoolTest, RemoveOfAnArchiveCopyAlreadyGoneSucceeds) {
  // Unlike lhsmtool_posix: a REMOVE run again (its first run killed after
  // the unlink) must not leave the file "archived" without a copy.
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string file = MakeFile("gone", 5000);
  Request({"hsm_archive", file});
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "SUCCEED"));
  ASSERT_EQ(unlink(ArchiveCopyOf(sim_, file).c_str()), 0);

  Request({"hsm_remove", file});
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(file), "REMOVE", "SUCCEED"));
  EXPECT_EQ(HsmStates(file) & HS_ARCHIVED, 0u);
  // Not archived any more: it cannot be released and lost.
  EXPECT_FALSE(sim_.Lfs({"hsm_release", file}).ok());
}

}  // namespace
}  // namespace testing_support
