/*
 * The names copytools take from <linux/lustre/lustre_user.h>, with only that
 * header included: if one of them lived elsewhere in Lustre's headers (or in
 * the simulator's), this file would not compile against them. Nor does it
 * include any system header: the ones Lustre's header includes must be
 * enough, as copytools rely on them.
 */
#include <linux/lustre/lustre_user.h>

#include "names_check.h"

const char* names_lustre_user_check(void) {
  static char fsname[MAX_OBD_NAME + 1];
  char hex[16];
  char buf[64];
  struct {
    struct hsm_action_item hai;
    char data[3];
  } item;
  enum changelog_rec_flags flags = CLF_VERSION;
  struct lov_user_md_v3 v3;
  struct lov_user_md* lum = (struct lov_user_md*)&v3;
  struct lov_user_ost_data* stripe = &v3.lmm_objects[0];
  lstatx_t stx;
  struct stat st;                         /* <sys/stat.h> */
  char names[XATTR_LIST_MAX > 0 ? 2 : 1]; /* <linux/limits.h> */
  bool yes = true;                        /* <stdbool.h> */

  (void)stripe;
  (void)names;
  if (sizeof(fsname) != 129 || !yes) return "MAX_OBD_NAME is not 128";
  if (strcmp(dot_lustre_name, ".lustre") != 0)
    return "dot_lustre_name is not \".lustre\"";
  if (strcmp(XATTR_LUSTRE_PREFIX, "lustre.") != 0 ||
      strcmp(XATTR_LUSTRE_LOV, "lustre.lov") != 0)
    return "XATTR_LUSTRE_PREFIX or XATTR_LUSTRE_LOV";
  if (LOV_USER_MAGIC_V1 != 0x0BD10BD0 || LOV_USER_MAGIC_V3 != 0x0BD30BD0 ||
      LOV_USER_MAGIC != LOV_USER_MAGIC_V1)
    return "LOV_USER_MAGIC_V1/V3";
  if (LOV_PATTERN_RAID0 != 1 || LOV_PATTERN_F_RELEASED != 0x80000000U ||
      LOV_MAXPOOLNAME != 15 || LOV_OFFSET_DEFAULT != 0xffff)
    return "LOV_PATTERN_*, LOV_MAXPOOLNAME or LOV_OFFSET_DEFAULT";
  if (lov_user_md_size(1, LOV_USER_MAGIC_V1) != 56 ||
      lov_user_md_size(2, LOV_USER_MAGIC_V3) != 96)
    return "lov_user_md_size";
  memset(&v3, 0, sizeof(v3));
  lum->lmm_magic = LOV_USER_MAGIC_V1;
  lum->lmm_stripe_offset = (__u16)-1;
  if (v3.lmm_layout_gen != 0xffff || sizeof(v3.lmm_pool_name) != 16)
    return "lov_user_md layout";
  if (sizeof(stx) != 256 || sizeof(st.st_size) != 8)
    return "lstatx_t is not struct statx";

  /* hai_dump_data_field: two hex digits a byte. */
  memset(&item, 0, sizeof(item));
  item.hai.hai_len = sizeof(item.hai) + 3;
  item.data[0] = 0x0a;
  item.data[1] = 0x1b;
  item.data[2] = (char)0xff;
  if (strcmp(hai_dump_data_field(&item.hai, hex, sizeof(hex)), "0A1BFF"))
    return "hai_dump_data_field";

  /* The changelog HSM fields, each in its own bits. */
  hsm_set_cl_event(&flags, HE_RESTORE);
  hsm_set_cl_flags(&flags, CLF_HSM_DIRTY);
  hsm_set_cl_error(&flags, 5);
  if (hsm_get_cl_event(flags) != HE_RESTORE ||
      hsm_get_cl_flags(flags) != CLF_HSM_DIRTY ||
      hsm_get_cl_error(flags) != 5 || (flags & CLF_VERSION) == 0)
    return "hsm_get_cl_* / hsm_set_cl_*";

  /* <stdio.h> (2.17 also brings <stdlib.h> and <errno.h>, 2.15 not). */
  snprintf(buf, sizeof(buf), "%d", MAX_OBD_NAME);
  if (strcmp(buf, "128") != 0) return "snprintf";
  return NULL;
}
