// Clock: the only source of time for code that has timing rules (timeouts,
// scan periods, grace delays), so that tests step a ManualClock instead of
// sleeping. SteadyClock is for durations, WallClock-style seconds (Lustre's
// record times, cookies seeded from Unix time) come from Clock::UnixSeconds.
//
// Thread-safety: SteadyClock is stateless; ManualClock is safe to read and
// advance from several threads.
#ifndef COMMON_CLOCK_H_
#define COMMON_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace common {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::steady_clock>;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Seconds since the Unix epoch.
  virtual int64_t UnixSeconds() const = 0;
  // Nanoseconds since the Unix epoch.
  virtual int64_t UnixNanos() const { return UnixSeconds() * 1'000'000'000; }
};

class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  int64_t UnixSeconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t UnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Starts at an arbitrary fixed point; moves only when Advance() is called.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_seconds = 1'700'000'000)
      : start_unix_(unix_seconds) {}

  TimePoint Now() const override {
    return TimePoint(Duration(elapsed_ns_.load()));
  }
  int64_t UnixSeconds() const override {
    return start_unix_ + elapsed_ns_.load() / 1'000'000'000;
  }
  int64_t UnixNanos() const override {
    return start_unix_ * 1'000'000'000 + elapsed_ns_.load();
  }
  void Advance(Duration d) { elapsed_ns_ += d.count(); }

 private:
  const int64_t start_unix_;
  std::atomic<int64_t> elapsed_ns_{0};
};

}  // namespace common

#endif  // COMMON_CLOCK_H_
