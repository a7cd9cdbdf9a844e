// Child processes for end-to-end tests, started with posix_spawn.
//
// Process owns a running child: the destructor kills it (SIGKILL) and reaps
// it, so a failing test leaves nothing behind. RunCommand runs a command to
// completion and captures its output.
//
// Thread-compatible: one Process is used by one thread.
#ifndef TESTS_SUPPORT_PROCESS_H_
#define TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace testing_support {

struct SpawnOptions {
  std::string stdout_path;  // appended to; empty: inherit the test's
  std::string stderr_path;  // appended to; empty: inherit the test's
  // Variables added to (or replacing those of) the test's environment.
  std::vector<std::pair<std::string, std::string>> env;
};

class Process {
 public:
  Process() = default;
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts argv[0] (a path) with `argv`. On failure the Process is empty
  // (pid() == -1) and *error says why.
  static Process Spawn(const std::vector<std::string>& argv,
                       const SpawnOptions& options, std::string* error);

  pid_t pid() const { return pid_; }
  // False once the child has exited and been reaped.
  bool Running();
  // Sends `sig`; returns 0 or -errno.
  int Signal(int sig);
  // Waits up to `timeout` for the child to exit; returns its wait status
  // (see WIFEXITED), or nullopt if it is still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL (also ends a SIGSTOPped child) and reap. Returns the status.
  int Kill();
  // SIGTERM, wait up to `timeout`, then SIGKILL. Returns the wait status.
  int Terminate(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal, timed out or not started
  std::string out;
  std::string err;
  bool timed_out = false;

  bool ok() const { return exit_code == 0; }
  // "exit 1; stdout: ...; stderr: ..." for assertion messages.
  std::string Describe() const;
};

// Runs `argv` to completion, capturing stdout and stderr. A command still
// running after `timeout` is killed (timed_out set).
CommandResult RunCommand(
    const std::vector<std::string>& argv,
    std::chrono::milliseconds timeout = std::chrono::seconds(60),
    const SpawnOptions& options = {});

}  // namespace testing_support

#endif  // TESTS_SUPPORT_PROCESS_H_
