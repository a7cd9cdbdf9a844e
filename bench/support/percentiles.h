// Benchmark helper: the percentiles a benchmark reports of its latencies.
#ifndef BENCH_SUPPORT_PERCENTILES_H_
#define BENCH_SUPPORT_PERCENTILES_H_

#include <cstdint>
#include <vector>

namespace bench {

struct Percentiles {
  int64_t p50 = 0, p99 = 0, max = 0;
};

// The median, the 99th percentile (nearest rank: the value of rank
// floor(q * n) in sorted order) and the largest of `values`; all 0 when
// there is none.
Percentiles Summarize(std::vector<int64_t> values);

}  // namespace bench

#endif  // BENCH_SUPPORT_PERCENTILES_H_
