// Copytool: ct-posix's main loop. Registers with the coordinator, receives
// action lists, checks each one (fsname, item bounds), copies each item
// (hai_len bytes) into a job for the worker pool, and unregisters on
// shutdown after the workers have ended their items (docs/lustre.md,
// lhsmtool_posix).
//
// Thread-safety: Run is called once, from one thread. RequestStop may be
// called from any thread, and Wake() from a signal handler.
#ifndef COPYTOOL_POSIX_COPYTOOL_H_
#define COPYTOOL_POSIX_COPYTOOL_H_

#include <atomic>
#include <string>

#include "copytool/posix/actions.h"
#include "copytool/posix/options.h"
#include "copytool/posix/running_actions.h"
#include "copytool/posix/stop_flag.h"
#include "hsm/lustreapi.h"

namespace ct {

class WorkerPool;

class Copytool {
 public:
  explicit Copytool(const Options& options);
  ~Copytool();
  Copytool(const Copytool&) = delete;
  Copytool& operator=(const Copytool&) = delete;

  // Serves until stopped. Returns the process exit code: 0 after a clean
  // stop (signal or -ESHUTDOWN), 1 after a setup failure or, with
  // --abort-on-error, a major error.
  int Run();

  // Async-signal-safe: makes Run stop (the SIGINT/SIGTERM handler calls it).
  void Wake();

 private:
  int Setup();
  // Registers ct_ with `rfd_flags` for its descriptor.
  int Register(int rfd_flags);
  int Serve();
  int HandleMessage(hsm_action_list* hal, int msgsize, WorkerPool* pool);
  // Queues one item (hai_len bytes, copied out of the receive buffer),
  // unless its cookie is already in hand (see RunningActions).
  void Submit(RunningActions::ItemBytes bytes, WorkerPool* pool);
  // Runs an admitted item in the pool, then the item it lets through.
  void Run(RunningActions::ItemBytes bytes, WorkerPool* pool);
  // Counts a major error (already logged); stops with --abort-on-error.
  void OnMajorError();

  const Options options_;
  std::string fsname_;
  int mnt_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  hsm_copytool_private* ct_ = nullptr;
  StopFlag stop_;
  RunningActions running_;
  ActionContext context_;
  std::atomic<int> major_errors_{0};
};

}  // namespace ct

#endif  // COPYTOOL_POSIX_COPYTOOL_H_
