// SimMount: one simulated Lustre filesystem for an end-to-end test. It owns
// a temp dir holding the mount point (mnt/), an HSM archive root (archive/)
// and the logs of the processes it starts (logs/); it starts sim-mdt and
// waits for its ready line, starts ct-posix copytools, runs sim-lfs and
// sim-lctl, and reads hsm.actions. Everything it started is killed when it
// is destroyed.
//
// The binaries come from CMake (compile definitions), never from PATH.
//
// Thread-compatible: one test thread drives it.
#ifndef TESTS_SUPPORT_SIM_MOUNT_H_
#define TESTS_SUPPORT_SIM_MOUNT_H_

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/sim_daemon.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {

// Paths of the tools under test.
std::string SimMdtBinary();
std::string SimLfsBinary();
std::string SimLctlBinary();
std::string CtPosixBinary();

// One line of hsm.actions, split into its key=value fields ("fid",
// "action", "status", "compound/cookie", ...).
struct ActionRecord {
  std::map<std::string, std::string> fields;
  std::string line;

  const std::string& Get(const std::string& key) const;
  std::string fid() const { return Get("fid"); }
  std::string action() const { return Get("action"); }
  std::string status() const { return Get("status"); }
};

std::vector<ActionRecord> ParseActions(const std::string& text);

// How the simulated mount is served (docs/simulator.md): a plain directory,
// or through FUSE over a backing directory.
enum class SimMode { kDirectory, kFuse };

// kFuse when COORDINATOOL_SIM_MODE=fuse (the suite's FUSE runs of a few
// end-to-end tests), else kDirectory.
SimMode DefaultSimMode();

class SimMount {
 public:
  // Tunables every test gets: fast scans, many active requests, 1 s
  // housekeeping, finished requests kept for an hour.
  static std::vector<std::string> DefaultSettings();

  explicit SimMount(std::string fsname = "lustre",
                    SimMode mode = DefaultSimMode());
  ~SimMount();
  SimMount(const SimMount&) = delete;
  SimMount& operator=(const SimMount&) = delete;

  // Starts sim-mdt with DefaultSettings() plus `settings` ("hsm.name=value")
  // and waits up to 30 s for "sim-mdt: ready MOUNT fsname=NAME" on stdout.
  ::testing::AssertionResult StartDaemon(
      const std::vector<std::string>& settings = {});
  // Kills the daemon with SIGKILL, as a crash.
  void KillDaemon() { daemon_.Kill(); }
  Process& daemon() { return daemon_.process(); }

  // Starts `ct-posix -p ARCHIVE -u 1 <extra_args> MOUNT` (stderr to
  // logs/ct-N.log) and waits until hsm.agents lists one more agent.
  // Returns nullptr (after adding a test failure) if it did not register.
  Process* StartCopytool(const std::vector<std::string>& extra_args = {});

  const std::string& mount() const { return mount_; }
  SimMode mode() const { return mode_; }
  // FUSE mode: the directory the daemon keeps the files and .lustre/ in.
  const std::string& backing() const { return backing_; }
  const std::string& archive() const { return archive_; }
  const std::string& fsname() const { return fsname_; }
  // mount() + "/" + name.
  std::string Path(const std::string& name) const {
    return mount_ + "/" + name;
  }
  // The tail of every log, for failure messages.
  std::string Logs() const;

  // sim-lfs ARGS...
  CommandResult Lfs(const std::vector<std::string>& args) const;
  // Writes `count` new files NAME0, NAME1... (20000 + i bytes of test
  // data each) and asks for their archive in one `hsm_archive`, with
  // `data` as its --data when not empty. Returns their paths; a failure
  // fails the test.
  std::vector<std::string> ArchiveNewFiles(const std::string& name, int count,
                                           const std::string& data) const;
  // sim-lctl --mount MOUNT ARGS...
  CommandResult Lctl(const std::vector<std::string>& args) const;
  // The value of "mdt.<fs>-MDT0000.<name>" (e.g. "hsm.actions"); empty
  // (and a test failure) if sim-lctl fails.
  std::string GetParam(const std::string& name) const;
  ::testing::AssertionResult SetParam(const std::string& name,
                                      const std::string& value) const;
  std::vector<ActionRecord> Actions() const {
    return ParseActions(GetParam("hsm.actions"));
  }
  // The status of the latest `action` record for `fid` ("[0x...]"), or "".
  std::string StatusOf(const std::string& fid, const std::string& action) const;
  // Waits until the latest `action` record of `fid` has `status`.
  ::testing::AssertionResult WaitForStatus(
      const std::string& fid, const std::string& action,
      const std::string& status,
      std::chrono::milliseconds timeout = kWaitTimeout) const;
  // Number of records with `action` and `status`.
  size_t CountActions(const std::string& action,
                      const std::string& status) const;
  // Number of agents listed in hsm.agents.
  size_t AgentCount() const;

 private:
  std::string Param(const std::string& name) const;

  TempDir dir_;
  std::string fsname_;
  SimMode mode_;
  std::string mount_;
  std::string backing_;
  std::string archive_;
  std::string logs_;
  SimDaemon daemon_;
  std::vector<std::unique_ptr<Process>> copytools_;
};

// llapi_path2fid of `path` formatted as "[0x...:0x...:0x...]", or "" (and
// a test failure) on error.
std::string FidOf(const std::string& path);

}  // namespace testing_support

#endif  // TESTS_SUPPORT_SIM_MOUNT_H_
