#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "common/spawn_attr.h"
#include "tests/support/wait_for.h"

extern char** environ;

namespace testing_support {
namespace {

// The test's environment with `overrides` applied, as NAME=VALUE strings.
std::vector<std::string> BuildEnv(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq != nullptr)
      vars[std::string(*e, static_cast<size_t>(eq - *e))] = eq + 1;
  }
  for (const auto& [name, value] : overrides) vars[name] = value;
  std::vector<std::string> env;
  for (const auto& [name, value] : vars) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Spawns with the given file actions; returns the pid or -errno.
pid_t SpawnWith(const std::vector<std::string>& argv,
                const SpawnOptions& options,
                posix_spawn_file_actions_t* actions) {
  if (!options.stdout_path.empty()) {
    posix_spawn_file_actions_addopen(actions, STDOUT_FILENO,
                                     options.stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  if (!options.stderr_path.empty()) {
    posix_spawn_file_actions_addopen(actions, STDERR_FILENO,
                                     options.stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  std::vector<std::string> args = argv;
  std::vector<std::string> env = BuildEnv(options.env);
  std::vector<char*> c_args = CStrings(args);
  std::vector<char*> c_env = CStrings(env);
  const common::SpawnAttr attr;  // default signal dispositions, empty mask
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, c_args[0], actions, attr.get(),
                             c_args.data(), c_env.data());
  return rc == 0 ? pid : -rc;
}

// Reads what is available from `fd` into *out; returns false at EOF/error.
bool Drain(int fd, std::string* out) {
  char buf[65536];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  out->append(buf, static_cast<size_t>(n));
  return true;
}

}  // namespace

Process::~Process() {
  if (pid_ > 0) Kill();
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) Kill();
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
  }
  return *this;
}

Process Process::Spawn(const std::vector<std::string>& argv,
                       const SpawnOptions& options, std::string* error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const pid_t pid = SpawnWith(argv, options, &actions);
  posix_spawn_file_actions_destroy(&actions);
  Process p;
  if (pid < 0) {
    *error = "cannot start " + argv[0] + ": " + std::strerror(-pid);
    return p;
  }
  p.pid_ = pid;
  return p;
}

bool Process::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) status_ = status;
  pid_ = -1;
  return false;
}

int Process::Signal(int sig) {
  if (pid_ <= 0) return -ESRCH;
  return kill(pid_, sig) < 0 ? -errno : 0;
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  WaitFor([this] { return !Running(); }, timeout, 5ms);
  if (Running()) return std::nullopt;
  return status_.value_or(-1);
}

int Process::Kill() {
  if (pid_ <= 0) return status_.value_or(-1);
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = status;
  pid_ = -1;
  return status;
}

int Process::Terminate(std::chrono::milliseconds timeout) {
  Signal(SIGTERM);
  if (auto status = Wait(timeout)) return *status;
  return Kill();
}

std::string CommandResult::Describe() const {
  std::string s = timed_out ? "timed out" : "exit " + std::to_string(exit_code);
  return s + "; stdout: " + out + "; stderr: " + err;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout,
                         const SpawnOptions& options) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) < 0) return result;
  if (pipe2(err_pipe, O_CLOEXEC) < 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  SpawnOptions no_redirect = options;
  no_redirect.stdout_path.clear();
  no_redirect.stderr_path.clear();
  const pid_t pid = SpawnWith(argv, no_redirect, &actions);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    result.err = "cannot start " + argv[0] + ": " + std::strerror(-pid);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return result;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd fds[2] = {{out_open ? out_pipe[0] : -1, POLLIN, 0},
                     {err_open ? err_pipe[0] : -1, POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      break;
    }
    if (fds[0].revents != 0) out_open = Drain(out_pipe[0], &result.out);
    if (fds[1].revents != 0) err_open = Drain(err_pipe[0], &result.err);
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!result.timed_out && WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

}  // namespace testing_support
