// Internal: finding the simulated Lustre mount a path or descriptor is on.
// A directory is a mount when it holds .lustre/fsname (docs/simulator.md).
//
// Thread-safety: all functions are reentrant.
#ifndef SIM_LLAPI_MOUNT_H_
#define SIM_LLAPI_MOUNT_H_

#include <string>

namespace sim::llapi {

struct Mount {
  std::string root;    // absolute, resolved: "/tmp/fs"
  std::string fsname;  // "lustre"
};

// Resolves `path` (or its parent when `path` does not exist) and walks up
// its ancestors to the first mount. Returns 0; -ENODEV when the path is on no
// simulated mount (logged as Lustre logs it when `log` is set); or -errno
// when neither the path nor its parent resolves (also logged).
int FindMount(const char* path, Mount* out, bool log = true);

// The mount of an open descriptor, through /proc/self/fd. Returns 0 or
// -ENOTTY when the descriptor is not on a simulated mount (as an ioctl on a
// non-Lustre file fails), never logs.
int FindMountOfFd(int fd, Mount* out);

// Reads MOUNT/.lustre/fsname: 0 and the name without its newline, or
// -errno.
int ReadFsname(const std::string& root, std::string* fsname);

}  // namespace sim::llapi

#endif  // SIM_LLAPI_MOUNT_H_
