#include "tests/support/sim_daemon.h"

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

SimDaemon::SimDaemon(std::string binary, std::string mount, std::string fsname,
                     std::string log_dir)
    : binary_(std::move(binary)),
      mount_(std::move(mount)),
      fsname_(std::move(fsname)),
      log_dir_(std::move(log_dir)) {}

std::string SimDaemon::Start(const std::vector<std::string>& settings) {
  std::vector<std::string> argv = {binary_, "--fsname", fsname_};
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
