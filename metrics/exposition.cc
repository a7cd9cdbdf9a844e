#include "metrics/exposition.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace metrics {

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counts and gauges are mostly integers: no exponent, no fraction.
  if (value == std::trunc(value) && std::fabs(value) < 1e15)
    return fmt::format("{}", static_cast<int64_t>(value));
  return fmt::format("{}", value);
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(bounds.size() + 1, 0) {}

void Histogram::Observe(double value) {
  // The first bound >= value: `le` is inclusive.
  size_t i = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) -
      bounds_.begin());
  ++buckets_[i];
  sum_ += value;
  ++count_;
}

void Exposition::Family(std::string_view name, Type type,
                        std::string_view help) {
  const char* type_name = type == Type::kCounter ? "counter"
                          : type == Type::kGauge ? "gauge"
                                                 : "histogram";
  fmt::format_to(std::back_inserter(text_), "# HELP {} {}\n# TYPE {} {}\n",
                 name, EscapeHelp(help), name, type_name);
}

void Exposition::Series(std::string_view name, std::string_view suffix,
                        std::span<const Label> labels, const Label* extra,
                        double value) {
  text_ += name;
  text_ += suffix;
  if (!labels.empty() || extra) {
    text_ += '{';
    bool first = true;
    auto add = [&](const Label& label) {
      if (!first) text_ += ',';
      first = false;
      text_ += label.name;
      text_ += "=\"";
      text_ += EscapeLabelValue(label.value);
      text_ += '"';
    };
    for (const Label& label : labels) add(label);
    if (extra) add(*extra);
    text_ += '}';
  }
  text_ += ' ';
  text_ += FormatValue(value);
  text_ += '\n';
}

void Exposition::Sample(std::string_view name,
                        std::initializer_list<Label> labels, double value) {
  Sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
}

void Exposition::Sample(std::string_view name, std::span<const Label> labels,
                        double value) {
  Series(name, "", labels, nullptr, value);
}

void Exposition::Write(std::string_view name, std::span<const Label> labels,
                       const Histogram& histogram) {
  uint64_t cumulative = 0;
  const auto& buckets = histogram.buckets();
  for (size_t i = 0; i < histogram.bounds().size(); ++i) {
    cumulative += buckets[i];
    const std::string le = FormatValue(histogram.bounds()[i]);
    const Label label{"le", le};
    Series(name, "_bucket", labels, &label, static_cast<double>(cumulative));
  }
  const Label inf{"le", "+Inf"};
  Series(name, "_bucket", labels, &inf, static_cast<double>(histogram.count()));
  Series(name, "_sum", labels, nullptr, histogram.sum());
  Series(name, "_count", labels, nullptr,
         static_cast<double>(histogram.count()));
}

}  // namespace metrics
