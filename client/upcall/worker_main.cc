// coordinatool-upcall-worker: the mover side of docs/upcall.md. Takes
// upcalled items (archives and removes a Lustre carrying the LU-10968 patch
// handed to coordinatool-upcall) from the server, as a mover whose `ehlo`
// says `upcall_worker`, and runs each as the patch's design does:
//   lfs hsm_upcall WORKER ACTION FSNAME ARCHIVE_ID FLAGS DATA FID
// (`lfs` knows Lustre: open, the bypass begin and end; WORKER knows the
// archive), at most --parallel at once, then reports each item `done` with
// that command's exit status. A copytool cannot run these items: Lustre's
// coordinator never heard of them, so its copy calls refuse them.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/backoff.h"
#include "client/token_file.h"
#include "client/upcall/upcall_client.h"
#include "common/clock.h"
#include "common/spawn_attr.h"
#include "common/unique_fd.h"
#include "common/version.h"
#include "config/settings.h"
#include "protocol/messages.h"
#include "protocol/upcall.h"

extern char** environ;

namespace {

namespace json = boost::json;

void Log(const std::string& line) {
  fprintf(stderr, "coordinatool-upcall-worker: %s\n", line.c_str());
}

struct Running {
  pid_t pid = -1;
  common::UniqueFd pidfd;
  // Last: WireItem ends with a flexible array member.
  protocol::WireItem item;
};

// An item that ended and whose `done` is not sent yet.
struct Result {
  int status = 0;
  protocol::WireItem item;  // last, as above
};

class Worker {
 public:
  Worker(config::ClientSettings settings, std::string token, std::string id,
         std::vector<uint32_t> archives, client::upcall::WorkerCommand command,
         int parallel)
      : settings_(std::move(settings)),
        token_(std::move(token)),
        id_(std::move(id)),
        archives_(std::move(archives)),
        command_(std::move(command)),
        parallel_(parallel) {}

  [[noreturn]] void Run() {
    common::SteadyClock clock;
    std::mt19937_64 rng{std::random_device{}()};
    client::Backoff backoff(clock, {}, [&rng] { return rng(); });
    for (;;) {
      std::string error;
      if (Connect(&error)) {
        backoff.Connected();
        Serve(&backoff, &error);
      }
      Log(error);
      // Items that end meanwhile are reported after the reconnect.
      auto delay = backoff.NextDelay();
      auto until = std::chrono::steady_clock::now() + delay;
      while (std::chrono::steady_clock::now() < until) {
        Reap(/*block_ms=*/static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now())
                .count()));
      }
    }
  }

 private:
  bool Connect(std::string* error) {
    protocol::EhloRequest ehlo;
    ehlo.id = id_;
    ehlo.archive_ids = archives_;
    ehlo.upcall_worker = true;
    // What still runs, or ended unreported, runs here again for the
    // server; the `done`s follow.
    for (const auto& [pidfd, r] : running_)
      ehlo.hai_list.push_back(protocol::ListEntry{{}, {}, r.item});
    for (const Result& r : unreported_)
      ehlo.hai_list.push_back(protocol::ListEntry{{}, {}, r.item});
    session_ = client::Session();
    std::string server;
    int rc = client::upcall::OpenSession(settings_, token_, ehlo, &session_,
                                         error, &server);
    if (rc != 0) return false;
    Log(fmt::format("connected to {} as {}", server, id_));
    while (!unreported_.empty()) {
      if (!SendDone(unreported_.front().item, unreported_.front().status,
                    error))
        return false;
      unreported_.pop_front();
    }
    return true;
  }

  void Serve(client::Backoff* backoff, std::string* error) {
    bool recv_pending = false;
    for (;;) {
      const int free = parallel_ - static_cast<int>(running_.size());
      if (!recv_pending && free > 0) {
        protocol::RecvRequest recv;
        recv.max_archive = free;
        recv.max_remove = free;
        recv.max_restore = 0;
        recv.max_bytes = settings_.hal_size;
        if (!session_.Send(protocol::ToJson(recv), error)) return;
        recv_pending = true;
      }
      std::vector<pollfd> fds = {{session_.fd(), POLLIN, 0}};
      for (const auto& [fd, r] : running_) fds.push_back({fd, POLLIN, 0});
      if (!session_.HasBuffered() && poll(fds.data(), fds.size(), -1) < 0 &&
          errno != EINTR) {
        *error = fmt::format("poll: {}", strerror(errno));
        return;
      }
      for (size_t i = 1; i < fds.size(); ++i)
        if (fds[i].revents) Ended(fds[i].fd);
      for (const Result& r : unreported_)
        if (!SendDone(r.item, r.status, error)) return;
      unreported_.clear();
      if (fds[0].revents || session_.HasBuffered()) {
        if (!session_.Pump(error)) return;
        json::object m;
        while (session_.HasBuffered() && session_.Receive(&m, 0, error)) {
          const json::value* command = m.if_contains("command");
          if (!command || *command != "recv") continue;
          recv_pending = false;
          protocol::RecvReply reply;
          if (!protocol::Parse(m, &reply, error)) return;
          if (reply.header.status != 0) {
            *error = "recv refused: " + reply.header.error;
            return;
          }
          backoff->Healthy();
          for (protocol::ListEntry& entry : reply.list) {
            if (!entry.ok()) {
              Log("an item it cannot read: " + entry.error);
              continue;
            }
            Start(reply.hal.fsname, std::move(entry.item));
          }
        }
      }
    }
  }

  void Start(const std::string& fsname, protocol::WireItem item) {
    std::vector<std::string> argv =
        client::upcall::HsmUpcallCommand(command_, fsname, item);
    if (argv.empty()) {
      Log(fmt::format("{:#x}: not an upcalled archive or remove: failed",
                      uint64_t{item.item.hai.hai_cookie}));
      unreported_.push_back(Result{EINVAL, std::move(item)});
      return;
    }
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    common::SpawnAttr attr;
    pid_t pid = -1;
    int err =
        posix_spawnp(&pid, args[0], &actions, attr.get(), args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    int pidfd =
        err == 0 ? static_cast<int>(syscall(SYS_pidfd_open, pid, 0)) : -1;
    if (err != 0 || pidfd < 0) {
      if (err == 0) {
        err = errno;
        waitpid(pid, nullptr, 0);
      }
      Log(fmt::format("cannot run {}: {}", argv[0], strerror(err)));
      unreported_.push_back(Result{err, std::move(item)});
      return;
    }
    Running& r = running_[pidfd];
    r.item = std::move(item);
    r.pid = pid;
    r.pidfd.Reset(pidfd);
  }

  // A child whose pidfd is readable has ended: its result is queued.
  void Ended(int pidfd) {
    auto it = running_.find(pidfd);
    if (it == running_.end()) return;
    int status = 0;
    int rc = waitpid(it->second.pid, &status, 0);
    int result = rc < 0 ? EIO : WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
    unreported_.push_back(Result{result, std::move(it->second.item)});
    running_.erase(it);
  }

  // Waits up to `block_ms` for children to end (while disconnected).
  void Reap(int block_ms) {
    std::vector<pollfd> fds;
    for (const auto& [fd, r] : running_) fds.push_back({fd, POLLIN, 0});
    if (fds.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(block_ms));
      return;
    }
    if (poll(fds.data(), fds.size(), block_ms) <= 0) return;
    for (const pollfd& p : fds)
      if (p.revents) Ended(p.fd);
  }

  bool SendDone(const protocol::WireItem& item, int status,
                std::string* error) {
    protocol::DoneRequest done;
    done.id = protocol::ItemId::Of(item.item.hai);
    done.status = status;
    const hsm_action_item& hai = item.item.hai;
    Log(fmt::format("{} {} {:#x}: {}",
                    hai.hai_action == HSMA_REMOVE ? "REMOVE" : "ARCHIVE",
                    hsm::FormatFid(hai.hai_fid), uint64_t{hai.hai_cookie},
                    status == 0 ? std::string("done")
                                : fmt::format("failed ({})", status)));
    return session_.Send(protocol::ToJson(done), error);
  }

  const config::ClientSettings settings_;
  const std::string token_;
  const std::string id_;
  const std::vector<uint32_t> archives_;
  const client::upcall::WorkerCommand command_;
  const int parallel_;
  client::Session session_;
  std::map<int, Running> running_;  // by pidfd
  std::deque<Result> unreported_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "coordinatool-upcall-worker: runs upcalled archives and removes "
      "(LU-10968) through `lfs hsm_upcall WORKER ...`"};
  std::string config_path, id;
  std::vector<uint32_t> archives;
  client::upcall::WorkerCommand command;
  int parallel = 4;
  app.add_option("-c,--config", config_path,
                 std::string("configuration file (default ") +
                     config::kDefaultConfigPath + ")");
  app.add_option("-i,--id", id,
                 "mover id (default: the client_id setting, or the host "
                 "name, followed by -upcall)");
  app.add_option("-A,--archive", archives,
                 "archive id to take (repeatable; default: all)")
      ->check(CLI::Range(1u, protocol::kUpcallArchiveBit - 1));
  app.add_option("--lfs", command.lfs,
                 "the lfs with the hsm_upcall command (default lfs)");
  app.add_option("--mntpath", command.mntpath,
                 "passed to lfs hsm_upcall as --mntpath");
  app.add_option("-p,--parallel", parallel, "items run at once (default 4)")
      ->check(CLI::Range(1, 1024));
  app.add_option("WORKER", command.worker,
                 "the site's worker: WORKER ACTION FSNAME ARCHIVE_ID FLAGS "
                 "DATA FID, the file on stdin for an archive")
      ->required();
  app.set_version_flag(
      "-V,--version",
      std::string("coordinatool-upcall-worker ") + common::kVersion);
  CLI11_PARSE(app, argc, argv);

  config::ClientSettings settings;
  std::vector<std::string> warnings;
  std::string error;
  if (!config::LoadClientSettings(config_path, config::ProcessEnvironment(),
                                  &settings, &warnings, &error)) {
    Log(error);
    return 1;
  }
  for (const std::string& w : warnings) Log(w);
  std::string token;
  if (!settings.token_file.empty() &&
      !client::ReadTokenFile(settings.token_file, &token, &error)) {
    Log(error);
    return 1;
  }
  if (id.empty())
    id = (settings.client_id.empty() ? config::DefaultClientId()
                                     : settings.client_id) +
         "-upcall";
  signal(SIGPIPE, SIG_IGN);
  Worker(std::move(settings), std::move(token), std::move(id),
         std::move(archives), std::move(command), parallel)
      .Run();
}
