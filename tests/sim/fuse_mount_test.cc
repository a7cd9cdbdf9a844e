// End to end on a FUSE-served simulated mount (sim-mdt --fuse, a real FUSE
// mount, ct-posix): plain I/O on a released file restores it first, writes
// change the data version (the file becomes dirty), .lustre/fid takes both
// name forms, and a crashed daemon's dead mount is taken over at restart
// (docs/simulator.md, FUSE mode).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/lustre/lustre_user.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "hsm/fid.h"
#include "tests/sim/hsm_test_util.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

std::string Content(size_t size, char seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + static_cast<size_t>(seed)) % 26);
  return s;
}

bool WriteString(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  return static_cast<bool>(out.flush());
}

// The system call `pid` is blocked in, -1 if not known.
long BlockedSyscall(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
  long nr = -1;
  in >> nr;
  return nr;
}

class FuseMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FuseTestsDisabled())
      GTEST_SKIP() << "COORDINATOOL_NO_FUSE=1: FUSE tests skipped";
    ASSERT_EQ(FuseUnavailable(), "");
    ASSERT_TRUE(sim_.StartDaemon());
  }

  // Writes `data` as `name` through the mount, archives it, waits for the
  // archive and releases it. Returns its path.
  std::string ReleasedFile(const std::string& name, const std::string& data) {
    const std::string path = sim_.Path(name);
    EXPECT_TRUE(WriteString(path, data)) << path;
    CommandResult r = sim_.Lfs({"hsm_archive", path});
    EXPECT_TRUE(r.ok()) << r.Describe();
    EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"));
    r = sim_.Lfs({"hsm_release", path});
    EXPECT_TRUE(r.ok()) << r.Describe();
    EXPECT_NE(HsmStates(path) & HS_RELEASED, 0u);
    // Released: the backing file holds zeros now.
    EXPECT_NE(ReadWholeFile(sim_.backing() + "/" + name), data);
    return path;
  }

  size_t Restores(const std::string& fid) {
    size_t n = 0;
    for (const ActionRecord& r : sim_.Actions())
      if (r.fid() == fid && r.action() == "RESTORE") ++n;
    return n;
  }

  SimMount sim_{"lustre", SimMode::kFuse};
};

TEST_F(FuseMountTest, PlainCatOfAReleasedFileGetsTheRestoredBytes) {
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string data = Content(300000, 1);
  const std::string path = ReleasedFile("cold", data);
  const std::string fid = FidOf(path);

  CommandResult r = RunCommand({"/bin/cat", path}, std::chrono::seconds(60));
  ASSERT_TRUE(r.ok()) << r.Describe() << sim_.Logs();
  EXPECT_TRUE(r.out == data) << "cat read " << r.out.size() << " bytes";
  EXPECT_EQ(HsmStates(path) & (HS_RELEASED | HS_DIRTY), 0u);
  EXPECT_EQ(Restores(fid), 1u);
  EXPECT_EQ(sim_.StatusOf(fid, "RESTORE"), "SUCCEED");
  // The implicit restore is Lustre's: blocking (HSM_REQ_BLOCKING = 0x4).
  for (const ActionRecord& a : sim_.Actions()) {
    if (a.fid() == fid && a.action() == "RESTORE") {
      EXPECT_NE(a.line.find("flags=0x4"), std::string::npos) << a.line;
    }
  }
}

TEST_F(FuseMountTest, AppendToAReleasedFileKeepsTheOldDataAndMakesItDirty) {
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string data = Content(100000, 2);
  const std::string path = ReleasedFile("log", data);

  CommandResult r =
      RunCommand({"/bin/sh", "-c", "printf 'more\\n' >> \"$0\"", path},
                 std::chrono::seconds(60));
  ASSERT_TRUE(r.ok()) << r.Describe() << sim_.Logs();
  EXPECT_TRUE(ReadWholeFile(path) == data + "more\n");
  // Written after its restore: the data version changed, the archive copy
  // is out of date.
  const uint32_t states = HsmStates(path);
  EXPECT_EQ(states & HS_RELEASED, 0u);
  EXPECT_NE(states & HS_DIRTY, 0u);
  EXPECT_NE(states & HS_ARCHIVED, 0u);
}

TEST_F(FuseMountTest, DdOverwriteInsideAReleasedFileLandsOnTheRestoredData) {
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string data = Content(200000, 3);
  const std::string path = ReleasedFile("table", data);

  CommandResult r = RunCommand(
      {"/bin/sh", "-c",
       "printf XYZ | dd of=\"$0\" bs=1 seek=1000 conv=notrunc status=none",
       path},
      std::chrono::seconds(60));
  ASSERT_TRUE(r.ok()) << r.Describe() << sim_.Logs();
  std::string want = data;
  want.replace(1000, 3, "XYZ");
  EXPECT_TRUE(ReadWholeFile(path) == want);
  EXPECT_EQ(HsmStates(path) & (HS_RELEASED | HS_DIRTY), HS_DIRTY);
}

TEST_F(FuseMountTest, TruncateOfAReleasedFileRestoresItFirst) {
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string data = Content(50000, 4);
  const std::string path = ReleasedFile("cut", data);

  CommandResult r = RunCommand({"/usr/bin/truncate", "-s", "10", path});
  ASSERT_TRUE(r.ok()) << r.Describe() << sim_.Logs();
  EXPECT_EQ(ReadWholeFile(path), data.substr(0, 10));
  EXPECT_EQ(HsmStates(path) & (HS_RELEASED | HS_DIRTY), HS_DIRTY);
  EXPECT_EQ(Restores(FidOf(path)), 1u);
}

TEST_F(FuseMountTest, TwoReadersAtOnceSendOneRestoreAndBothGetTheData) {
  const std::string data = Content(80000, 5);
  // Archived with a copytool, which then goes away so that the readers
  // block until another one comes.
  Process* ct = sim_.StartCopytool();
  ASSERT_NE(ct, nullptr);
  const std::string path = ReleasedFile("shared", data);
  const std::string fid = FidOf(path);
  ct->Kill();
  ASSERT_TRUE(WaitFor([&] { return sim_.AgentCount() == 0; }));

  std::vector<Process> readers;
  std::vector<std::string> outs;
  for (int i = 0; i < 2; ++i) {
    SpawnOptions options;
    outs.push_back(sim_.archive() + "/../reader-" + std::to_string(i));
    options.stdout_path = outs.back();
    std::string error;
    readers.push_back(Process::Spawn({"/bin/cat", path}, options, &error));
    ASSERT_GE(readers.back().pid(), 0) << error;
  }
  // Both are inside read(2), waiting for the restore.
  for (Process& p : readers)
    ASSERT_TRUE(WaitFor([&] { return BlockedSyscall(p.pid()) == SYS_read; }))
        << "reader " << p.pid() << " is not blocked in read";
  EXPECT_EQ(Restores(fid), 1u);
  EXPECT_EQ(sim_.StatusOf(fid, "RESTORE"), "WAITING");

  ASSERT_NE(sim_.StartCopytool(), nullptr);
  for (Process& p : readers) {
    std::optional<int> rc = p.Wait(std::chrono::seconds(60));
    ASSERT_TRUE(rc.has_value()) << sim_.Logs();
    EXPECT_EQ(*rc, 0);
  }
  for (const std::string& out : outs) EXPECT_TRUE(ReadWholeFile(out) == data);
  EXPECT_EQ(Restores(fid), 1u);
  EXPECT_EQ(sim_.StatusOf(fid, "RESTORE"), "SUCCEED");
}

TEST_F(FuseMountTest, DotLustreFidOpensByBothNameForms) {
  const std::string path = sim_.Path("named");
  ASSERT_TRUE(WriteString(path, "by fid\n"));
  const std::string fid = FidOf(path);  // "[0x...:0x...:0x...]"
  ASSERT_FALSE(fid.empty());
  const std::string dir = sim_.Path(".lustre/fid/");
  EXPECT_EQ(ReadWholeFile(dir + fid), "by fid\n");
  EXPECT_EQ(ReadWholeFile(dir + fid.substr(1, fid.size() - 2)), "by fid\n");
  struct stat by_name, by_fid;
  ASSERT_EQ(stat(path.c_str(), &by_name), 0);
  ASSERT_EQ(stat((dir + fid).c_str(), &by_fid), 0);
  EXPECT_EQ(by_name.st_ino, by_fid.st_ino);
  // Not a FID, or one nobody has: ENOENT, as Lustre answers.
  errno = 0;
  EXPECT_NE(access((dir + "notafid").c_str(), F_OK), 0);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_NE(access((dir + "[0x200000401:0xfffff:0x0]").c_str(), F_OK), 0);
  EXPECT_EQ(errno, ENOENT);
  // Inode numbers are the backing files'.
  struct stat backing;
  ASSERT_EQ(stat((sim_.backing() + "/named").c_str(), &backing), 0);
  EXPECT_EQ(by_name.st_ino, backing.st_ino);
}

// lhsmtool_posix reads "lustre.lov" on every archive and writes it back on
// the restore's volatile: every regular file has one, as on Lustre.
TEST_F(FuseMountTest, RegularFilesHaveALustreLayoutAttribute) {
  const std::string path = sim_.Path("striped");
  ASSERT_TRUE(WriteString(path, "layout\n"));
  char buf[256];
  ssize_t len = getxattr(path.c_str(), XATTR_LUSTRE_LOV, buf, sizeof(buf));
  ASSERT_EQ(len, static_cast<ssize_t>(sizeof(lov_user_md_v1) +
                                      sizeof(lov_user_ost_data_v1)))
      << strerror(errno);
  lov_user_md_v1 lum;
  memcpy(&lum, buf, sizeof(lum));
  EXPECT_EQ(lum.lmm_magic, static_cast<uint32_t>(LOV_USER_MAGIC_V1));
  EXPECT_EQ(lum.lmm_stripe_count, 1);
  // Listed, and a valid layout written back is taken.
  char names[1024];
  ssize_t list = listxattr(path.c_str(), names, sizeof(names));
  ASSERT_GT(list, 0) << strerror(errno);
  EXPECT_NE(std::string(names, static_cast<size_t>(list)).find("lustre.lov"),
            std::string::npos);
  EXPECT_EQ(setxattr(path.c_str(), XATTR_LUSTRE_LOV, buf,
                     static_cast<size_t>(len), 0),
            0)
      << strerror(errno);
  EXPECT_NE(setxattr(path.c_str(), XATTR_LUSTRE_LOV, buf, 3, 0), 0);
  // A directory has none.
  EXPECT_LT(getxattr(sim_.Path("").c_str(), XATTR_LUSTRE_LOV, buf, sizeof(buf)),
            0);
  EXPECT_EQ(errno, ENODATA);
  // A released file's layout has no stripes and the released flag.
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string cold = ReleasedFile("cold-layout", Content(4096, 'l'));
  len = getxattr(cold.c_str(), XATTR_LUSTRE_LOV, buf, sizeof(buf));
  ASSERT_EQ(len, static_cast<ssize_t>(sizeof(lov_user_md_v1)))
      << strerror(errno);
  memcpy(&lum, buf, sizeof(lum));
  EXPECT_NE(lum.lmm_pattern & LOV_PATTERN_F_RELEASED, 0u);
  // Reading the attribute restored nothing.
  EXPECT_NE(HsmStates(cold) & HS_RELEASED, 0u);
}

TEST_F(FuseMountTest, RestartAfterACrashTakesOverTheDeadMount) {
  const std::string path = sim_.Path("survivor");
  ASSERT_TRUE(WriteString(path, "still here\n"));
  // SIGKILL, as a crash: the kernel keeps a dead mount.
  sim_.daemon().Kill();
  struct stat st;
  errno = 0;
  EXPECT_NE(stat(path.c_str(), &st), 0);
  EXPECT_EQ(errno, ENOTCONN);
  ASSERT_TRUE(sim_.StartDaemon());
  EXPECT_EQ(ReadWholeFile(path), "still here\n");
}

}  // namespace
}  // namespace testing_support
