// The names third-party copytools need from Lustre's headers
// (docs/simulator.md, third-party copytools). The C checks (names_*.c) each
// include one header only, proving every name is where Lustre puts it; this
// file includes them from C++ and checks the layouts, which are ABI: the
// same source builds against the simulator's headers and Lustre's. (Not
// lustre_idl.h nor lustre_fid.h, which includes it: Lustre's is not valid
// C++; their names are checked in C.)
#include <gtest/gtest.h>
#include <linux/lustre/lustre_user.h>
#include <lustre/lustreapi.h>

#include <cstddef>

#include "names_check.h"

#define ASSERT_LAYOUT(type, field, offset) \
  static_assert(offsetof(type, field) == (offset), #type "." #field)

static_assert(sizeof(ost_id) == 16);
ASSERT_LAYOUT(ost_id, oi.oi_id, 0);
ASSERT_LAYOUT(ost_id, oi.oi_seq, 8);
ASSERT_LAYOUT(ost_id, oi_fid, 0);

static_assert(sizeof(lov_user_ost_data_v1) == 24);
ASSERT_LAYOUT(lov_user_ost_data_v1, l_ost_oi, 0);
ASSERT_LAYOUT(lov_user_ost_data_v1, l_ost_gen, 16);
ASSERT_LAYOUT(lov_user_ost_data_v1, l_ost_idx, 20);
static_assert(sizeof(lov_user_ost_data) == sizeof(lov_user_ost_data_v1));

static_assert(sizeof(lov_user_md_v1) == 32);
ASSERT_LAYOUT(lov_user_md_v1, lmm_magic, 0);
ASSERT_LAYOUT(lov_user_md_v1, lmm_pattern, 4);
ASSERT_LAYOUT(lov_user_md_v1, lmm_oi, 8);
ASSERT_LAYOUT(lov_user_md_v1, lmm_stripe_size, 24);
ASSERT_LAYOUT(lov_user_md_v1, lmm_stripe_count, 28);
ASSERT_LAYOUT(lov_user_md_v1, lmm_stripe_offset, 30);
ASSERT_LAYOUT(lov_user_md_v1, lmm_layout_gen, 30);
ASSERT_LAYOUT(lov_user_md_v1, lmm_objects, 32);
static_assert(sizeof(lov_user_md) == sizeof(lov_user_md_v1));

static_assert(sizeof(lov_user_md_v3) == 48);
ASSERT_LAYOUT(lov_user_md_v3, lmm_stripe_offset, 30);
ASSERT_LAYOUT(lov_user_md_v3, lmm_pool_name, 32);
ASSERT_LAYOUT(lov_user_md_v3, lmm_objects, 48);

static_assert(sizeof(lstatx_t) == 256);
ASSERT_LAYOUT(lstatx_t, stx_size, 40);
ASSERT_LAYOUT(lstatx_t, stx_mtime, 112);

static_assert(MAX_OBD_NAME == 128);
static_assert(sizeof(dot_lustre_name) == sizeof(".lustre"));
static_assert(sizeof(XATTR_LUSTRE_LOV) == sizeof("lustre.lov"));
static_assert(LOV_USER_MAGIC_V1 == 0x0BD10BD0 &&
              LOV_USER_MAGIC_V3 == 0x0BD30BD0);
static_assert(LOV_PATTERN_RAID0 == 1 && LOV_MAXPOOLNAME == 15);
static_assert(CLF_HSM_EVENT_L == 7 && CLF_HSM_FLAG_L == 10 && HE_RESTORE == 1 &&
              CLF_HSM_MAXERROR == 0x7E);

namespace {

TEST(LustreApiNames, LustreUserHeader) {
  const char* wrong = names_lustre_user_check();
  EXPECT_EQ(wrong, nullptr) << wrong;
}

TEST(LustreApiNames, LustreIdlHeader) {
  const char* wrong = names_lustre_idl_check();
  EXPECT_EQ(wrong, nullptr) << wrong;
}

TEST(LustreApiNames, LustreFidHeader) {
  const char* wrong = names_lustre_fid_check();
  EXPECT_EQ(wrong, nullptr) << wrong;
}

TEST(LustreApiNames, LustreapiHeader) {
  const char* wrong = names_lustreapi_check();
  EXPECT_EQ(wrong, nullptr) << wrong;
}

}  // namespace
