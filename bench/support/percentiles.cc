#include "bench/support/percentiles.h"

#include <algorithm>

namespace bench {

Percentiles Summarize(std::vector<int64_t> values) {
  Percentiles p;
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    return values[std::min(
        values.size() - 1,
        static_cast<size_t>(q * static_cast<double>(values.size())))];
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.max = values.back();
  return p;
}

}  // namespace bench
