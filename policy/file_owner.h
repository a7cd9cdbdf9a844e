// The owner of a file named by FID, for fair share by uid, gid or project
// (`fair_share_by`): the file is looked up as <mount>/.lustre/fid/<FID>, as
// Lustre and the simulator expose files by FID.
//
// Thread-safety: a pure function over the filesystem. It makes blocking
// system calls on the mount (stat, open): a slow or hung filesystem stalls
// the caller.
#ifndef POLICY_FILE_OWNER_H_
#define POLICY_FILE_OWNER_H_

#include <linux/lustre/lustre_user.h>

#include <optional>
#include <string>

namespace policy {

enum class OwnerKind { kUid, kGid, kProjid };

// The decimal id ("1000") of the owner of `kind` of the file `fid` under
// `mount`. A filesystem without project ids (the ioctl unsupported) puts
// every file in project 0. On failure returns nullopt and sets *error to the
// path and the reason ("/mnt/.lustre/fid/0x200000401:0x2a:0x0: No such file
// or directory").
std::optional<std::string> FileOwner(const std::string& mount,
                                     const lu_fid& fid, OwnerKind kind,
                                     std::string* error);

}  // namespace policy

#endif  // POLICY_FILE_OWNER_H_
