// The layout extended attribute of simulated files: what Lustre's client
// answers for getxattr/setxattr/listxattr of "lustre.lov" (docs/simulator.md,
// layout). Copytools read it on archive to save the file's striping and write
// it back on the restore volatile (lhsmtool_posix does both on every action).
//
// The simulator has no OSTs: every regular file has Lustre's default layout
// of a fresh filesystem, one RAID0 stripe of 1 MiB on OST 0, whose object id
// is the file's oid; a released file has the same layout flagged released
// and no objects, as Lustre reports it. A layout written back is checked as
// Lustre checks it and then not kept (the file keeps the default).
//
// The kernel accepts the "lustre." xattr namespace only on Lustre (and
// FUSE): on the directory mount these calls cannot reach the simulator, a
// FUSE mount answers them with these functions.
//
// Thread-safety: pure functions.
#ifndef SIM_MDT_LAYOUT_H_
#define SIM_MDT_LAYOUT_H_

#include <linux/lustre/lustre_user.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sim::mdt {

// XATTR_LUSTRE_LOV.
inline constexpr const char* kLayoutXattrName = "lustre.lov";

// Lustre's default stripe size (1 MiB) and count (1).
inline constexpr uint32_t kDefaultStripeSize = 1U << 20;
inline constexpr uint16_t kDefaultStripeCount = 1;

// The value of "lustre.lov" for the regular file `fid`: a lov_user_md_v1
// (host-endian) of 56 bytes, or 32 (no objects) when `released`. Its
// lmm_stripe_offset reads LOV_OFFSET_DEFAULT, as Lustre's getxattr puts it
// there instead of the layout generation.
std::string LayoutXattr(const lu_fid& fid, bool released);

// getxattr("lustre.lov") of a regular file into `buf` of `size` bytes: the
// value's length (only the length when `size` is 0), or -ERANGE when `size`
// is too small. Directories and other non-regular files have none: callers
// answer -ENODATA for them.
ssize_t GetLayoutXattr(const lu_fid& fid, bool released, void* buf,
                       size_t size);

// setxattr("lustre.lov") of a regular file: 0 when Lustre's client accepts
// `value` (a V1 or V3 layout whose size covers its stripes, or an empty
// value), -ERANGE otherwise. Lustre ignores XATTR_CREATE/XATTR_REPLACE here
// and swallows the -EEXIST of a file that has a layout already.
int CheckLayoutXattr(const void* value, size_t size);

// listxattr: the name to append (with its NUL) to a regular file's list.
inline constexpr size_t kLayoutXattrListLength = sizeof("lustre.lov");

}  // namespace sim::mdt

#endif  // SIM_MDT_LAYOUT_H_
