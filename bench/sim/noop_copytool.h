// NoopCopytool: an in-process copytool for benchmarks. One receiver thread
// reads action lists; worker threads call llapi_hsm_action_begin and
// llapi_hsm_action_end at once for each item (no data is moved), so what is
// measured is the coordinator and the library, not the copy.
//
// Thread-safety: Completed() and WaitForCompletions() may be called from any
// thread; Start/Stop from the owning thread.
#ifndef BENCH_SIM_NOOP_COPYTOOL_H_
#define BENCH_SIM_NOOP_COPYTOOL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hsm/lustreapi.h"

namespace bench {

class NoopCopytool {
 public:
  NoopCopytool() = default;
  ~NoopCopytool() { Stop(); }
  NoopCopytool(const NoopCopytool&) = delete;
  NoopCopytool& operator=(const NoopCopytool&) = delete;

  // Registers on `mount` (all archives) and starts `workers` threads.
  // Returns 0 or -errno.
  int Start(const std::string& mount, int workers);
  // Unregisters and joins the threads.
  void Stop();

  // Items whose llapi_hsm_action_end returned 0.
  uint64_t Completed() const { return completed_.load(); }
  // Items that failed (begin or end returned an error).
  uint64_t Failed() const { return failed_.load(); }
  // Waits until Completed() + Failed() >= n; false after `timeout`.
  bool WaitForCompletions(uint64_t n, std::chrono::milliseconds timeout);

 private:
  void Receive();
  void Work();

  hsm_copytool_private* ct_ = nullptr;
  int stop_pipe_[2] = {-1, -1};
  std::thread receiver_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<hsm_action_item> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;              // GUARDED_BY(mu_)

  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace bench

#endif  // BENCH_SIM_NOOP_COPYTOOL_H_
