// llapi calls third-party copytools use beyond the HSM core, on a running
// simulator: llapi_open_by_fid(_at) and llapi_hsm_data_version_set
// (docs/simulator.md, third-party copytools).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "common/unique_fd.h"
#include "tests/sim/hsm_test_util.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"

namespace testing_support {
namespace {

class LlapiCallsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }

  lu_fid FidOfPath(const std::string& path) {
    lu_fid fid{};
    EXPECT_EQ(llapi_path2fid(path.c_str(), &fid), 0) << path;
    return fid;
  }

  SimMount sim_;
};

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  return out;
}

TEST_F(LlapiCallsTest, OpenByFidOpensTheFileWhateverItsName) {
  ASSERT_EQ(mkdir(sim_.Path("dir").c_str(), 0755), 0);
  const std::string path = sim_.Path("dir/data");
  const auto digest = WriteTestFile(path, 5000, 1);
  ASSERT_TRUE(digest);
  const lu_fid fid = FidOfPath(path);

  // From the mount, from a directory of it, and at a descriptor of it.
  for (const std::string& where : {sim_.mount(), sim_.Path("dir")}) {
    common::UniqueFd fd(llapi_open_by_fid(where.c_str(), &fid, O_RDONLY));
    ASSERT_TRUE(fd) << where << ": " << fd.get();
    EXPECT_EQ(Digest(ReadAll(fd.get())), *digest) << where;
  }
  common::UniqueFd dir(open(sim_.Path("dir").c_str(), O_RDONLY));
  ASSERT_TRUE(dir);
  ASSERT_EQ(rename(path.c_str(), sim_.Path("moved").c_str()), 0);
  common::UniqueFd fd(llapi_open_by_fid_at(dir.get(), &fid, O_RDONLY));
  ASSERT_TRUE(fd) << fd.get();
  EXPECT_EQ(Digest(ReadAll(fd.get())), *digest);
}

TEST_F(LlapiCallsTest, OpenByFidFailsWithANegativeErrno) {
  lu_fid unknown = {0x200000401ULL, 999999, 0};
  EXPECT_EQ(llapi_open_by_fid(sim_.mount().c_str(), &unknown, O_RDONLY),
            -ENOENT);
  EXPECT_EQ(llapi_open_by_fid(sim_.Path("absent").c_str(), &unknown, O_RDONLY),
            -ENOENT);
  common::UniqueFd outside(open("/", O_RDONLY));
  ASSERT_TRUE(outside);
  EXPECT_LT(llapi_open_by_fid_at(outside.get(), &unknown, O_RDONLY), 0);
}

TEST_F(LlapiCallsTest, DataVersionSetRecordsTheArchivedVersion) {
  ASSERT_NE(sim_.StartCopytool(), nullptr);
  const std::string path = sim_.Path("archived");
  ASSERT_TRUE(WriteTestFile(path, 3000, 2));
  CommandResult r = sim_.Lfs({"hsm_archive", path});
  ASSERT_TRUE(r.ok()) << r.Describe();
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"));
  ASSERT_EQ(HsmStates(path), uint32_t{HS_EXISTS | HS_ARCHIVED});

  common::UniqueFd fd(open(path.c_str(), O_RDONLY));
  ASSERT_TRUE(fd);
  // 0 is refused and changes nothing.
  EXPECT_EQ(llapi_hsm_data_version_set(fd.get(), 0), -EINVAL);
  EXPECT_EQ(HsmStates(path), uint32_t{HS_EXISTS | HS_ARCHIVED});
  // Another archived version: the file's data no longer matches its
  // archive, which the simulator reports as dirty (docs/simulator.md).
  EXPECT_EQ(llapi_hsm_data_version_set(fd.get(), 1), 0);
  EXPECT_EQ(HsmStates(path), uint32_t{HS_EXISTS | HS_ARCHIVED | HS_DIRTY});

  common::UniqueFd elsewhere(open("/", O_RDONLY));
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(llapi_hsm_data_version_set(elsewhere.get(), 1), -ENOTTY);
}

}  // namespace
}  // namespace testing_support
