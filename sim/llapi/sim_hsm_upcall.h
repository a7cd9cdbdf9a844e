/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * The coordinator bypass calls of LU-10968 ("add coordinator bypass upcalls
 * for HSM archive and remove"), a Lustre patch that was never merged (closed
 * Won't Fix): stock Lustre has no such calls, only a Lustre carrying that
 * patch does (in its own form: "slightly modified ioctls"). The simulator
 * models them as two RPCs so that `sim-lfs hsm_upcall` and the coordinatool
 * worker run end to end; see docs/upcall.md.
 *
 * A worker running an action an upcall took out of the coordinator calls
 * begin, does the copy (or the removal), then end with its status:
 *
 * llapi_sim_hsm_upcall_begin: `mnt` is a path on the filesystem; `fd` the
 * file open for reading (HSMA_ARCHIVE) or -1 (HSMA_REMOVE, the file named by
 * `fid` may be gone). For an archive, checks the file may be archived, marks
 * it EXISTS in `archive_id` and sets *data_version to its data version.
 * Returns 0 or -errno (-EPERM: the file may not be archived or removed,
 * e.g. archived and clean, released, NOARCHIVE).
 *
 * llapi_sim_hsm_upcall_end: the same file, descriptor and archive id;
 * `data_version` is what begin gave; `errval` 0 or a positive errno (the
 * worker's status). A successful archive marks the file ARCHIVED at that
 * version, or returns -EBUSY (and marks the file dirty) when the file
 * changed since begin; a successful remove clears ARCHIVED and EXISTS.
 * Returns 0 or -errno.
 */
#ifndef SIM_LLAPI_SIM_HSM_UPCALL_H_
#define SIM_LLAPI_SIM_HSM_UPCALL_H_

#include <linux/lustre/lustre_user.h>

#ifdef __cplusplus
extern "C" {
#endif

int llapi_sim_hsm_upcall_begin(const char* mnt, int fd,
                               const struct lu_fid* fid,
                               enum hsm_copytool_action action,
                               __u32 archive_id, __u64* data_version);
int llapi_sim_hsm_upcall_end(const char* mnt, int fd, const struct lu_fid* fid,
                             enum hsm_copytool_action action, __u32 archive_id,
                             __u64 data_version, int errval);

#ifdef __cplusplus
}
#endif

#endif /* SIM_LLAPI_SIM_HSM_UPCALL_H_ */
