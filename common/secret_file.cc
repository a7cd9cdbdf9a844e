#include "common/secret_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace common {

namespace {

std::string AccessRefused(mode_t bits) {
  return (bits & (S_IWGRP | S_IWOTH | S_IXGRP | S_IXOTH))
             ? "gives group or other users access"
             : "is readable by group or other";
}

}  // namespace

bool ReadSecretFile(const std::string& path, const SecretFileRules& rules,
                    std::string* text, std::string* error) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st;
  if (!fd.valid() || fstat(fd.get(), &st) < 0) {
    *error = fmt::format("{}: {}", path, strerror(errno));
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = fmt::format("{}: not a regular file", path);
    return false;
  }
  if (rules.owner && st.st_uid != *rules.owner) {
    *error =
        fmt::format("{}: owned by uid {}, not by {} (uid {}): refused, {}",
                    path, st.st_uid, rules.owner_name, *rules.owner, rules.why);
    return false;
  }
  if (st.st_mode & rules.refused_bits) {
    *error = fmt::format("{}: mode {:04o} {}: refused, {} (chmod 600 {})", path,
                         st.st_mode & 07777, AccessRefused(rules.refused_bits),
                         rules.why, path);
    return false;
  }
  std::string read_text;
  char buffer[8192];
  while (read_text.size() <= rules.max_bytes) {
    ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = fmt::format("{}: {}", path, strerror(errno));
      return false;
    }
    if (n == 0) break;
    read_text.append(buffer, static_cast<size_t>(n));
  }
  if (read_text.size() > rules.max_bytes) {
    *error = fmt::format("{}: larger than {} bytes", path, rules.max_bytes);
    return false;
  }
  *text = std::move(read_text);
  return true;
}

}  // namespace common
