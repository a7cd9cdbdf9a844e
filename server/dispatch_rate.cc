#include "server/dispatch_rate.h"

#include <algorithm>

namespace server {

DispatchRate::DispatchRate(const common::Clock& clock,
                           std::chrono::seconds window,
                           std::chrono::seconds bucket)
    : clock_(clock),
      bucket_ns_(std::chrono::nanoseconds(bucket).count()),
      buckets_(static_cast<size_t>(window / bucket)),
      ring_(buckets_ + 1),  // the window's whole buckets and the current one
      last_(BucketOf(clock.Now())) {}

int64_t DispatchRate::BucketOf(common::Clock::TimePoint t) const {
  return t.time_since_epoch().count() / bucket_ns_;
}

void DispatchRate::Roll(int64_t now) const {
  if (now <= last_) return;
  const int64_t gap = std::min<int64_t>(now - last_, ring_.size());
  for (int64_t i = 1; i <= gap; ++i) ring_[(last_ + i) % ring_.size()] = {};
  last_ = now;
}

void DispatchRate::Note(ItemType type, uint64_t count) {
  const int64_t now = BucketOf(clock_.Now());
  Roll(now);
  if (!first_) first_ = now;
  ring_[now % ring_.size()][static_cast<size_t>(type)] += count;
}

double DispatchRate::PerSecond(ItemType type) const {
  const common::Clock::TimePoint t = clock_.Now();
  const int64_t now = BucketOf(t);
  Roll(now);
  if (!first_) return 0;
  uint64_t total = 0;
  for (const auto& counts : ring_) total += counts[static_cast<size_t>(type)];
  // The span: the whole buckets kept (or since the first note), plus the
  // elapsed part of the current one.
  const int64_t whole =
      std::min<int64_t>(now - *first_, static_cast<int64_t>(buckets_));
  const int64_t span_ns =
      whole * bucket_ns_ + t.time_since_epoch().count() % bucket_ns_;
  if (total == 0 || span_ns <= 0) return 0;
  return static_cast<double>(total) * 1e9 / static_cast<double>(span_ns);
}

std::optional<double> DispatchRate::SecondsFor(ItemType type,
                                               uint64_t ahead) const {
  const double rate = PerSecond(type);
  if (rate <= 0) return std::nullopt;
  return static_cast<double>(ahead) / rate;
}

}  // namespace server
