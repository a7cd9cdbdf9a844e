#include "policy/reporter.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace policy {
namespace {

class ReporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reporter-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/reports";
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + root_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool Exists(const std::string& name) {
    return access((dir_ + "/" + name).c_str(), F_OK) == 0;
  }
  std::string root_, dir_;
};

// hsm data is bytes: only a well-formed name is reported, whatever else
// the data holds, and no byte of it, nor of a client id, can split a line.
TEST_F(ReporterTest, BinaryDataAndOddIdsKeepLinesWhole) {
  Reporter r(dir_, "job");
  lu_fid a{0x200000401, 0x2a, 0};
  r.New("job=bin,\xff\xfe\n\x80", a);
  r.Sent("job=bin,\xff\xfe\n\x80", a, "m1\ndone [0x1:0x2:0x0] 0");
  r.Done("job=bin,\xff\xfe\n\x80", a, 0);
  EXPECT_EQ(Read("bin"),
            "new [0x200000401:0x2a:0x0]\n"
            "sent [0x200000401:0x2a:0x0] m1\\x0adone [0x1:0x2:0x0] 0\n"
            "done [0x200000401:0x2a:0x0] 0\n");
  // A name that is not letters, digits, '-' or '_' is not reported.
  r.New("job=b\xffn", a);
  r.New(std::string("job=b\0n", 7), a);
  EXPECT_FALSE(Exists("b\xffn"));
  EXPECT_EQ(r.NameOf("job=b\xffn"), std::nullopt);
}

TEST_F(ReporterTest, WritesTheOriginalsLinesInOrder) {
  Reporter r(dir_, "job");
  lu_fid a{0x200000401, 0x2a, 0}, b{0x200000401, 0x2b, 0};
  r.New("job=run7", a);
  r.Assign("job=run7", a, "mover1");
  r.New("x=1,job=run7", b);
  r.Sent("job=run7", a, "mover1");
  r.Progress("x=1,job=run7", b, "global_queue", 1, 3);
  r.Done("job=run7", a, 0);
  r.Cancel("x=1,job=run7", b);
  EXPECT_EQ(Read("run7"),
            "new [0x200000401:0x2a:0x0]\n"
            "assign [0x200000401:0x2a:0x0] mover1\n"
            "new [0x200000401:0x2b:0x0]\n"
            "sent [0x200000401:0x2a:0x0] mover1\n"
            "progress [0x200000401:0x2b:0x0] global_queue 1/3\n"
            "done [0x200000401:0x2a:0x0] 0\n"
            "cancel [0x200000401:0x2b:0x0]\n");
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0711u);
}

// A restore refused for its owner's queued cap: a quota line, and it ends
// there ("-": the default owner).
TEST_F(ReporterTest, QuotaLineEndsTheItem) {
  Reporter r(dir_, "job");
  lu_fid a{0x200000401, 0x2a, 0}, b{0x200000401, 0x2b, 0};
  r.New("job=q", a);
  r.OverQueueCap("job=q", a, "alice", 100);
  r.New("job=q", b);
  r.OverQueueCap("job=q", b, "", 7);
  EXPECT_EQ(Read("q"),
            "new [0x200000401:0x2a:0x0]\n"
            "quota [0x200000401:0x2a:0x0] alice 100\n"
            "new [0x200000401:0x2b:0x0]\n"
            "quota [0x200000401:0x2b:0x0] - 7\n");
  EXPECT_EQ(r.Live("q"), 0);
}

TEST_F(ReporterTest, OnlyPlainNamesOfAtMost64BytesAreReported) {
  Reporter r(dir_, "job");
  EXPECT_EQ(r.NameOf("job=a-b_C9"), "a-b_C9");
  EXPECT_FALSE(r.NameOf("job=a/b"));
  EXPECT_FALSE(r.NameOf("job="));
  EXPECT_FALSE(r.NameOf("job=" + std::string(65, 'x')));
  EXPECT_EQ(r.NameOf("job=" + std::string(64, 'x')), std::string(64, 'x'));
  EXPECT_FALSE(r.NameOf("xjob=a"));
  r.New("job=../etc", {0x200000401, 1, 0});
  EXPECT_FALSE(Exists("..") && Exists("../etc"));
}

TEST_F(ReporterTest, FileIsDeletedOnTheSecondTickAfterItsLastItem) {
  Reporter r(dir_, "job");
  lu_fid a{0x200000401, 1, 0}, b{0x200000401, 2, 0};
  r.New("job=n", a);
  r.New("job=n", b);
  r.Done("job=n", a, 0);
  r.Tick();
  r.Tick();
  EXPECT_TRUE(Exists("n"));  // b still lives
  r.Done("job=n", b, 5);
  EXPECT_EQ(r.Live("n"), 0);
  r.Tick();
  EXPECT_TRUE(Exists("n"));
  r.Tick();
  EXPECT_FALSE(Exists("n"));
}

TEST_F(ReporterTest, NewItemBeforeTheSecondTickKeepsTheFile) {
  Reporter r(dir_, "job");
  r.New("job=n", {0x200000401, 1, 0});
  r.Done("job=n", {0x200000401, 1, 0}, 0);
  r.Tick();
  r.New("job=n", {0x200000401, 2, 0});
  r.Tick();
  r.Tick();
  EXPECT_TRUE(Exists("n"));
  EXPECT_EQ(r.Live("n"), 1);
}

// Retries (docs/policies.md): a request Lustre sent again is new for the
// server, then `retry` names where it waits and its attempt; one given up
// ends with `giveup`, and its name counts no live item then.
TEST_F(ReporterTest, RetryAndGiveUpLines) {
  Reporter r(dir_, "job");
  lu_fid a{0x200000401, 0x2a, 0};
  r.New("job=r", a);
  r.Retry("job=r", a, "mover2", 2);
  r.Done("job=r", a, 0);
  r.New("job=r", a);
  r.Retry("job=r", a, "any", 3);
  r.Done("job=r", a, 5);
  r.New("job=r", a);
  r.GiveUp("job=r", a, 3, 5);
  EXPECT_EQ(Read("r"),
            "new [0x200000401:0x2a:0x0]\n"
            "retry [0x200000401:0x2a:0x0] mover2 2\n"
            "done [0x200000401:0x2a:0x0] 0\n"
            "new [0x200000401:0x2a:0x0]\n"
            "retry [0x200000401:0x2a:0x0] any 3\n"
            "done [0x200000401:0x2a:0x0] 5\n"
            "new [0x200000401:0x2a:0x0]\n"
            "giveup [0x200000401:0x2a:0x0] 3 5\n");
  EXPECT_EQ(r.Live("r"), 0);
}

TEST_F(ReporterTest, LinesOver127BytesAreDropped) {
  Reporter r(dir_, "job");
  lu_fid a{0x200000401, 1, 0};
  r.New("job=n", a);
  r.Assign("job=n", a, std::string(120, 'm'));
  EXPECT_EQ(Read("n"), "new [0x200000401:0x1:0x0]\n");
}

TEST_F(ReporterTest, KeepsLiveFilesOpenAndClosesIdleOnes) {
  Reporter r(dir_, "job");
  lu_fid a{0x200000401, 0x2a, 0}, b{0x200000401, 0x2b, 0};
  r.New("job=run7", a);
  r.New("job=run8", b);
  EXPECT_EQ(r.open_files(), 2u);
  r.Sent("job=run7", a, "m1");
  r.Done("job=run7", a, 0);
  EXPECT_EQ(r.open_files(), 1u);  // run7 is idle
  r.Tick();
  r.Tick();
  EXPECT_FALSE(Exists("run7"));
  // A new item of a deleted name: a new file, opened again.
  r.New("job=run7", b);
  EXPECT_EQ(r.open_files(), 2u);
  EXPECT_EQ(Read("run7"), "new [0x200000401:0x2b:0x0]\n");
  EXPECT_EQ(Read("run8"), "new [0x200000401:0x2b:0x0]\n");
}

TEST_F(ReporterTest, BeyondTheOpenFileBoundLinesStillLand) {
  Reporter r(dir_, "job");
  const size_t names = Reporter::kMaxOpenFiles + 10;
  for (size_t i = 0; i < names; ++i) {
    lu_fid fid{0x200000401, static_cast<uint32_t>(i + 1), 0};
    r.New("job=n" + std::to_string(i), fid);
    r.Sent("job=n" + std::to_string(i), fid, "m1");
  }
  EXPECT_EQ(r.open_files(), Reporter::kMaxOpenFiles);
  EXPECT_EQ(Read("n" + std::to_string(names - 1)),
            "new [0x200000401:0x" + fmt::format("{:x}", names) +
                ":0x0]\nsent [0x200000401:0x" + fmt::format("{:x}", names) +
                ":0x0] m1\n");
}

}  // namespace
}  // namespace policy

namespace policy {
namespace {

// A line that cannot be written is counted (the metrics' report errors),
// and the reporter goes on: here the directory cannot exist, its parent
// being a regular file (a permission would not stop root).
TEST(ReporterErrorsTest, CountsLinesThatCannotBeWritten) {
  char tmpl[] = "/tmp/reporter-errors-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  const std::string file = root + "/not-a-dir";
  std::ofstream(file) << "x";
  Reporter reporter(file + "/reports", "project");
  const lu_fid fid{0x200000401, 1, 0};
  reporter.New("project=p1", fid);
  reporter.Done("project=p1", fid, 0);
  reporter.New("no hint here", fid);  // not reported: no error
  EXPECT_EQ(reporter.errors(), 2u);
  Reporter fine(root + "/reports", "project");
  fine.New("project=p1", fid);
  EXPECT_EQ(fine.errors(), 0u);
  std::string cmd = "rm -rf '" + root + "'";
  ASSERT_EQ(system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace policy
