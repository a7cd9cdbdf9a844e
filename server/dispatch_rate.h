// DispatchRate: how many items of each type were handed to movers over the
// last minutes, for `show`'s estimate of when a waiting request will run
// (its position over the recent rate of its type).
//
// Counts go into buckets of `bucket` length; a rate is the count of the
// whole buckets of the window plus the current one, over the time they
// span. Memory and cost are fixed (window / bucket counters per type),
// whatever the load. No sockets; time comes from the injected clock.
//
// Thread-safety: none; the server's event loop owns it.
#ifndef SERVER_DISPATCH_RATE_H_
#define SERVER_DISPATCH_RATE_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "server/item.h"

namespace server {

class DispatchRate {
 public:
  // REQUIRES: bucket > 0, window >= bucket.
  explicit DispatchRate(const common::Clock& clock,
                        std::chrono::seconds window = std::chrono::minutes(5),
                        std::chrono::seconds bucket = std::chrono::seconds(10));

  // `count` items of `type` were handed out now.
  void Note(ItemType type, uint64_t count = 1);
  // Items of `type` handed out per second over the window (or since the
  // first note, when that is shorter); 0 when none were.
  double PerSecond(ItemType type) const;
  // Seconds until `ahead` more items of `type` are handed out at that rate,
  // nullopt when the rate is 0 (nothing was handed out lately).
  std::optional<double> SecondsFor(ItemType type, uint64_t ahead) const;

 private:
  int64_t BucketOf(common::Clock::TimePoint t) const;
  // Zeroes the buckets between the last note and bucket `now`.
  void Roll(int64_t now) const;

  const common::Clock& clock_;
  const int64_t bucket_ns_;
  const size_t buckets_;
  // Ring of counts per type; `last_` is the bucket the ring ends at.
  mutable std::vector<std::array<uint64_t, kItemTypeCount>> ring_;
  mutable int64_t last_ = 0;
  std::optional<int64_t> first_;  // the bucket of the first note
};

}  // namespace server

#endif  // SERVER_DISPATCH_RATE_H_
