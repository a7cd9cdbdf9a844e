/*
 * The names copytools take from <linux/lustre/lustre_fid.h>, with only that
 * header included (see names_lustre_user.c).
 */
#include <linux/lustre/lustre_fid.h>

#include "names_check.h"

const char* names_lustre_fid_check(void) {
  struct lu_fid normal = {0x200000401ULL, 1, 0};
  struct lu_fid versioned = {0x200000401ULL, 1, 1};
  struct lu_fid igif = {12, 1, 0};

  if (!fid_is_sane(&normal) || fid_is_sane(&versioned) || !fid_is_sane(&igif) ||
      fid_is_sane(NULL))
    return "fid_is_sane";
  if (!fid_is_norm(&normal) || fid_is_norm(&igif) || !fid_is_igif(&igif))
    return "fid_is_norm/fid_is_igif";
  if (!lu_fid_eq(&normal, &normal) || lu_fid_eq(&normal, &versioned) ||
      lu_fid_cmp(&normal, &versioned) >= 0 || lu_fid_cmp(&normal, &igif) <= 0)
    return "lu_fid_eq/lu_fid_cmp";
  if (fid_seq(&normal) != 0x200000401ULL || fid_oid(&normal) != 1 ||
      fid_ver(&versioned) != 1)
    return "fid_seq/fid_oid/fid_ver";
  return NULL;
}
