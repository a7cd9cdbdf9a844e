#include "copytool/posix/copytool.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "copytool/posix/log.h"
#include "copytool/posix/worker_pool.h"

namespace ct {
namespace {

using ItemBytes = RunningActions::ItemBytes;
const hsm_action_item& Item(const ItemBytes& bytes) {
  return RunningActions::Item(bytes);
}
}  // namespace

Copytool::Copytool(const Options& options) : options_(options) {
  if (pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) < 0) {
    wake_pipe_[0] = wake_pipe_[1] = -1;
  }
}

Copytool::~Copytool() {
  if (ct_ != nullptr) llapi_hsm_copytool_unregister(&ct_);
  for (int fd : {mnt_fd_, wake_pipe_[0], wake_pipe_[1]}) {
    if (fd >= 0) close(fd);
  }
}

void Copytool::Wake() {
  const char byte = 1;
  if (write(wake_pipe_[1], &byte, 1) < 0) {
    // Full pipe: a wake-up is already pending.
  }
}

int Copytool::Run() {
  if (wake_pipe_[0] < 0) {
    LogError(-errno, "cannot create the wake-up pipe");
    return 1;
  }
  if (Setup() < 0) return 1;
  const int rc = Serve();  // ends every item it received
  llapi_hsm_copytool_unregister(&ct_);
  Log(LLAPI_MSG_INFO, "copytool unregistered from {}", options_.mount);
  return rc;
}

int Copytool::Setup() {
  char fsname[129] = {};
  int rc = llapi_search_fsname(options_.mount.c_str(), fsname);
  if (rc < 0) {
    LogError(rc, "cannot find a Lustre filesystem mounted at '{}'",
             options_.mount);
    return rc;
  }
  fsname_ = fsname;
  mnt_fd_ = open(options_.mount.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (mnt_fd_ < 0) {
    rc = -errno;
    LogError(rc, "cannot open mount point '{}'", options_.mount);
    return rc;
  }
  if (access(options_.hsm_root.c_str(), R_OK | W_OK | X_OK) < 0) {
    rc = -errno;
    LogError(rc, "cannot use archive root '{}'", options_.hsm_root);
    return rc;
  }
  if (rc = Register(O_NONBLOCK); rc < 0) return rc;
  Log(LLAPI_MSG_INFO, "copytool registered on {} fs={} threads={}",
      options_.mount, fsname_, options_.threads);
  return 0;
}

int Copytool::Register(int rfd_flags) {
  std::vector<int> archives = options_.archives;
  int rc = llapi_hsm_copytool_register(&ct_, options_.mount.c_str(),
                                       static_cast<int>(archives.size()),
                                       archives.data(), rfd_flags);
  if (rc < 0) {
    LogError(rc, "cannot register copytool on '{}'", options_.mount);
    return rc;
  }
  context_ = {&options_, ct_, mnt_fd_, &stop_, &running_};
  return 0;
}

int Copytool::Serve() {
  const int ct_fd = llapi_hsm_copytool_get_fd(ct_);
  if (ct_fd < 0) {
    // A library without the descriptor (the original coordinatool's
    // preload library does not provide llapi_hsm_copytool_get_fd): receive
    // with blocking calls, which SIGINT/SIGTERM interrupt (-EINTR).
    LogError(ct_fd,
             "cannot get the copytool's descriptor; receiving with blocking "
             "calls instead");
    llapi_hsm_copytool_unregister(&ct_);
    if (Register(0) < 0) return 1;
  }
  // The workers block SIGINT and SIGTERM, so that a stop signal reaches
  // this thread and interrupts its wait.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);
  WorkerPool pool(options_.threads);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  while (!stop_.stopped()) {
    pollfd fds[2] = {{ct_fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    // Without the descriptor only the wake-up pipe is looked at, without
    // waiting; the receive below waits.
    if (poll(fds, 2, ct_fd < 0 ? 0 : -1) < 0 && errno != EINTR) {
      LogError(-errno, "poll");
      OnMajorError();
      break;
    }
    if (fds[1].revents != 0) break;
    hsm_action_list* hal = nullptr;
    int msgsize = 0;
    int rc = llapi_hsm_copytool_recv(ct_, &hal, &msgsize);
    if (rc == -EAGAIN || rc == -EINTR) continue;
    if (rc == -ESHUTDOWN) {
      Log(LLAPI_MSG_INFO, "filesystem shut down, stopping");
      break;
    }
    if (rc < 0) {
      LogError(rc, "cannot receive an action list");
      OnMajorError();
      stop_.SleepFor(std::chrono::milliseconds(100));  // no busy loop
      continue;
    }
    rc = HandleMessage(hal, msgsize, &pool);
    if (rc < 0) OnMajorError();
  }
  stop_.Stop();  // queued items now end with EINTR, copies stop
  const bool failed = options_.abort_on_error && major_errors_.load() > 0;
  return failed ? 1 : 0;
}

int Copytool::HandleMessage(hsm_action_list* hal, int msgsize,
                            WorkerPool* pool) {
  const size_t size = static_cast<size_t>(msgsize);
  if (size <= sizeof(hsm_action_list)) {
    LogError(-EPROTO, "action list of {} bytes is too short", msgsize);
    return -EPROTO;
  }
  const size_t name_room = size - sizeof(hsm_action_list);
  if (strnlen(hal->hal_fsname, name_room) == name_room ||
      fsname_ != hal->hal_fsname) {
    LogError(-EINVAL, "action list for filesystem '{:.{}}', serving '{}'",
             hal->hal_fsname, strnlen(hal->hal_fsname, name_room), fsname_);
    return -EINVAL;
  }
  const uint32_t count = hal->hal_count;
  const uint32_t archive_id = hal->hal_archive_id;
  Log(LLAPI_MSG_INFO, "copytool fs={} archive#={} item_count={}",
      hal->hal_fsname, archive_id, count);
  const char* base = reinterpret_cast<const char*>(hal);
  hsm_action_item* hai = hai_first(hal);
  for (uint32_t i = 0; i < count; ++i, hai = hai_next(hai)) {
    const size_t offset = reinterpret_cast<const char*>(hai) - base;
    uint32_t len = 0;
    if (offset + sizeof(hsm_action_item) <= size) {
      std::memcpy(&len, hai, sizeof(len));
    }
    if (len < sizeof(hsm_action_item) || offset + len > size) {
      LogError(-EPROTO, "item {} of {} overruns the {}-byte action list", i,
               count, msgsize);
      return -EPROTO;
    }
    const char* start = reinterpret_cast<const char*>(hai);
    auto bytes = std::make_shared<const std::vector<char>>(start, start + len);
    if (Item(bytes).hai_action == HSMA_CANCEL) {
      CancelItem(context_, Item(bytes));
      continue;
    }
    if (options_.verbosity >= LLAPI_MSG_DEBUG) {
      // The request's data as received, every byte of it.
      std::string hex;
      for (size_t k = sizeof(hsm_action_item); k < len; ++k)
        hex += fmt::format("{:02X}", static_cast<unsigned char>(start[k]));
      Log(LLAPI_MSG_DEBUG, "cookie={:#x} data=[{}]", Item(bytes).hai_cookie,
          hex);
    }
    Submit(std::move(bytes), pool);
  }
  return 0;
}

void Copytool::Submit(ItemBytes bytes, WorkerPool* pool) {
  if (!running_.Admit(bytes)) {
    Log(LLAPI_MSG_INFO,
        "cookie={:#x}: another item for its file is in hand, "
        "held",
        Item(bytes).hai_cookie);
    return;
  }
  Run(std::move(bytes), pool);
}

void Copytool::Run(ItemBytes bytes, WorkerPool* pool) {
  pool->Submit([this, bytes, pool] {
    const ItemOutcome outcome = ProcessItem(context_, Item(bytes));
    if (outcome.rc < 0) OnMajorError();
    // The next item for the file, if one was held, is admitted already.
    if (ItemBytes next = running_.Finish(bytes, outcome.end_accepted)) {
      Run(std::move(next), pool);
    }
  });
}

void Copytool::OnMajorError() {
  ++major_errors_;
  if (options_.abort_on_error) {
    stop_.Stop();
    Wake();
  }
}

}  // namespace ct
