/*
 * The names copytools take from <lustre/lustreapi.h>, with only that header
 * included (see names_lustre_user.c); the functions by address, with their
 * types as Lustre declares them.
 */
#include <lustre/lustreapi.h>

#include "names_check.h"

/* What the simulated library must define (they are in real 2.16 and later,
 * NAMES_HAVE_LLAPI_2_16 says whether the headers in use have them). */
#ifdef NAMES_HAVE_LLAPI_2_16
static int (*const open_by_fid_at)(int, const struct lu_fid*,
                                   int) = llapi_open_by_fid_at;
static int (*const data_version_set)(int, __u64) = llapi_hsm_data_version_set;
#endif
static int (*const open_by_fid)(const char*, const struct lu_fid*,
                                int) = llapi_open_by_fid;

const char* names_lustreapi_check(void) {
  lustre_fid fid = {0, 0, 0};
  pid_t pid = getpid();    /* <unistd.h> */
  time_t now = time(NULL); /* <time.h> */
  glob_t matches;          /* <glob.h> */
  uint64_t wide = 1;       /* <stdint.h> */

  (void)matches;
  if (pid <= 0 || now <= 0 || wide != 1 || fid.f_oid != 0)
    return "the system headers of lustreapi.h";
  if (strcmp(llapi_msg_level2str(LLAPI_MSG_ERROR), "ERROR") != 0 ||
      strcmp(llapi_msg_level2str(LLAPI_MSG_WARN), "WARNING") != 0 ||
      strcmp(llapi_msg_level2str(LLAPI_MSG_DEBUG), "DEBUG") != 0 ||
      llapi_msg_level2str(LLAPI_MSG_MAX) != NULL)
    return "llapi_msg_level2str";
  if (open_by_fid == NULL) return "llapi_open_by_fid";
#ifdef NAMES_HAVE_LLAPI_2_16
  if (open_by_fid_at == NULL || data_version_set == NULL)
    return "llapi_open_by_fid_at/llapi_hsm_data_version_set";
#endif
  return NULL;
}
