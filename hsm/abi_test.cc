// Struct sizes and offsets of Lustre's HSM ABI (docs/lustre.md, structures;
// x86_64 LP64). The static_asserts fail the build if a header drifts; the test
// cases check the constants the compiler cannot. Built against the
// simulator's headers and against real Lustre's (docs/lustre.md, building
// against a real Lustre); abi_c.c holds what only C can include.
#include <gtest/gtest.h>
#include <linux/lustre/lustre_kernelcomm.h>

#include <cstddef>
#include <tuple>
#include <type_traits>

#include "hsm/hal.h"
#include "hsm/lustreapi.h"

extern "C" {
int coordinatool_abi_fid_is_sane(const lu_fid* fid);
int coordinatool_abi_fid_is_norm(const lu_fid* fid);
const char* coordinatool_abi_ars_canceled_name();
}

#define ASSERT_LAYOUT(type, field, offset) \
  static_assert(offsetof(type, field) == (offset), #type "." #field)

static_assert(sizeof(lu_fid) == 16 && alignof(lu_fid) == 1);
ASSERT_LAYOUT(lu_fid, f_seq, 0);
ASSERT_LAYOUT(lu_fid, f_oid, 8);
ASSERT_LAYOUT(lu_fid, f_ver, 12);

static_assert(sizeof(hsm_extent) == 16);
ASSERT_LAYOUT(hsm_extent, offset, 0);
ASSERT_LAYOUT(hsm_extent, length, 8);

static_assert(sizeof(hsm_action_item) == 72);
ASSERT_LAYOUT(hsm_action_item, hai_len, 0);
ASSERT_LAYOUT(hsm_action_item, hai_action, 4);
ASSERT_LAYOUT(hsm_action_item, hai_fid, 8);
ASSERT_LAYOUT(hsm_action_item, hai_dfid, 24);
ASSERT_LAYOUT(hsm_action_item, hai_extent, 40);
ASSERT_LAYOUT(hsm_action_item, hai_cookie, 56);
ASSERT_LAYOUT(hsm_action_item, hai_gid, 64);
ASSERT_LAYOUT(hsm_action_item, hai_data, 72);

static_assert(sizeof(hsm_action_list) == 32);
ASSERT_LAYOUT(hsm_action_list, hal_version, 0);
ASSERT_LAYOUT(hsm_action_list, hal_count, 4);
ASSERT_LAYOUT(hsm_action_list, hal_compound_id, 8);
ASSERT_LAYOUT(hsm_action_list, hal_flags, 16);
ASSERT_LAYOUT(hsm_action_list, hal_archive_id, 24);
ASSERT_LAYOUT(hsm_action_list, padding1, 28);
ASSERT_LAYOUT(hsm_action_list, hal_fsname, 32);

static_assert(sizeof(hsm_progress) == 48);
ASSERT_LAYOUT(hsm_progress, hp_fid, 0);
ASSERT_LAYOUT(hsm_progress, hp_cookie, 16);
ASSERT_LAYOUT(hsm_progress, hp_extent, 24);
ASSERT_LAYOUT(hsm_progress, hp_flags, 40);
ASSERT_LAYOUT(hsm_progress, hp_errval, 42);
ASSERT_LAYOUT(hsm_progress, padding, 44);

static_assert(sizeof(hsm_copy) == 88);
ASSERT_LAYOUT(hsm_copy, hc_data_version, 0);
ASSERT_LAYOUT(hsm_copy, hc_flags, 8);
ASSERT_LAYOUT(hsm_copy, hc_errval, 10);
ASSERT_LAYOUT(hsm_copy, hc_hai, 16);

static_assert(sizeof(hsm_user_state) == 32);
ASSERT_LAYOUT(hsm_user_state, hus_states, 0);
ASSERT_LAYOUT(hsm_user_state, hus_archive_id, 4);
ASSERT_LAYOUT(hsm_user_state, hus_in_progress_state, 8);
ASSERT_LAYOUT(hsm_user_state, hus_in_progress_action, 12);
ASSERT_LAYOUT(hsm_user_state, hus_in_progress_location, 16);
ASSERT_LAYOUT(hsm_user_state, hus_extended_info, 32);

// hsm_progress_kernel, hsm_state_set (lustre_idl.h): abi_c.c.

static_assert(sizeof(hsm_current_action) == 24);
ASSERT_LAYOUT(hsm_current_action, hca_state, 0);
ASSERT_LAYOUT(hsm_current_action, hca_action, 4);
ASSERT_LAYOUT(hsm_current_action, hca_location, 8);

static_assert(sizeof(hsm_request) == 24);
ASSERT_LAYOUT(hsm_request, hr_action, 0);
ASSERT_LAYOUT(hsm_request, hr_archive_id, 4);
ASSERT_LAYOUT(hsm_request, hr_flags, 8);
ASSERT_LAYOUT(hsm_request, hr_itemcount, 16);
ASSERT_LAYOUT(hsm_request, hr_data_len, 20);

static_assert(sizeof(hsm_user_item) == 32);
ASSERT_LAYOUT(hsm_user_item, hui_fid, 0);
ASSERT_LAYOUT(hsm_user_item, hui_extent, 16);
static_assert(sizeof(hsm_user_request) == 24);

static_assert(sizeof(hsm_user_import) == 48);
ASSERT_LAYOUT(hsm_user_import, hui_uid, 32);
ASSERT_LAYOUT(hsm_user_import, hui_archive_id, 44);

static_assert(sizeof(kuc_hdr) == 8 && alignof(kuc_hdr) == 8);
ASSERT_LAYOUT(kuc_hdr, kuc_magic, 0);
ASSERT_LAYOUT(kuc_hdr, kuc_transport, 2);
ASSERT_LAYOUT(kuc_hdr, kuc_flags, 3);
ASSERT_LAYOUT(kuc_hdr, kuc_msgtype, 4);
ASSERT_LAYOUT(kuc_hdr, kuc_msglen, 6);

static_assert(sizeof(lustre_kernelcomm) == 24);
ASSERT_LAYOUT(lustre_kernelcomm, lk_data_count, 16);
ASSERT_LAYOUT(lustre_kernelcomm, lk_flags, 20);

// The names that differ between Lustre versions: what the build detected
// (cmake/LustreApi.cmake) is what the headers have.
#if COORDINATOOL_HAVE_HSM_REQ_BLOCKING
static_assert(HSM_REQ_BLOCKING == 0x4);
#elif defined(HSM_REQ_BLOCKING)
#error "HSM_REQ_BLOCKING is defined but COORDINATOOL_HAVE_HSM_REQ_BLOCKING is 0"
#endif

template <class R, class... A>
std::tuple_element_t<6, std::tuple<A...>> SeventhParameter(R (*)(A...));
static_assert(std::is_enum_v<decltype(SeventhParameter(&llapi_hsm_import))> ==
                  bool{COORDINATOOL_LLAPI_HSM_IMPORT_ENUM_PATTERN},
              "llapi_hsm_import's stripe pattern type");

namespace {

TEST(AbiTest, EnumValuesAreLustres) {
  EXPECT_EQ(HSMA_NONE, 10);
  EXPECT_EQ(HSMA_ARCHIVE, 20);
  EXPECT_EQ(HSMA_RESTORE, 21);
  EXPECT_EQ(HSMA_REMOVE, 22);
  EXPECT_EQ(HSMA_CANCEL, 23);
  EXPECT_EQ(HUA_NONE, 1);
  EXPECT_EQ(HUA_ARCHIVE, 10);
  EXPECT_EQ(HUA_RESTORE, 11);
  EXPECT_EQ(HUA_RELEASE, 12);
  EXPECT_EQ(HUA_REMOVE, 13);
  EXPECT_EQ(HUA_CANCEL, 14);
  // ARS_*: abi_c.c.
  EXPECT_EQ(HSM_USER_MASK, 0x32);
  EXPECT_EQ(hsm::kHalMaxSize, 1u << 20);  // HAL_MAXSIZE: abi_c.c
  EXPECT_EQ(KUC_MAGIC, 0x191C);
  EXPECT_EQ(LLAPI_MSG_MAX, 7);
  EXPECT_EQ(LLAPI_MSG_NO_ERRNO, 0x10);
}

// HS_PCCRW and HS_PCCRO came in 2.16, with the masks that include them.
TEST(AbiTest, HsmStateMasks) {
#if COORDINATOOL_HAVE_HSM_PCC_STATES
  EXPECT_EQ(HS_PCCRW, 0x80);
  EXPECT_EQ(HS_PCCRO, 0x100);
  EXPECT_EQ(HSM_STATUS_MASK, 0x1cd);
  EXPECT_EQ(HSM_FLAGS_MASK, 0x1ff);
#else
  EXPECT_EQ(HSM_STATUS_MASK, 0x4d);
  EXPECT_EQ(HSM_FLAGS_MASK, 0x7f);
#endif
}

TEST(AbiTest, ActionNames) {
  EXPECT_STREQ(hsm_copytool_action2name(HSMA_NONE), "NOOP");
  EXPECT_STREQ(hsm_copytool_action2name(HSMA_CANCEL), "CANCEL");
  EXPECT_STREQ(hsm_copytool_action2name(static_cast<hsm_copytool_action>(99)),
               "UNKNOWN");
  EXPECT_STREQ(hsm_user_action2name(HUA_RELEASE), "RELEASE");
  EXPECT_STREQ(coordinatool_abi_ars_canceled_name(), "CANCELED");
  EXPECT_STREQ(hsm_progress_state2name(HPS_RUNNING), "running");
}

TEST(AbiTest, FidSanity) {
  lu_fid normal{0x200000401, 1, 0};
  lu_fid versioned{0x200000401, 1, 1};
  lu_fid zero{0, 0, 0};
  EXPECT_TRUE(coordinatool_abi_fid_is_sane(&normal));
  EXPECT_FALSE(coordinatool_abi_fid_is_sane(&versioned));
  EXPECT_FALSE(coordinatool_abi_fid_is_sane(&zero));
  EXPECT_TRUE(coordinatool_abi_fid_is_norm(&normal));
}

}  // namespace
