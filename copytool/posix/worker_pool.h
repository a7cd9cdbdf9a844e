// WorkerPool: a fixed number of threads running submitted jobs in FIFO
// order. ct-posix runs each action item as one job (lhsmtool_posix starts a
// detached thread per item instead; a pool bounds the concurrency).
//
// Thread-safety: Submit may be called from any thread. The destructor runs
// every job still queued, then joins the threads.
#ifndef COPYTOOL_POSIX_WORKER_POOL_H_
#define COPYTOOL_POSIX_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"

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

  common::Mutex mu_;
  common::CondVar cv_;
  std::deque<std::function<void()>> jobs_ GUARDED_BY(mu_);
  bool closing_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace ct

#endif  // COPYTOOL_POSIX_WORKER_POOL_H_
