#include "policy/file_owner.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"
#include "hsm/fid.h"

namespace policy {

namespace {

std::string SystemError(const std::string& path, int err) {
  return path + ": " + std::strerror(err);
}

std::optional<std::string> ProjectId(const std::string& path,
                                     std::string* error) {
  // FS_IOC_FSGETXATTR needs a real descriptor (not O_PATH). O_NONBLOCK and
  // O_NOCTTY make opening a FIFO or a device harmless.
  common::UniqueFd fd(
      open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) {
    *error = SystemError(path, errno);
    return std::nullopt;
  }
  fsxattr attr{};
  if (ioctl(fd.get(), FS_IOC_FSGETXATTR, &attr) < 0) {
    if (errno == ENOTTY || errno == EOPNOTSUPP) return "0";
    *error = SystemError(path, errno);
    return std::nullopt;
  }
  return std::to_string(attr.fsx_projid);
}

}  // namespace

std::optional<std::string> FileOwner(const std::string& mount,
                                     const lu_fid& fid, OwnerKind kind,
                                     std::string* error) {
  // Without braces: the simulator names its links so, and Lustre accepts
  // both forms.
  std::string path = mount + "/.lustre/fid/" + hsm::FormatFidNoBrace(fid);
  if (kind == OwnerKind::kProjid) return ProjectId(path, error);
  struct stat st;
  if (stat(path.c_str(), &st) < 0) {
    *error = SystemError(path, errno);
    return std::nullopt;
  }
  return std::to_string(kind == OwnerKind::kUid ? st.st_uid : st.st_gid);
}

}  // namespace policy
