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
  ~SimDaemon();

  // FUSE mode from the next Start(): `mount` is served through FUSE with
  // its files and .lustre/ in `backing` (sim-mdt --fuse BACKING). Kill()
  // and the destructor then take the mount away (a killed daemon leaves a
  // dead one).
  void set_fuse_backing(std::string backing) {
    fuse_backing_ = std::move(backing);
  }
  bool fuse() const { return !fuse_backing_.empty(); }

  // Starts sim-mdt with `--set` for each of `settings` and waits up to 30 s
  // for its ready line. Returns "" or what went wrong.
  std::string Start(const std::vector<std::string>& settings);
  // SIGKILL, as a crash.
  void Kill();
  Process& process() { return process_; }
  // Names of the log files written so far, relative to the log dir.
  std::vector<std::string> LogNames() const;

 private:
  const std::string binary_;
  const std::string mount_;
  const std::string fsname_;
  const std::string log_dir_;
  std::string fuse_backing_;
  Process process_;
  int starts_ = 0;
};

// Lazily unmounts `mount` if a FUSE mount (live or dead) is on it.
void UnmountFuse(const std::string& mount);

// "" when this machine can serve a FUSE mount (/dev/fuse opens), else why
// not, with what to do about it.
std::string FuseUnavailable();

// COORDINATOOL_NO_FUSE=1: tests that need FUSE report skipped instead of
// failing when it is unavailable.
bool FuseTestsDisabled();

// The whole contents of a file ("" if it cannot be read).
std::string ReadWholeFile(const std::string& path);

}  // namespace testing_support

#endif  // TESTS_SUPPORT_SIM_DAEMON_H_
