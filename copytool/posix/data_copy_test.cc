#include "copytool/posix/data_copy.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace ct {
namespace {

// An in-memory file (memfd), closed on destruction.
class MemFile {
 public:
  explicit MemFile(const std::string& contents = "")
      : fd_(memfd_create("data_copy_test", MFD_CLOEXEC)) {
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(pwrite(fd_, contents.data(), contents.size(), 0),
              static_cast<ssize_t>(contents.size()));
  }
  ~MemFile() { close(fd_); }
  int fd() const { return fd_; }
  std::string Contents() const {
    std::string out(static_cast<size_t>(lseek(fd_, 0, SEEK_END)), '\0');
    EXPECT_EQ(pread(fd_, out.data(), out.size(), 0),
              static_cast<ssize_t>(out.size()));
    return out;
  }

 private:
  int fd_;
};

// Records every report; fails with `fail_with` from report number
// `fail_at` on.
class RecordingSink : public ProgressSink {
 public:
  int Report(const hsm_extent& extent, uint64_t total) override {
    reports.push_back({extent.offset, extent.length});
    totals.push_back(total);
    return reports.size() > fail_at ? fail_with : 0;
  }
  bool ReportRequested() override { return std::exchange(requested, false); }

  std::vector<std::pair<uint64_t, uint64_t>> reports;
  std::vector<uint64_t> totals;
  size_t fail_at = SIZE_MAX;
  int fail_with = 0;
  bool requested = false;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 23);
  return s;
}

CopySettings Chunks(uint64_t chunk, double interval_s = 1000) {
  CopySettings s;
  s.chunk_size = chunk;
  s.update_interval = std::chrono::duration<double>(interval_s);
  return s;
}

TEST(CopyDataTest, CopiesTheWholeRangeInChunks) {
  const std::string data = Pattern(10000);
  MemFile src(data), dst;
  RecordingSink sink;
  StopFlag stop;
  uint64_t copied = 0;
  ASSERT_EQ(CopyData(src.fd(), dst.fd(), 0, data.size(), Chunks(4096), &sink,
                     &stop, &copied),
            0);
  EXPECT_EQ(copied, data.size());
  EXPECT_EQ(dst.Contents(), data);
  // Only the start report: the update interval never came.
  EXPECT_EQ(sink.reports, (std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}}));
  EXPECT_EQ(sink.totals, std::vector<uint64_t>{10000});
}

TEST(CopyDataTest, CopiesARangeToTheSameOffsets) {
  const std::string data = Pattern(5000);
  MemFile src(data), dst;
  RecordingSink sink;
  StopFlag stop;
  uint64_t copied = 0;
  ASSERT_EQ(CopyData(src.fd(), dst.fd(), 1000, 2000, Chunks(512), &sink, &stop,
                     &copied),
            0);
  EXPECT_EQ(copied, 2000u);
  const std::string out = dst.Contents();
  ASSERT_EQ(out.size(), 3000u);
  EXPECT_EQ(out.substr(1000), data.substr(1000, 2000));
  EXPECT_EQ(sink.reports.front(), std::make_pair(uint64_t{1000}, uint64_t{0}));
}

TEST(CopyDataTest, StopsAtTheEndOfAShorterSource) {
  MemFile src(Pattern(100)), dst;
  RecordingSink sink;
  StopFlag stop;
  uint64_t copied = 0;
  ASSERT_EQ(
      CopyData(src.fd(), dst.fd(), 0, 1000, Chunks(64), &sink, &stop, &copied),
      0);
  EXPECT_EQ(copied, 100u);
  EXPECT_EQ(dst.Contents(), Pattern(100));
}

TEST(CopyDataTest, EmptyRangeStillReportsTheStart) {
  MemFile src, dst;
  RecordingSink sink;
  StopFlag stop;
  uint64_t copied = 1;
  ASSERT_EQ(
      CopyData(src.fd(), dst.fd(), 0, 0, Chunks(64), &sink, &stop, &copied), 0);
  EXPECT_EQ(copied, 0u);
  EXPECT_EQ(sink.reports.size(), 1u);
}

TEST(CopyDataTest, ZeroIntervalReportsEachChunkAsTheBytesSinceTheLastReport) {
  MemFile src(Pattern(300)), dst;
  RecordingSink sink;
  StopFlag stop;
  uint64_t copied = 0;
  ASSERT_EQ(CopyData(src.fd(), dst.fd(), 0, 300, Chunks(100, 0), &sink, &stop,
                     &copied),
            0);
  EXPECT_EQ(sink.reports, (std::vector<std::pair<uint64_t, uint64_t>>{
                              {0, 0}, {0, 100}, {100, 100}, {200, 100}}));
}

TEST(CopyDataTest, RequestedReportGoesOutAtTheNextChunk) {
  MemFile src(Pattern(300)), dst;
  RecordingSink sink;
  sink.requested = true;
  StopFlag stop;
  uint64_t copied = 0;
  ASSERT_EQ(
      CopyData(src.fd(), dst.fd(), 0, 300, Chunks(100), &sink, &stop, &copied),
      0);
  EXPECT_EQ(sink.reports,
            (std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {0, 100}}));
}

TEST(CopyDataTest, ProgressErrorStopsTheCopyWithThatError) {
  MemFile src(Pattern(1000)), dst;
  RecordingSink sink;
  sink.fail_at = 1;  // the start report succeeds, the next one fails
  sink.fail_with = -ECANCELED;
  StopFlag stop;
  uint64_t copied = 0;
  EXPECT_EQ(CopyData(src.fd(), dst.fd(), 0, 1000, Chunks(100, 0), &sink, &stop,
                     &copied),
            -ECANCELED);
  EXPECT_EQ(copied, 100u);
}

TEST(CopyDataTest, FailedStartReportCopiesNothing) {
  MemFile src(Pattern(1000)), dst;
  RecordingSink sink;
  sink.fail_at = 0;
  sink.fail_with = -ECANCELED;
  StopFlag stop;
  uint64_t copied = 0;
  EXPECT_EQ(
      CopyData(src.fd(), dst.fd(), 0, 1000, Chunks(100), &sink, &stop, &copied),
      -ECANCELED);
  EXPECT_EQ(dst.Contents(), "");
}

TEST(CopyDataTest, StopFlagInterruptsTheCopy) {
  MemFile src(Pattern(1000)), dst;
  RecordingSink sink;
  StopFlag stop;
  stop.Stop();
  uint64_t copied = 0;
  EXPECT_EQ(
      CopyData(src.fd(), dst.fd(), 0, 1000, Chunks(100), &sink, &stop, &copied),
      -EINTR);
  EXPECT_EQ(copied, 0u);
}

TEST(CopyDataTest, BandwidthLimitPacesTheCopy) {
  MemFile src(Pattern(64 << 10)), dst;  // 64 KiB at 256 KiB/s: 250 ms
  RecordingSink sink;
  StopFlag stop;
  CopySettings settings = Chunks(16 << 10);
  settings.bandwidth = 256 << 10;
  uint64_t copied = 0;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(CopyData(src.fd(), dst.fd(), 0, 64 << 10, settings, &sink, &stop,
                     &copied),
            0);
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(240));
}

TEST(CopyDataTest, ReadErrorIsReturned) {
  MemFile dst;
  RecordingSink sink;
  StopFlag stop;
  uint64_t copied = 0;
  EXPECT_EQ(CopyData(-1, dst.fd(), 0, 10, Chunks(100), &sink, &stop, &copied),
            -EBADF);
}

}  // namespace
}  // namespace ct
