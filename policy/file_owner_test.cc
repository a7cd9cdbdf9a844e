#include "policy/file_owner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/unique_fd.h"
#include "tests/support/temp_dir.h"

namespace policy {
namespace {

// A directory laid out as a Lustre mount seen by FID: one file, `data`,
// hard-linked as .lustre/fid/<fid> as the simulator does.
class FileOwnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(mount_.Join(".lustre").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(mount_.Join(".lustre/fid").c_str(), 0755), 0);
    std::ofstream(mount_.Join("data")) << "bytes";
    ASSERT_EQ(link(mount_.Join("data").c_str(), by_fid_.c_str()), 0);
  }

  testing_support::TempDir mount_{"file-owner-test"};
  lu_fid fid_{0x200000401, 0x2a, 0};
  std::string by_fid_ = mount_.Join(".lustre/fid/0x200000401:0x2a:0x0");
};

TEST_F(FileOwnerTest, UidAndGidComeFromTheFile) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  ASSERT_EQ(chown(mount_.Join("data").c_str(), 1234, 5678), 0);
  std::string error;
  EXPECT_EQ(FileOwner(mount_.path(), fid_, OwnerKind::kUid, &error), "1234")
      << error;
  EXPECT_EQ(FileOwner(mount_.path(), fid_, OwnerKind::kGid, &error), "5678")
      << error;
}

TEST_F(FileOwnerTest, OwnerOfAFileNotChownedIsTheCaller) {
  std::string error;
  EXPECT_EQ(FileOwner(mount_.path(), fid_, OwnerKind::kUid, &error),
            std::to_string(geteuid()))
      << error;
}

// The project id set on the file when the filesystem supports it, else
// project 0 (unsupported ioctl: every file in project 0).
TEST_F(FileOwnerTest, ProjectIdOrZeroWhereUnsupported) {
  std::string expected = "0";
  common::UniqueFd fd(open(by_fid_.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  fsxattr attr{};
  if (ioctl(fd.get(), FS_IOC_FSGETXATTR, &attr) == 0) {
    attr.fsx_projid = 4242;
    if (ioctl(fd.get(), FS_IOC_FSSETXATTR, &attr) == 0) expected = "4242";
  }
  std::string error;
  EXPECT_EQ(FileOwner(mount_.path(), fid_, OwnerKind::kProjid, &error),
            expected)
      << error;
}

// A FIFO must not block the open, and its ioctl is unsupported (ENOTTY):
// project 0.
TEST_F(FileOwnerTest, FifoIsInProjectZeroWithoutBlocking) {
  lu_fid fifo{0x200000401, 0x2c, 0};
  ASSERT_EQ(
      mkfifo(mount_.Join(".lustre/fid/0x200000401:0x2c:0x0").c_str(), 0644), 0);
  std::string error;
  EXPECT_EQ(FileOwner(mount_.path(), fifo, OwnerKind::kProjid, &error), "0")
      << error;
}

TEST_F(FileOwnerTest, MissingFidIsAnErrorNamingThePath) {
  lu_fid missing{0x200000401, 0x2b, 0};
  for (OwnerKind kind :
       {OwnerKind::kUid, OwnerKind::kGid, OwnerKind::kProjid}) {
    std::string error;
    EXPECT_EQ(FileOwner(mount_.path(), missing, kind, &error), std::nullopt);
    EXPECT_EQ(error, mount_.path() +
                         "/.lustre/fid/0x200000401:0x2b:0x0: No such file or "
                         "directory");
  }
}

}  // namespace
}  // namespace policy
