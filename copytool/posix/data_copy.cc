#include "copytool/posix/data_copy.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace ct {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

int WriteAll(int fd, const char* buf, size_t len, uint64_t pos) {
  while (len > 0) {
    ssize_t n = pwrite(fd, buf, len, static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    buf += n;
    len -= static_cast<size_t>(n);
    pos += static_cast<uint64_t>(n);
  }
  return 0;
}

// Sleeps until `done` bytes are due at `bandwidth` bytes/s since `start`.
// Returns false if stopped meanwhile.
bool Throttle(uint64_t done, uint64_t bandwidth, SteadyTime start,
              StopFlag* stop) {
  if (bandwidth == 0) return true;
  const auto due =
      start +
      std::chrono::duration_cast<SteadyTime::duration>(
          std::chrono::duration<double>(static_cast<double>(done) / bandwidth));
  const auto now = std::chrono::steady_clock::now();
  return due <= now || stop->SleepFor(due - now);
}

}  // namespace

int CopyData(int src, int dst, uint64_t offset, uint64_t length,
             const CopySettings& settings, ProgressSink* sink, StopFlag* stop,
             uint64_t* copied) {
  *copied = 0;
  int rc = sink->Report(hsm_extent{offset, 0}, length);
  if (rc < 0) return rc;
  std::vector<char> buf(settings.chunk_size);
  const SteadyTime start = std::chrono::steady_clock::now();
  SteadyTime last_report = start;
  uint64_t reported = offset;  // bytes before this offset were reported
  uint64_t pos = offset;
  const uint64_t end =
      length > UINT64_MAX - offset ? UINT64_MAX : offset + length;
  while (pos < end) {
    if (stop->stopped()) return -EINTR;
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(settings.chunk_size, end - pos));
    ssize_t n = pread(src, buf.data(), want, static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break;  // the source is shorter than announced
    rc = WriteAll(dst, buf.data(), static_cast<size_t>(n), pos);
    if (rc < 0) return rc;
    pos += static_cast<uint64_t>(n);
    *copied = pos - offset;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_report >= settings.update_interval ||
        sink->ReportRequested()) {
      rc = sink->Report(hsm_extent{reported, pos - reported}, length);
      if (rc < 0) return rc;
      reported = pos;
      last_report = now;
    }
    if (!Throttle(*copied, settings.bandwidth, start, stop)) return -EINTR;
  }
  return 0;
}

}  // namespace ct
