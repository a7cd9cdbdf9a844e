// The part of the ABI checks (abi_test.cc) that only C can see: the real
// <linux/lustre/lustre_idl.h> and <linux/lustre/lustre_fid.h> are not valid
// C++ (a struct there embeds hsm_action_item, whose flexible array member,
// since 2.16, then is not last: a hard error in C++), and LNET_MTU, which
// HAL_MAXSIZE names, comes from <linux/lnet/lnet-types.h>, which is not
// either. A copytool written in C includes them as this file does; the
// test calls the functions below.
#include <linux/lustre/lustre_idl.h>
#if __has_include(<linux/lustre/lustre_fid.h>)
#include <linux/lustre/lustre_fid.h>  // fid_is_sane, fid_is_norm
#endif

#include <stddef.h>

#define ASSERT_LAYOUT(type, field, offset) \
  _Static_assert(offsetof(type, field) == (offset), #type "." #field)

_Static_assert(sizeof(struct hsm_progress_kernel) == 64,
               "sizeof(hsm_progress_kernel)");
ASSERT_LAYOUT(struct hsm_progress_kernel, hpk_fid, 0);
ASSERT_LAYOUT(struct hsm_progress_kernel, hpk_cookie, 16);
ASSERT_LAYOUT(struct hsm_progress_kernel, hpk_extent, 24);
ASSERT_LAYOUT(struct hsm_progress_kernel, hpk_flags, 40);
ASSERT_LAYOUT(struct hsm_progress_kernel, hpk_errval, 42);
ASSERT_LAYOUT(struct hsm_progress_kernel, hpk_data_version, 48);

_Static_assert(sizeof(struct hsm_state_set) == 24, "sizeof(hsm_state_set)");
ASSERT_LAYOUT(struct hsm_state_set, hss_valid, 0);
ASSERT_LAYOUT(struct hsm_state_set, hss_archive_id, 4);
ASSERT_LAYOUT(struct hsm_state_set, hss_setmask, 8);
ASSERT_LAYOUT(struct hsm_state_set, hss_clearmask, 16);

// The C view of structures the C++ test checks too.
_Static_assert(sizeof(struct hsm_action_item) == 72, "sizeof(hai)");
_Static_assert(sizeof(struct hsm_action_list) == 32, "sizeof(hal)");
_Static_assert(sizeof(struct hsm_user_import) == 48, "sizeof(hui)");

// hsm::kHalMaxSize (hal.h) stands for it in C++.
_Static_assert(HAL_MAXSIZE == 1 << 20, "HAL_MAXSIZE");

int coordinatool_abi_fid_is_sane(const struct lu_fid* fid) {
  return fid_is_sane(fid);
}

int coordinatool_abi_fid_is_norm(const struct lu_fid* fid) {
  return fid_is_norm(fid);
}

// enum agent_req_status (lustre_idl.h), the status of the coordinator's
// records.
_Static_assert(ARS_WAITING == 0 && ARS_SUCCEED == 4, "agent_req_status");

const char* coordinatool_abi_ars_canceled_name(void) {
  return agent_req_status2name(ARS_CANCELED);
}
