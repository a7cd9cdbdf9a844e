// Exposition: the Prometheus text format (version 0.0.4) written family by
// family, and Histogram, a fixed-bucket histogram kept incrementally.
//
// The format, in short: each metric family is introduced by `# HELP name
// text` and `# TYPE name counter|gauge|histogram`, then one line per series,
// `name{label="value",...} number`. Label values escape backslash, double
// quote and newline (\\, \", \n); HELP text escapes backslash and newline.
// A histogram is written as cumulative `name_bucket{le="bound"}` lines ending
// with le="+Inf" (equal to the count), then `name_sum` and `name_count`.
// Values are in base units (seconds, bytes).
//
// Pure: no I/O, no clock. Thread-safety: none (value types).
#ifndef METRICS_EXPOSITION_H_
#define METRICS_EXPOSITION_H_

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace metrics {

// The content type of a scrape's reply.
inline constexpr std::string_view kContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// A label value as it goes between the double quotes.
std::string EscapeLabelValue(std::string_view value);
// A HELP text as it goes after the metric name.
std::string EscapeHelp(std::string_view help);
// A sample value: integers without a fraction, +Inf, -Inf, NaN as the
// format spells them.
std::string FormatValue(double value);

struct Label {
  std::string_view name;
  std::string_view value;
};

// Observations counted in buckets with fixed upper bounds (inclusive, as
// Prometheus' `le`), plus their sum and count. Observe() costs a search of
// the bounds; nothing grows with the number of observations.
class Histogram {
 public:
  // `bounds`: increasing upper bounds, without +Inf.
  explicit Histogram(std::span<const double> bounds);
  void Observe(double value);
  std::span<const double> bounds() const { return bounds_; }
  // Observations per bucket, not cumulative; one more than bounds (+Inf).
  const std::vector<uint64_t>& buckets() const { return buckets_; }
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  std::span<const double> bounds_;
  std::vector<uint64_t> buckets_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Exposition {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Starts a family: its HELP and TYPE lines. Samples that follow belong to
  // it. `name` must be a valid metric name (a constant of the caller).
  void Family(std::string_view name, Type type, std::string_view help);
  void Sample(std::string_view name, std::initializer_list<Label> labels,
              double value);
  void Sample(std::string_view name, std::span<const Label> labels,
              double value);
  // A histogram's series (its family started with Type::kHistogram):
  // _bucket lines (cumulative, `le` added after `labels`), _sum, _count.
  void Write(std::string_view name, std::span<const Label> labels,
             const Histogram& histogram);
  void Write(std::string_view name, std::initializer_list<Label> labels,
             const Histogram& histogram) {
    Write(name, std::span<const Label>(labels.begin(), labels.size()),
          histogram);
  }

  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }

 private:
  void Series(std::string_view name, std::string_view suffix,
              std::span<const Label> labels, const Label* extra, double value);
  std::string text_;
};

}  // namespace metrics

#endif  // METRICS_EXPOSITION_H_
