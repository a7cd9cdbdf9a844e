// WorkerPool: a fixed number of threads running submitted jobs in FIFO
// order. ct-posix runs each action item as one job (lhsmtool_posix starts a
// detached thread per item instead; a pool bounds the concurrency).
//
// Thread-safety: Submit may be called from any thread. The destructor runs
// every job still queued, then joins the threads.
#ifndef COPYTOOL_POSIX_WORKER_POOL_H_
#define COPYTOOL_POSIX_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ct {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> job);

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mu_)
  bool closing_ = false;                    // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace ct

#endif  // COPYTOOL_POSIX_WORKER_POOL_H_
