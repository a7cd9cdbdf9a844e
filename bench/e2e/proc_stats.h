// ProcStats: what /proc says about one process: CPU seconds (user + system),
// resident set size and its peak, and bytes it caused to be written to
// storage. For benchmarks that measure a server from outside.
//
// Thread-safety: pure function.
#ifndef BENCH_E2E_PROC_STATS_H_
#define BENCH_E2E_PROC_STATS_H_

#include <sys/types.h>

#include <cstdint>

namespace bench {

struct ProcStats {
  // Time on CPU: the scheduler's (schedstat) when available, else utime +
  // stime from /proc/PID/stat (10 ms ticks).
  double cpu_seconds = 0;
  uint64_t rss_bytes = 0;    // VmRSS
  uint64_t hwm_bytes = 0;    // VmHWM: peak RSS
  uint64_t write_bytes = 0;  // /proc/PID/io write_bytes (0 if unreadable)
};

// Reads the figures of `pid`. False if the process is gone.
bool ReadProcStats(pid_t pid, ProcStats* out);

}  // namespace bench

#endif  // BENCH_E2E_PROC_STATS_H_
