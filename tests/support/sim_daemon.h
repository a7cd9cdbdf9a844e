// SimDaemon: one sim-mdt process serving a mount point, started and waited
// for (its "sim-mdt: ready MOUNT fsname=NAME" line on stdout). Used by the
// tests (through SimMount) and by the benchmarks.
//
// Thread-compatible.
#ifndef TESTS_SUPPORT_SIM_DAEMON_H_
#define TESTS_SUPPORT_SIM_DAEMON_H_

#include <string>
#include <vector>

#include "tests/support/process.h"

namespace testing_support {

class SimDaemon {
 public:
  // `binary` is sim-mdt's path; logs go to `log_dir`/mdt-N.{out,err}.
  SimDaemon(std::string binary, std::string mount, std::string fsname,
            std::string log_dir);

  // Starts sim-mdt with `--set` for each of `settings` and waits up to 30 s
  // for its ready line. Returns "" or what went wrong.
  std::string Start(const std::vector<std::string>& settings);
  // SIGKILL, as a crash.
  void Kill() { process_.Kill(); }
  Process& process() { return process_; }
  // Names of the log files written so far, relative to the log dir.
  std::vector<std::string> LogNames() const;

 private:
  const std::string binary_;
  const std::string mount_;
  const std::string fsname_;
  const std::string log_dir_;
  Process process_;
  int starts_ = 0;
};

// The whole contents of a file ("" if it cannot be read).
std::string ReadWholeFile(const std::string& path);

}  // namespace testing_support

#endif  // TESTS_SUPPORT_SIM_DAEMON_H_
