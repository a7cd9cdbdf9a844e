#include "client/reconciler.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

#include "client/active_requests.h"
#include "client/backoff.h"
#include "common/spawn_attr.h"
#include "common/unique_fd.h"
#include "protocol/byte_string.h"
#include "protocol/messages.h"

extern char** environ;

namespace client {

namespace {

int MsUntil(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

}  // namespace

bool RunCommand(const std::string& command, std::chrono::milliseconds timeout,
                std::string* out, std::string* error) {
  out->clear();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = fmt::format("pipe: {}", strerror(errno));
    return false;
  }
  common::UniqueFd ours(fds[0]), theirs(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDOUT_FILENO);
  common::SpawnAttr attr;
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, attr.get(),
                       const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    *error = fmt::format("'{}': cannot start: {}", command, strerror(rc));
    return false;
  }
  theirs.Reset();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  std::string read_error;
  for (;;) {
    pollfd p{ours.get(), POLLIN, 0};
    int n = poll(&p, 1, MsUntil(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      timed_out = true;
      break;
    }
    char buffer[65536];
    ssize_t got = read(ours.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      read_error = strerror(errno);
      break;
    }
    if (got == 0) break;
    out->append(buffer, static_cast<size_t>(got));
  }
  // A command still running past its time (or whose output could not be
  // read) is killed: its list would be late or partial.
  if (timed_out || !read_error.empty()) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    *error = fmt::format("'{}': still running after {} ms, killed", command,
                         timeout.count());
    return false;
  }
  if (!read_error.empty()) {
    *error = fmt::format("'{}': reading its output: {}", command, read_error);
    return false;
  }
  if (WIFSIGNALED(status)) {
    *error =
        fmt::format("'{}': killed by signal {}", command, WTERMSIG(status));
    return false;
  }
  if (WEXITSTATUS(status) != 0) {
    *error = fmt::format("'{}': exited with status {}", command,
                         WEXITSTATUS(status));
    return false;
  }
  return true;
}

bool ReadActiveRequests(const std::string& command,
                        std::chrono::milliseconds timeout,
                        std::vector<protocol::WireItem>* items,
                        std::vector<std::string>* warnings,
                        std::string* error) {
  items->clear();
  std::string text;
  if (!RunCommand(command, timeout, &text, error)) return false;
  if (!ParseActiveRequests(text, items, warnings, error)) {
    *error = fmt::format("'{}': {}", command, *error);
    return false;
  }
  return true;
}

Reconciler::Reconciler(ReconcilerOptions options, Connect connect,
                       std::function<void(const std::string&)> log)
    : options_(std::move(options)),
      connect_(std::move(connect)),
      log_(std::move(log)) {}

int Reconciler::Run(int passes) {
  common::SteadyClock clock;
  Backoff backoff(clock, BackoffOptions{},
                  [random = std::mt19937_64(std::random_device()())]() mutable {
                    return random();
                  });
  std::chrono::steady_clock::time_point next_pass{};
  for (;;) {
    Session session;
    std::string instance, error;
    bool definitive = false;
    if (!connect_(&session, &instance, &definitive, &error)) {
      if (definitive) {
        log_(fmt::format("reconcile: {}: waiting cannot fix it, exiting",
                         error));
        return EXIT_FAILURE;
      }
      const std::chrono::milliseconds delay = backoff.NextDelay();
      log_(fmt::format(
          "reconcile: cannot reach the server: {}; next attempt within {} ms",
          error, backoff.Ceiling().count()));
      std::this_thread::sleep_for(delay);
      continue;
    }
    backoff.Connected();
    if (instance != instance_ || instance.empty()) {
      // A new run of the server (or one that does not say): what it holds
      // may have lost anything read from Lustre before it was stored.
      log_(fmt::format("reconcile: server instance {}: reconciling now",
                       instance.empty() ? "(not announced)" : instance));
      instance_ = instance;
      token_.reset();
      next_pass = std::chrono::steady_clock::now();
    }
    for (;;) {
      // Waits for the next pass, watching the connection: a server that
      // goes away is reconnected to at once, and a new instance seen.
      bool lost = false;
      while (!lost && std::chrono::steady_clock::now() < next_pass) {
        pollfd p{session.fd(), POLLIN, 0};
        int n = poll(&p, 1, std::min(MsUntil(next_pass), 1000));
        if (n > 0 && !session.Pump(&error)) lost = true;
      }
      // Lost while waiting: the next pass keeps its time, unless the
      // server comes back as a new instance. Lost during a pass: that
      // pass is done again at once.
      if (!lost && !Pass(session)) {
        lost = true;
        next_pass = std::chrono::steady_clock::now();
      }
      if (lost) {
        log_(fmt::format("reconcile: lost the server: {}; reconnecting",
                         error.empty() ? "connection closed" : error));
        break;
      }
      backoff.Healthy();
      next_pass = std::chrono::steady_clock::now() + options_.interval;
      if (passes > 0 && sent_ >= passes) return EXIT_SUCCESS;
    }
  }
}

bool Reconciler::Pass(Session& session) {
  std::vector<protocol::WireItem> items;
  std::vector<std::string> warnings;
  std::string error;
  if (!ReadActiveRequests(options_.command, options_.command_timeout, &items,
                          &warnings, &error)) {
    // Never an empty list in its place: that would say Lustre has nothing.
    log_(
        fmt::format("reconcile: cannot read Lustre's active requests: {}; "
                    "pass skipped",
                    error));
    return true;
  }
  for (const std::string& w : warnings) log_("reconcile: " + w);
  protocol::ReconcileRequest request;
  for (protocol::WireItem& item : items) {
    protocol::ListEntry entry;
    entry.item = std::move(item);
    request.queue.items.push_back(std::move(entry));
  }
  if (!options_.fsname.empty())
    request.queue.fsnames.push_back(options_.fsname);
  if (!options_.add_only) request.token = token_;
  boost::json::object reply_json;
  if (!session.Call(protocol::ToJson(request), &reply_json,
                    options_.reply_timeout_ms, &error)) {
    log_(fmt::format("reconcile: {}", error));
    return false;
  }
  ++sent_;
  protocol::ReconcileReply reply;
  protocol::Parse(reply_json, &reply);
  if (reply.header.status != 0 && reply.token.empty()) {
    // Refused whole (the store cannot persist, a bad fsname): tried again
    // at the next pass.
    log_(fmt::format("reconcile: refused: {} ({})", reply.header.error,
                     strerror(reply.header.status)));
    return true;
  }
  if (!options_.add_only && !reply.token.empty()) token_ = reply.token;
  if (!reply.instance.empty() && reply.instance != instance_) {
    // Restarted between the ehlo and this pass: its token is for the new
    // instance, and the next pass uses it.
    instance_ = reply.instance;
  }
  log_(fmt::format(
      "reconcile: {} requests at Lustre: {} added, {} already known, {} "
      "dropped, {} refused ({} no longer at Lustre), {} running on movers "
      "but gone at Lustre{}",
      request.queue.items.size(), reply.added, reply.known, reply.dropped,
      reply.refused, reply.not_live, reply.running_gone,
      reply.add_only.empty() ? "" : "; nothing dropped: " + reply.add_only));
  // Which were refused and why (the first few: a list of a million
  // unreadable lines is one problem, not a million).
  constexpr size_t kShown = 10;
  for (size_t i = 0; i < reply.failed.size() && i < kShown; ++i)
    log_(fmt::format("reconcile: request {}: {}", reply.failed[i].index + 1,
                     protocol::Printable(reply.failed[i].error)));
  return true;
}

}  // namespace client
