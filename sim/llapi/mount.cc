#include "sim/llapi/api.h"
// (api.h first: it gives the llapi_* declarations default visibility.)
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "common/unique_fd.h"
#include "sim/llapi/mount.h"
#include "sim/wire/messages.h"

namespace sim::llapi {
namespace {

// realpath() into a std::string: 0 or -errno.
int RealPath(const std::string& path, std::string* out) {
  std::unique_ptr<char, decltype(&free)> resolved(
      realpath(path.c_str(), nullptr), &free);
  if (!resolved) return -errno;
  *out = resolved.get();
  return 0;
}

// Lustre's dirname of the absolute form of `path`.
std::string AbsoluteParent(const char* path) {
  std::string abs = path;
  if (abs.empty() || abs[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == nullptr) return {};
    abs = std::string(cwd) + "/" + abs;
  }
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  size_t slash = abs.rfind('/');
  return slash == 0 ? "/" : abs.substr(0, slash);
}

bool IsMountRoot(const std::string& dir) {
  std::string marker =
      (dir == "/" ? std::string() : dir) + "/" + wire::kFsnameFile;
  struct stat st;
  return stat(marker.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Walks up from the resolved directory or file `resolved`.
int WalkUp(std::string resolved, Mount* out) {
  for (;;) {
    if (IsMountRoot(resolved)) {
      int rc = ReadFsname(resolved, &out->fsname);
      if (rc < 0) return rc;
      out->root = resolved;
      return 0;
    }
    if (resolved == "/") return -ENODEV;
    size_t slash = resolved.rfind('/');
    resolved = slash == 0 ? "/" : resolved.substr(0, slash);
  }
}

}  // namespace

int ReadFsname(const std::string& root, std::string* fsname) {
  std::string file = root + "/" + wire::kFsnameFile;
  common::UniqueFd fd(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return -errno;
  char buf[64];
  ssize_t n = read(fd.get(), buf, sizeof(buf));
  if (n < 0) return -errno;
  std::string name(buf, static_cast<size_t>(n));
  size_t end = name.find_first_of("\r\n");
  if (end != std::string::npos) name.resize(end);
  if (name.empty() || name.size() > LUSTRE_MAXFSNAME) return -EINVAL;
  *fsname = name;
  return 0;
}

int FindMount(const char* path, Mount* out, bool log) {
  if (path == nullptr || *path == '\0') return -EINVAL;
  std::string resolved;
  int rc = RealPath(path, &resolved);
  if (rc < 0) {
    rc = RealPath(AbsoluteParent(path), &resolved);
    if (rc < 0) {
      if (log)
        llapi_error(LLAPI_MSG_ERROR, rc, "cannot resolve path '%s'", path);
      return rc;
    }
  }
  rc = WalkUp(resolved, out);
  if (rc == -ENODEV && log)
    llapi_err_noerrno(LLAPI_MSG_ERROR,
                      "'%s' not on a mounted Lustre filesystem", path);
  return rc;
}

int FindMountOfFd(int fd, Mount* out) {
  char link[64];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  char target[PATH_MAX];
  ssize_t n = readlink(link, target, sizeof(target) - 1);
  if (n < 0) return errno == ENOENT ? -EBADF : -errno;
  target[n] = '\0';
  if (target[0] != '/') return -ENOTTY;  // socket:[...], pipe:[...]
  // A deleted file (an unlinked volatile) reads "/dir/name (deleted)": its
  // path no longer exists, so FindMount resolves its parent.
  int rc = FindMount(target, out, /*log=*/false);
  return rc < 0 ? -ENOTTY : 0;
}

}  // namespace sim::llapi
