// LogThrottle: counts events of one kind (failed accepts, refused peers)
// and says when one is worth a log line: the first, then at most one a
// minute, so that a flood of them cannot flood the log. The line it allows
// gives count(), the total so far.
//
// Time comes from the caller (common::Clock). Thread-safety: value type.
#ifndef COMMON_LOG_THROTTLE_H_
#define COMMON_LOG_THROTTLE_H_

#include <chrono>
#include <cstdint>

#include "common/clock.h"

namespace common {

struct LogThrottle {
  uint64_t count = 0;
  Clock::TimePoint logged{};

  // Counts one event at `now`; true when it should be logged.
  bool Count(Clock::TimePoint now) {
    if (count++ != 0 && now - logged < std::chrono::minutes(1)) return false;
    logged = now;
    return true;
  }
};

}  // namespace common

#endif  // COMMON_LOG_THROTTLE_H_
