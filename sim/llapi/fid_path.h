// Internal: FID to path on a simulated mount.
//
// Thread-safety: reentrant.
#ifndef SIM_LLAPI_FID_PATH_H_
#define SIM_LLAPI_FID_PATH_H_

#include <linux/lustre/lustre_user.h>

#include <string>

namespace sim::llapi {

// Asks the daemon of the mount at `root` for the path of `fid`: 0 and the
// path relative to the mount without a leading '/' ("/" for the root), with
// repeated slashes collapsed; or -errno (-ENOENT for an unknown FID).
int Fid2PathRelative(const std::string& root, const lu_fid& fid,
                     long long recno, int linkno, std::string* path);

// DFID_NOBRACE: the name of `fid` under MOUNT/.lustre/fid/.
std::string FidNoBrace(const lu_fid& fid);

}  // namespace sim::llapi

#endif  // SIM_LLAPI_FID_PATH_H_
