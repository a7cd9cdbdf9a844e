#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>

namespace metrics {
namespace {

TEST(ExpositionTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain-id_1"), "plain-id_1");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeHelp("a\\b\nc \"q\""), "a\\\\b\\nc \"q\"");
}

TEST(ExpositionTest, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(1e12), "1000000000000");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(ExpositionTest, WritesFamiliesAndSamples) {
  Exposition out;
  out.Family("x_total", Exposition::Type::kCounter, "Things.\nDone.");
  out.Sample("x_total", {{"type", "archive"}, {"mover", "m\"1"}}, 3);
  out.Family("y", Exposition::Type::kGauge, "A gauge.");
  out.Sample("y", {}, 0.5);
  EXPECT_EQ(out.text(),
            "# HELP x_total Things.\\nDone.\n"
            "# TYPE x_total counter\n"
            "x_total{type=\"archive\",mover=\"m\\\"1\"} 3\n"
            "# HELP y A gauge.\n"
            "# TYPE y gauge\n"
            "y 0.5\n");
}

TEST(HistogramTest, CountsInInclusiveBuckets) {
  static constexpr std::array<double, 3> kBounds{1, 10, 100};
  Histogram h(kBounds);
  for (double v : {0.5, 1.0, 5.0, 10.0, 50.0, 1000.0}) h.Observe(v);
  EXPECT_EQ(h.buckets(), (std::vector<uint64_t>{2, 2, 1, 1}));
  EXPECT_EQ(h.count(), 6u);
  EXPECT_DOUBLE_EQ(h.sum(), 1066.5);
}

TEST(HistogramTest, WritesCumulativeBucketsSumAndCount) {
  static constexpr std::array<double, 2> kBounds{0.5, 2};
  Histogram h(kBounds);
  h.Observe(0.25);
  h.Observe(1);
  h.Observe(3);
  Exposition out;
  out.Family("w_seconds", Exposition::Type::kHistogram, "Waits.");
  out.Write("w_seconds", {{"type", "restore"}}, h);
  EXPECT_EQ(out.text(),
            "# HELP w_seconds Waits.\n"
            "# TYPE w_seconds histogram\n"
            "w_seconds_bucket{type=\"restore\",le=\"0.5\"} 1\n"
            "w_seconds_bucket{type=\"restore\",le=\"2\"} 2\n"
            "w_seconds_bucket{type=\"restore\",le=\"+Inf\"} 3\n"
            "w_seconds_sum{type=\"restore\"} 4.25\n"
            "w_seconds_count{type=\"restore\"} 3\n");
}

TEST(HistogramTest, EmptyHistogramHasZeroBuckets) {
  static constexpr std::array<double, 1> kBounds{1};
  Histogram h(kBounds);
  Exposition out;
  out.Write("h", {}, h);
  EXPECT_EQ(out.text(),
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\n"
            "h_count 0\n");
}

}  // namespace
}  // namespace metrics
