// StopFlag: the copytool's "shut down now" signal, set once by the main loop
// (SIGINT/SIGTERM, --abort-on-error) and watched by running copies, which
// also sleep on it when throttled so that they wake at once.
//
// Thread-safety: all members are safe from any thread.
#ifndef COPYTOOL_POSIX_STOP_FLAG_H_
#define COPYTOOL_POSIX_STOP_FLAG_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace ct {

class StopFlag {
 public:
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  bool stopped() const { return stopped_.load(); }

  // Sleeps for `d` unless stopped first. Returns false if stopped.
  template <typename Rep, typename Period>
  bool SleepFor(std::chrono::duration<Rep, Period> d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopped_.load(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopped_{false};
};

}  // namespace ct

#endif  // COPYTOOL_POSIX_STOP_FLAG_H_
