#include "metrics/process.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace metrics {

namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool ToInt(std::string_view field, int64_t* out) {
  auto [end, ec] =
      std::from_chars(field.data(), field.data() + field.size(), *out);
  return ec == std::errc() && end == field.data() + field.size();
}

}  // namespace

bool ParseProcStat(std::string_view stat, long ticks_per_second, long page_size,
                   int64_t boot_time, ProcessStats* stats) {
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return false;
  // Fields from 3 (state) on, space separated.
  std::vector<std::string_view> fields;
  std::string_view rest = stat.substr(close + 1);
  while (!rest.empty()) {
    size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  // Field n (1-based, as proc(5) numbers them) is fields[n - 3].
  auto field = [&](size_t n, int64_t* out) {
    return n - 3 < fields.size() && ToInt(fields[n - 3], out);
  };
  int64_t utime, stime, starttime, vsize, rss;
  if (!field(14, &utime) || !field(15, &stime) || !field(22, &starttime) ||
      !field(23, &vsize) || !field(24, &rss))
    return false;
  const double hz = static_cast<double>(ticks_per_second);
  stats->cpu_seconds = static_cast<double>(utime + stime) / hz;
  stats->start_time_seconds =
      static_cast<double>(boot_time) + static_cast<double>(starttime) / hz;
  stats->virtual_bytes = static_cast<uint64_t>(vsize);
  stats->resident_bytes =
      static_cast<uint64_t>(rss) * static_cast<uint64_t>(page_size);
  return true;
}

std::optional<int64_t> ParseBootTime(std::string_view proc_stat) {
  constexpr std::string_view kKey = "btime ";
  size_t at = 0;
  while (at < proc_stat.size()) {
    size_t end = proc_stat.find('\n', at);
    std::string_view line = proc_stat.substr(
        at, end == std::string_view::npos ? std::string_view::npos : end - at);
    if (line.starts_with(kKey)) {
      int64_t value;
      if (ToInt(line.substr(kKey.size()), &value)) return value;
      return std::nullopt;
    }
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return std::nullopt;
}

std::optional<ProcessStats> ReadProcessStats() {
  auto stat = ReadFile("/proc/self/stat");
  auto proc_stat = ReadFile("/proc/stat");
  if (!stat || !proc_stat) return std::nullopt;
  auto boot = ParseBootTime(*proc_stat);
  ProcessStats stats;
  if (!boot || !ParseProcStat(*stat, sysconf(_SC_CLK_TCK),
                              sysconf(_SC_PAGESIZE), *boot, &stats))
    return std::nullopt;
  if (DIR* dir = opendir("/proc/self/fd")) {
    uint64_t n = 0;
    while (const dirent* entry = readdir(dir))
      if (entry->d_name[0] != '.') ++n;
    closedir(dir);
    stats.open_fds = n > 0 ? n - 1 : 0;  // not the listing's own
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
    stats.max_fds = limit.rlim_cur == RLIM_INFINITY
                        ? UINT64_MAX
                        : static_cast<uint64_t>(limit.rlim_cur);
  return stats;
}

void WriteProcessMetrics(const ProcessStats& stats, Exposition& out) {
  using Type = Exposition::Type;
  out.Family("process_cpu_seconds_total", Type::kCounter,
             "Total user and system CPU time spent in seconds.");
  out.Sample("process_cpu_seconds_total", {}, stats.cpu_seconds);
  out.Family("process_resident_memory_bytes", Type::kGauge,
             "Resident memory size in bytes.");
  out.Sample("process_resident_memory_bytes", {},
             static_cast<double>(stats.resident_bytes));
  out.Family("process_virtual_memory_bytes", Type::kGauge,
             "Virtual memory size in bytes.");
  out.Sample("process_virtual_memory_bytes", {},
             static_cast<double>(stats.virtual_bytes));
  out.Family("process_open_fds", Type::kGauge,
             "Number of open file descriptors.");
  out.Sample("process_open_fds", {}, static_cast<double>(stats.open_fds));
  out.Family("process_max_fds", Type::kGauge,
             "Maximum number of open file descriptors.");
  out.Sample("process_max_fds", {}, static_cast<double>(stats.max_fds));
  out.Family("process_start_time_seconds", Type::kGauge,
             "Start time of the process since unix epoch in seconds.");
  out.Sample("process_start_time_seconds", {}, stats.start_time_seconds);
}

}  // namespace metrics
