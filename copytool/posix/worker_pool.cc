#include "copytool/posix/worker_pool.h"

namespace ct {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() {
  {
    common::MutexLock lock(&mu_);
    closing_ = true;
  }
  cv_.NotifyAll();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Submit(std::function<void()> job) {
  {
    common::MutexLock lock(&mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.NotifyOne();
}

void WorkerPool::Work() {
  for (;;) {
    std::function<void()> job;
    {
      common::MutexLock lock(&mu_);
      while (!closing_ && jobs_.empty()) cv_.Wait(&mu_);
      if (jobs_.empty()) return;  // closing, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace ct
