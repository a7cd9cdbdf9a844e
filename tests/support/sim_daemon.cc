#include "tests/support/sim_daemon.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/support/wait_for.h"

namespace testing_support {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool FuseTestsDisabled() {
  const char* v = getenv("COORDINATOOL_NO_FUSE");
  return v != nullptr && strcmp(v, "1") == 0;
}

std::string FuseUnavailable() {
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return std::string("cannot open /dev/fuse (") + strerror(errno) +
           "): FUSE tests need the fuse module and permission to mount; "
           "set COORDINATOOL_NO_FUSE=1 to skip them";
  close(fd);
  return "";
}

void UnmountFuse(const std::string& mount) {
  // Is a FUSE filesystem (dead or alive) mounted there? /proc/self/mounts
  // says so without touching it (a stat of a dead mount fails ENOTCONN).
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  bool mounted = false;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string source, point, type;
    fields >> source >> point >> type;
    if (point == mount && type.rfind("fuse", 0) == 0) mounted = true;
  }
  if (!mounted) return;
  if (umount2(mount.c_str(), MNT_DETACH) == 0) return;
  // Not root: the setuid helper.
  std::string cmd = "fusermount3 -u -z '" + mount + "' 2>/dev/null";
  (void)system(cmd.c_str());
}

SimDaemon::SimDaemon(std::string binary, std::string mount, std::string fsname,
                     std::string log_dir)
    : binary_(std::move(binary)),
      mount_(std::move(mount)),
      fsname_(std::move(fsname)),
      log_dir_(std::move(log_dir)) {}

SimDaemon::~SimDaemon() { Kill(); }

void SimDaemon::Kill() {
  process_.Kill();
  if (fuse()) UnmountFuse(mount_);
}

std::string SimDaemon::Start(const std::vector<std::string>& settings) {
  std::vector<std::string> argv = {binary_, "--fsname", fsname_};
  if (fuse()) {
    if (std::string why = FuseUnavailable(); !why.empty()) return why;
    mkdir(fuse_backing_.c_str(), 0755);
    argv.insert(argv.end(), {"--fuse", fuse_backing_});
  }
  for (const std::string& s : settings) {
    argv.push_back("--set");
    argv.push_back(s);
  }
  argv.push_back(mount_);
  const std::string base = log_dir_ + "/mdt-" + std::to_string(++starts_);
  SpawnOptions options;
  options.stdout_path = base + ".out";
  options.stderr_path = base + ".err";
  std::string error;
  process_ = Process::Spawn(argv, options, &error);
  if (process_.pid() < 0) return error;
  const std::string ready = "sim-mdt: ready " + mount_;
  WaitFor(
      [&] {
        return ReadWholeFile(options.stdout_path).find(ready) !=
                   std::string::npos ||
               !process_.Running();
      },
      std::chrono::seconds(30));
  if (!process_.Running()) return "sim-mdt exited before it was ready";
  if (ReadWholeFile(options.stdout_path).find(ready) == std::string::npos) {
    return "sim-mdt did not print '" + ready + "' within 30 s";
  }
  return "";
}

std::vector<std::string> SimDaemon::LogNames() const {
  std::vector<std::string> names;
  for (int i = 1; i <= starts_; ++i) {
    names.push_back("mdt-" + std::to_string(i) + ".out");
    names.push_back("mdt-" + std::to_string(i) + ".err");
  }
  return names;
}

}  // namespace testing_support
