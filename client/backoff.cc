#include "client/backoff.h"

#include <algorithm>

namespace client {

Backoff::Backoff(const common::Clock& clock, BackoffOptions options,
                 std::function<uint64_t()> random)
    : clock_(clock), options_(options), random_(std::move(random)) {}

void Backoff::Connected() {
  connected_ = true;
  connected_at_ = clock_.Now();
}

std::chrono::milliseconds Backoff::Ceiling() const {
  // base * 2^failures, without overflowing the shift.
  const int64_t base = std::max<int64_t>(options_.base.count(), 1);
  const int64_t cap = std::max<int64_t>(options_.cap.count(), base);
  int64_t ceiling = base;
  for (int i = 0; i < failures_ && ceiling < cap; ++i) ceiling *= 2;
  return std::chrono::milliseconds(std::min(ceiling, cap));
}

std::chrono::milliseconds Backoff::NextDelay() {
  if (connected_ && clock_.Now() - connected_at_ >= options_.healthy_after)
    failures_ = 0;
  connected_ = false;
  const int64_t ceiling = Ceiling().count();
  if (failures_ < 62) ++failures_;
  return std::chrono::milliseconds(
      static_cast<int64_t>(random_() % static_cast<uint64_t>(ceiling + 1)));
}

}  // namespace client
