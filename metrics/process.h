// Process metrics: the standard process_* series every Prometheus client
// exports, read from /proc for this process (Linux).
//
// Thread-safety: none needed (ReadProcessStats reads files; the parsers are
// pure).
#ifndef METRICS_PROCESS_H_
#define METRICS_PROCESS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "metrics/exposition.h"

namespace metrics {

struct ProcessStats {
  double cpu_seconds = 0;         // user + system
  uint64_t resident_bytes = 0;    // resident set size
  uint64_t virtual_bytes = 0;     // virtual memory size
  uint64_t open_fds = 0;          // descriptors open now
  uint64_t max_fds = 0;           // soft RLIMIT_NOFILE
  double start_time_seconds = 0;  // Unix seconds
};

// The fields of /proc/<pid>/stat: utime and stime (clock ticks), starttime
// (ticks since boot), vsize (bytes), rss (pages). `boot_time` is the btime
// line of /proc/stat (Unix seconds). False when the text has too few fields.
// The command name (field 2, in parentheses) may hold spaces and
// parentheses: the fields are counted after its last ')'.
bool ParseProcStat(std::string_view stat, long ticks_per_second, long page_size,
                   int64_t boot_time, ProcessStats* stats);
// The btime line of /proc/stat's text.
std::optional<int64_t> ParseBootTime(std::string_view proc_stat);

// This process's figures now (a few small reads of /proc and one listing of
// /proc/self/fd); nullopt when /proc cannot be read.
std::optional<ProcessStats> ReadProcessStats();

// The process_* families.
void WriteProcessMetrics(const ProcessStats& stats, Exposition& out);

}  // namespace metrics

#endif  // METRICS_PROCESS_H_
