#include "sim/mdt/layout.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/support/temp_dir.h"

namespace sim::mdt {
namespace {

constexpr lu_fid kFid = {0x200000401ULL, 7, 0};

lov_user_md_v1 Header(const std::string& bytes) {
  lov_user_md_v1 lum;
  EXPECT_GE(bytes.size(), sizeof(lum));
  memcpy(&lum, bytes.data(), sizeof(lum));
  return lum;
}

TEST(LayoutXattr, IsTheDefaultPlainLayoutWithOneStripe) {
  std::string bytes = LayoutXattr(kFid, /*released=*/false);
  ASSERT_EQ(bytes.size(), 56u);
  EXPECT_EQ(bytes.size(), lov_user_md_size(1, LOV_USER_MAGIC_V1));
  lov_user_md_v1 lum = Header(bytes);
  EXPECT_EQ(lum.lmm_magic, 0x0BD10BD0u);
  EXPECT_EQ(lum.lmm_pattern, uint32_t{LOV_PATTERN_RAID0});
  EXPECT_TRUE(fid_is_zero(&lum.lmm_oi.oi_fid) == false);
  EXPECT_EQ(lum.lmm_oi.oi_fid.f_seq, kFid.f_seq);
  EXPECT_EQ(lum.lmm_oi.oi_fid.f_oid, kFid.f_oid);
  EXPECT_EQ(lum.lmm_stripe_size, 1048576u);
  EXPECT_EQ(lum.lmm_stripe_count, 1u);
  // getxattr hides the layout generation (ll_sanitize_xattr).
  EXPECT_EQ(lum.lmm_stripe_offset, 0xffffu);
  lov_user_ost_data_v1 stripe;
  memcpy(&stripe, bytes.data() + sizeof(lum), sizeof(stripe));
  EXPECT_EQ(stripe.l_ost_idx, 0u);
  EXPECT_EQ(stripe.l_ost_oi.oi.oi_id, kFid.f_oid);
}

TEST(LayoutXattr, ReleasedHasTheFlagAndNoStripes) {
  std::string bytes = LayoutXattr(kFid, /*released=*/true);
  ASSERT_EQ(bytes.size(), 32u);
  lov_user_md_v1 lum = Header(bytes);
  EXPECT_EQ(lum.lmm_magic, uint32_t{LOV_USER_MAGIC_V1});
  EXPECT_EQ(lum.lmm_pattern, LOV_PATTERN_RAID0 | LOV_PATTERN_F_RELEASED);
  EXPECT_EQ(lum.lmm_stripe_count, 0u);
}

TEST(GetLayoutXattr, SizeProbeShortBufferAndCopy) {
  char buf[128];
  EXPECT_EQ(GetLayoutXattr(kFid, false, nullptr, 0), 56);
  EXPECT_EQ(GetLayoutXattr(kFid, false, buf, 55), -ERANGE);
  memset(buf, 0, sizeof(buf));
  ASSERT_EQ(GetLayoutXattr(kFid, false, buf, sizeof(buf)), 56);
  EXPECT_EQ(std::string(buf, 56), LayoutXattr(kFid, false));
  EXPECT_EQ(buf[56], 0) << "wrote past the value";
}

TEST(CheckLayoutXattr, AcceptsWhatGetxattrGaveBack) {
  // lhsmtool_posix saves the value with lmm_stripe_offset set to -1 and
  // writes it back on the restore volatile.
  for (bool released : {false, true}) {
    std::string bytes = LayoutXattr(kFid, released);
    EXPECT_EQ(CheckLayoutXattr(bytes.data(), bytes.size()), 0) << released;
  }
  EXPECT_EQ(CheckLayoutXattr(nullptr, 0), 0) << "empty value: a removal";
}

TEST(CheckLayoutXattr, RefusesWhatLustreRefuses) {
  std::string bytes = LayoutXattr(kFid, false);
  EXPECT_EQ(CheckLayoutXattr(bytes.data(), 31), -ERANGE);
  lov_user_md_v3 v3{};
  v3.lmm_magic = LOV_USER_MAGIC_V3;
  v3.lmm_pattern = LOV_PATTERN_RAID0;
  v3.lmm_stripe_size = 1 << 20;
  EXPECT_EQ(CheckLayoutXattr(&v3, sizeof(v3)), 0);
  EXPECT_EQ(CheckLayoutXattr(&v3, sizeof(v3) - 1), -ERANGE);
  lov_user_md_v1 lum = Header(bytes);
  lum.lmm_magic = 0x12345678;
  EXPECT_EQ(CheckLayoutXattr(&lum, sizeof(lum)), -ERANGE);
  lum = Header(bytes);
  lum.lmm_stripe_size = 4096;  // not in 64 KiB units
  EXPECT_EQ(CheckLayoutXattr(&lum, sizeof(lum)), -EINVAL);
  lum = Header(bytes);
  lum.lmm_pattern = LOV_PATTERN_RAID1;
  EXPECT_EQ(CheckLayoutXattr(&lum, sizeof(lum)), -EINVAL);
}

// Why the directory mount cannot serve the attribute: outside Lustre (and
// FUSE) the kernel knows no "lustre." namespace.
TEST(LayoutXattr, PlainFilesystemsRefuseTheLustreNamespace) {
  testing_support::TempDir dir("layout");
  int fd = open(dir.Join("f").c_str(), O_CREAT | O_RDWR, 0644);
  ASSERT_GE(fd, 0);
  std::string bytes = LayoutXattr(kFid, false);
  char buf[64];
  EXPECT_EQ(fgetxattr(fd, XATTR_LUSTRE_LOV, buf, sizeof(buf)), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  EXPECT_EQ(fsetxattr(fd, XATTR_LUSTRE_LOV, bytes.data(), bytes.size(), 0), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  close(fd);
}

}  // namespace
}  // namespace sim::mdt
