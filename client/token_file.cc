#include "client/token_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace client {

namespace {

constexpr size_t kMaxBytes = 4096;

}  // namespace

bool ReadTokenFile(const std::string& path, std::string* token,
                   std::string* error) {
  common::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st;
  if (!fd.valid() || fstat(fd.get(), &st) < 0) {
    *error = fmt::format("token_file {}: {}", path, strerror(errno));
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = fmt::format("token_file {}: not a regular file", path);
    return false;
  }
  if (st.st_mode & (S_IRGRP | S_IROTH)) {
    *error = fmt::format(
        "token_file {}: readable by group or other (mode {:04o}): refused, "
        "chmod 600 it",
        path, st.st_mode & 07777);
    return false;
  }
  std::string text;
  char buffer[1024];
  while (text.size() <= kMaxBytes) {
    ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = fmt::format("token_file {}: {}", path, strerror(errno));
      return false;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  if (text.size() > kMaxBytes) {
    *error =
        fmt::format("token_file {}: larger than {} bytes", path, kMaxBytes);
    return false;
  }
  text = text.substr(0, text.find('\n'));
  const char* blanks = " \t\r";
  size_t first = text.find_first_not_of(blanks);
  if (first == std::string::npos) {
    *error = fmt::format("token_file {}: no token on its first line", path);
    return false;
  }
  *token = text.substr(first, text.find_last_not_of(blanks) - first + 1);
  return true;
}

}  // namespace client
