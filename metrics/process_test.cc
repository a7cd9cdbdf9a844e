#include "metrics/process.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>

namespace metrics {
namespace {

// proc(5): pid (comm) state ppid ... utime(14) stime(15) ... starttime(22)
// vsize(23) rss(24) ...; the command name may hold spaces and ')'.
constexpr std::string_view kStat =
    "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
    "250 150 0 0 20 0 3 0 5000 123456789 300 18446744073709551615 1 1 0 0 "
    "0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessTest, ParsesStatFields) {
  ProcessStats stats;
  ASSERT_TRUE(ParseProcStat(kStat, 100, 4096, 1'700'000'000, &stats));
  EXPECT_DOUBLE_EQ(stats.cpu_seconds, 4.0);  // (250 + 150) / 100
  EXPECT_DOUBLE_EQ(stats.start_time_seconds, 1'700'000'050.0);
  EXPECT_EQ(stats.virtual_bytes, 123456789u);
  EXPECT_EQ(stats.resident_bytes, 300u * 4096);
}

TEST(ProcessTest, RefusesShortStat) {
  ProcessStats stats;
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 2 3", 100, 4096, 0, &stats));
  EXPECT_FALSE(ParseProcStat("no parenthesis", 100, 4096, 0, &stats));
}

TEST(ProcessTest, ParsesBootTime) {
  EXPECT_EQ(ParseBootTime("cpu 1 2 3\nintr 5\nbtime 1699999999\nprocs 3\n"),
            1699999999);
  EXPECT_EQ(ParseBootTime("cpu 1 2 3\n"), std::nullopt);
}

TEST(ProcessTest, ReadsThisProcess) {
  auto stats = ReadProcessStats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_GT(stats->resident_bytes, 0u);
  EXPECT_GE(stats->open_fds, 3u);  // stdin, stdout, stderr at least
  EXPECT_GE(stats->max_fds, stats->open_fds);
  // Started before now, and not before 2020.
  EXPECT_LE(stats->start_time_seconds, static_cast<double>(time(nullptr)) + 1);
  EXPECT_GT(stats->start_time_seconds, 1.5e9);
  Exposition out;
  WriteProcessMetrics(*stats, out);
  EXPECT_NE(out.text().find("# TYPE process_cpu_seconds_total counter\n"),
            std::string::npos);
  EXPECT_NE(out.text().find("\nprocess_open_fds "), std::string::npos);
}

}  // namespace
}  // namespace metrics
