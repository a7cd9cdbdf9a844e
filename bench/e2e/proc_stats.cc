#include "bench/e2e/proc_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace bench {

namespace {

// The value of "Key:   123 kB" lines of /proc/PID/status, in bytes.
uint64_t StatusBytes(const std::string& status, const std::string& key) {
  size_t at = status.find("\n" + key + ":");
  if (at == std::string::npos) return 0;
  std::istringstream line(status.substr(at + key.size() + 2, 64));
  uint64_t kib = 0;
  line >> kib;
  return kib * 1024;
}

// Nanoseconds on CPU of every thread of `dir`'s process, from the
// scheduler's own accounting (/proc/PID/task/TID/schedstat, first field):
// exact, where /proc/PID/stat counts in ticks of 10 ms. 0 if unreadable.
uint64_t ScheduledNanos(const std::string& dir) {
  DIR* tasks = opendir((dir + "/task").c_str());
  if (tasks == nullptr) return 0;
  uint64_t total = 0;
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream schedstat(dir + "/task/" + entry->d_name + "/schedstat");
    uint64_t ns = 0;
    if (schedstat >> ns) total += ns;
  }
  closedir(tasks);
  return total;
}

}  // namespace

bool ReadProcStats(pid_t pid, ProcStats* out) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat_file(dir + "/stat");
  std::string stat;
  if (!std::getline(stat_file, stat)) return false;
  // Fields after the command name, which is in parentheses and may hold
  // spaces: state is field 3, utime 14, stime 15.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  out->cpu_seconds = static_cast<double>(utime + stime) /
                     static_cast<double>(sysconf(_SC_CLK_TCK));
  // The exact figure when the kernel keeps it (threads that ended are
  // missing from it: the server's live for its whole run).
  if (const uint64_t ns = ScheduledNanos(dir); ns > 0)
    out->cpu_seconds = static_cast<double>(ns) / 1e9;

  std::ifstream status_file(dir + "/status");
  std::stringstream status;
  status << status_file.rdbuf();
  out->rss_bytes = StatusBytes(status.str(), "VmRSS");
  out->hwm_bytes = StatusBytes(status.str(), "VmHWM");

  std::ifstream io(dir + "/io");
  std::string key;
  uint64_t value;
  out->write_bytes = 0;
  while (io >> key >> value)
    if (key == "write_bytes:") out->write_bytes = value;
  return true;
}

}  // namespace bench
