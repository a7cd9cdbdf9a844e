// Backoff: when a client may try to reach the server again. Exponential
// with full jitter: after the n-th consecutive failure the delay is drawn
// uniformly in [0, min(cap, base * 2^n)], so that many movers cut off at
// once do not come back in step, and a server that keeps refusing a mover
// (or a reply it cannot read) never sees it reconnect in a tight loop.
//
// A connection resets the schedule only once it has proved healthy (a
// usable reply, or `healthy_after` of life): connecting and being dropped
// at once counts as a failure, which is what stops a reconnect storm.
//
// Thread-safety: none; one owner.
#ifndef CLIENT_BACKOFF_H_
#define CLIENT_BACKOFF_H_

#include <chrono>
#include <cstdint>
#include <functional>

#include "common/clock.h"

namespace client {

struct BackoffOptions {
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds cap{30'000};
  std::chrono::milliseconds healthy_after{10'000};
};

class Backoff {
 public:
  // `random` returns uniformly distributed 64-bit values.
  Backoff(const common::Clock& clock, BackoffOptions options,
          std::function<uint64_t()> random);

  // A connection was established now.
  void Connected();
  // The current connection did something useful: the schedule restarts.
  void Healthy() { failures_ = 0; }
  // The delay before the next attempt, after a failed attempt or a lost
  // connection. Restarts the schedule first if the lost connection had
  // lived `healthy_after`.
  std::chrono::milliseconds NextDelay();
  // The upper bound of the next delay (tests, logs).
  std::chrono::milliseconds Ceiling() const;

 private:
  const common::Clock& clock_;
  const BackoffOptions options_;
  std::function<uint64_t()> random_;
  int failures_ = 0;
  bool connected_ = false;
  common::Clock::TimePoint connected_at_{};
};

}  // namespace client

#endif  // CLIENT_BACKOFF_H_
