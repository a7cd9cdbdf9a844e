/*
 * The names copytools take from <linux/lustre/lustre_idl.h>, with only that
 * header included (see names_lustre_user.c).
 */
#include <linux/lustre/lustre_idl.h>

#include "names_check.h"

const char* names_lustre_idl_check(void) {
  const char* name = "trusted.lov";

  /* lhsmtool_posix skips these on restore. */
  if (strncmp(XATTR_TRUSTED_PREFIX, name, sizeof(XATTR_TRUSTED_PREFIX) - 1) !=
          0 ||
      sizeof(XATTR_TRUSTED_PREFIX) != sizeof("trusted."))
    return "XATTR_TRUSTED_PREFIX is not \"trusted.\"";
  if (FID_SEQ_NORMAL != 0x200000400ULL || FID_SEQ_ROOT != 0x200000007ULL)
    return "enum fid_seq";
  if (LL_HSM_ORIGIN_MAX_ARCHIVE != 32) return "LL_HSM_ORIGIN_MAX_ARCHIVE";
  if (OBD_OBJECT_EOF != 0xffffffffffffffffULL) return "OBD_OBJECT_EOF";
  if (LOV_MAGIC_V1 != 0x0BD10BD0 || LOV_MAGIC_V3 != 0x0BD30BD0)
    return "LOV_MAGIC_V1/V3";
  return NULL;
}
