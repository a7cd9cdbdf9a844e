// What the library decides without the daemon: request size limits, request
// allocation, mount lookup, non-simulated files, and the recovery timeout.
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>
#include <malloc.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "sim/llapi/test_util.h"

namespace {

using sim::llapi::testing::ErrorCapture;
using sim::llapi::testing::FakeMount;
using sim::llapi::testing::ScopedEnv;
using sim::llapi::testing::TempDir;

using HurPtr = std::unique_ptr<hsm_user_request, decltype(&free)>;

HurPtr MakeRequest(int items, int data_len, uint32_t action = HUA_ARCHIVE) {
  HurPtr hur(llapi_hsm_user_request_alloc(items, data_len), &free);
  hur->hur_request.hr_action = action;
  hur->hur_request.hr_itemcount = static_cast<uint32_t>(items);
  hur->hur_request.hr_data_len = static_cast<uint32_t>(data_len);
  for (int i = 0; i < items; ++i) {
    hur->hur_user_item[i].hui_fid = {0x200000401, static_cast<uint32_t>(i + 1),
                                     0};
    hur->hur_user_item[i].hui_extent = {0, LUSTRE_EOF};
  }
  return hur;
}

TEST(UserRequestAllocTest, AllocatesHeaderItemsAndDataZeroed) {
  HurPtr hur(llapi_hsm_user_request_alloc(3, 5), &free);
  ASSERT_NE(hur, nullptr);
  const size_t expected = 24 + 3 * 32 + 5;
  EXPECT_GE(malloc_usable_size(hur.get()), expected);
  const char* bytes = reinterpret_cast<const char*>(hur.get());
  for (size_t i = 0; i < expected; ++i) ASSERT_EQ(bytes[i], 0) << i;
  hur->hur_request.hr_itemcount = 3;
  hur->hur_request.hr_data_len = 5;
  EXPECT_EQ(hur_len(hur.get()), static_cast<ssize_t>(expected));
}

TEST(UserRequestAllocTest, NegativeSizesGiveNull) {
  EXPECT_EQ(llapi_hsm_user_request_alloc(-1, 0), nullptr);
  EXPECT_EQ(llapi_hsm_user_request_alloc(1, -1), nullptr);
}

class NoDaemonTest : public ::testing::Test {
 protected:
  // RPCs to the fake mount fail fast instead of waiting 30 s for recovery.
  ScopedEnv timeout_{"LUSTRE_SIM_TIMEOUT", "0.2"};
  FakeMount mount_;
};

TEST_F(NoDaemonTest, RequestOf53ItemsIsE2bigBeforeAnyRpc) {
  EXPECT_EQ(llapi_hsm_request(mount_.path().c_str(), MakeRequest(53, 0).get()),
            -E2BIG);
}

TEST_F(NoDaemonTest, RequestOf1706BytesIsE2big) {
  // 24 + 52 * 32 + 18 = 1706 = MDS_MAXREQSIZE / 3.
  EXPECT_EQ(llapi_hsm_request(mount_.path().c_str(), MakeRequest(52, 18).get()),
            -E2BIG);
}

TEST_F(NoDaemonTest, RequestOf52ItemsGoesToTheDaemon) {
  // 1705 bytes pass the client check; with no daemon the call times out.
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(llapi_hsm_request(mount_.path().c_str(), MakeRequest(52, 17).get()),
            -ENOTCONN);
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(200));
}

TEST_F(NoDaemonTest, ReleaseIsSentPerFileAndAlsoWaitsForRecovery) {
  EXPECT_EQ(llapi_hsm_request(mount_.path().c_str(),
                              MakeRequest(2, 0, HUA_RELEASE).get()),
            -ENOTCONN);
}

TEST_F(NoDaemonTest, RequestOutsideAMountIsEnodev) {
  TempDir plain;
  ErrorCapture capture;
  EXPECT_EQ(llapi_hsm_request(plain.path().c_str(), MakeRequest(1, 0).get()),
            -ENODEV);
}

TEST_F(NoDaemonTest, SearchFsnameReadsTheMountsFsname) {
  std::filesystem::create_directories(mount_.path() + "/a/b");
  char fsname[LUSTRE_MAXFSNAME + 1] = {};
  EXPECT_EQ(llapi_search_fsname((mount_.path() + "/a/b").c_str(), fsname), 0);
  EXPECT_STREQ(fsname, "testfs");
  // A missing file: its parent is looked up.
  EXPECT_EQ(llapi_search_fsname((mount_.path() + "/a/missing").c_str(), fsname),
            0);
  EXPECT_STREQ(fsname, "testfs");
}

TEST(SearchFsnameTest, NonMountDirectoryIsEnodevAndLogged) {
  TempDir plain;
  ErrorCapture capture;
  char fsname[LUSTRE_MAXFSNAME + 1] = {};
  EXPECT_EQ(llapi_search_fsname(plain.path().c_str(), fsname), -ENODEV);
  auto& m = ErrorCapture::messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].level, LLAPI_MSG_ERROR | LLAPI_MSG_NO_ERRNO);
  EXPECT_EQ(m[0].text,
            "'" + plain.path() + "' not on a mounted Lustre filesystem");
}

TEST(SearchFsnameTest, UnresolvablePathIsLoggedWithErrno) {
  ErrorCapture capture;
  char fsname[LUSTRE_MAXFSNAME + 1] = {};
  EXPECT_EQ(llapi_search_fsname("/nonexistent-dir-xyz/sub/file", fsname),
            -ENOENT);
  auto& m = ErrorCapture::messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].text, "cannot resolve path '/nonexistent-dir-xyz/sub/file'");
}

TEST(NonSimulatedFileTest, FileCallsAreEnotty) {
  TempDir plain;
  std::string file = plain.path() + "/f";
  std::ofstream(file) << "data";
  lu_fid fid;
  hsm_user_state hus;
  hsm_current_action hca;
  EXPECT_EQ(llapi_path2fid(file.c_str(), &fid), -ENOTTY);
  EXPECT_EQ(llapi_hsm_state_get(file.c_str(), &hus), -ENOTTY);
  EXPECT_EQ(llapi_hsm_state_set(file.c_str(), HS_DIRTY, 0, 0), -ENOTTY);
  EXPECT_EQ(llapi_hsm_current_action(file.c_str(), &hca), -ENOTTY);
  EXPECT_EQ(llapi_path2fid((plain.path() + "/missing").c_str(), &fid), -ENOENT);
}

TEST_F(NoDaemonTest, StateSetChecksMasksLocally) {
  std::string file = mount_.path() + "/f";
  std::ofstream(file) << "data";
  EXPECT_EQ(llapi_hsm_state_set(file.c_str(), 0x1000, 0, 0), -EINVAL);
  EXPECT_EQ(llapi_hsm_state_set(file.c_str(), 0, 0x1000, 0), -EINVAL);
  if (geteuid() != 0) {
    EXPECT_EQ(llapi_hsm_state_set(file.c_str(), HS_ARCHIVED, 0, 0), -EPERM);
  }
}

TEST_F(NoDaemonTest, Fid2pathRejectsABadFidWithLustresMessage) {
  ErrorCapture capture;
  char path[256];
  long long recno = -1;
  int linkno = 0;
  EXPECT_EQ(llapi_fid2path(mount_.path().c_str(), "nonsense", path,
                           sizeof(path), &recno, &linkno),
            -EINVAL);
  auto& m = ErrorCapture::messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].text,
            "bad FID format 'nonsense', should be [seq:oid:ver] "
            "(e.g. [0x200000400:0x2:0x0])");
}

TEST_F(NoDaemonTest, StateGetWithNullBufferIsEfault) {
  EXPECT_EQ(llapi_hsm_state_get(mount_.path().c_str(), nullptr), -EFAULT);
}

}  // namespace
