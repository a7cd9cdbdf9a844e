#include "sim/mdt/journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

namespace sim::mdt {

namespace {

constexpr size_t kFrameHeader = 8;
// A record larger than this is corruption, not data.
constexpr uint32_t kMaxRecord = 16u << 20;

uint32_t Crc(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

int ReadAll(int fd, std::string* out) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return 0;
    out->append(buf, static_cast<size_t>(n));
  }
}

int WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

}  // namespace

Journal::Journal(std::string path, Options options)
    : path_(std::move(path)), options_(options) {}

void Journal::Frame(std::string_view payload, std::string* out) {
  uint32_t header[2] = {static_cast<uint32_t>(payload.size()), Crc(payload)};
  out->append(reinterpret_cast<const char*>(header), sizeof(header));
  out->append(payload);
}

int Journal::Open(const std::function<void(std::string_view)>& apply,
                  std::string* warning) {
  warning->clear();
  fd_.Reset(open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_APPEND, 0600));
  if (!fd_) return -errno;
  std::string data;
  if (int rc = ReadAll(fd_.get(), &data); rc < 0) return rc;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < kFrameHeader) {
      *warning = fmt::format("torn record header at offset {} ({} bytes)", pos,
                             data.size() - pos);
      break;
    }
    uint32_t header[2];
    memcpy(header, data.data() + pos, sizeof(header));
    if (header[0] > kMaxRecord ||
        header[0] > data.size() - pos - kFrameHeader) {
      *warning = fmt::format(
          "torn record at offset {}: {} payload bytes announced, {} present",
          pos, header[0], data.size() - pos - kFrameHeader);
      break;
    }
    std::string_view payload(data.data() + pos + kFrameHeader, header[0]);
    if (Crc(payload) != header[1]) {
      *warning = fmt::format("corrupt record at offset {}: bad checksum", pos);
      break;
    }
    apply(payload);
    pos += kFrameHeader + header[0];
  }
  if (pos < data.size()) {
    *warning += fmt::format("; ignoring the last {} bytes", data.size() - pos);
    if (ftruncate(fd_.get(), static_cast<off_t>(pos)) < 0) return -errno;
  }
  size_ = pos;
  return 0;
}

void Journal::Append(std::string_view payload) { Frame(payload, &buffer_); }

int Journal::Flush() {
  if (buffer_.empty()) return 0;
  if (int rc = WriteAll(fd_.get(), buffer_); rc < 0) return rc;
  size_ += buffer_.size();
  buffer_.clear();
  if (options_.sync && fdatasync(fd_.get()) < 0) return -errno;
  return 0;
}

int Journal::Rewrite(const std::string& framed) {
  std::string tmp = path_ + ".tmp";
  common::UniqueFd out(
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out) return -errno;
  if (int rc = WriteAll(out.get(), framed); rc < 0) return rc;
  // The snapshot must be durable before it replaces the journal.
  if (fsync(out.get()) < 0) return -errno;
  if (rename(tmp.c_str(), path_.c_str()) < 0) return -errno;
  common::UniqueFd reopened(open(path_.c_str(), O_RDWR | O_CLOEXEC | O_APPEND));
  if (!reopened) return -errno;
  fd_ = std::move(reopened);
  size_ = framed.size();
  buffer_.clear();
  return 0;
}

}  // namespace sim::mdt
