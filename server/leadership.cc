#include "server/leadership.h"

#include <algorithm>

namespace server {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kStandby:
      return "standby";
    case Role::kLeader:
      return "leader";
    case Role::kSteppedDown:
      return "stepped-down";
  }
  return "?";
}

Leadership::Leadership(Millis ttl, std::optional<Millis> margin)
    : ttl_(std::max(ttl, Millis(1))),
      margin_(
          std::clamp(margin.value_or(ttl_ / 10), Millis(0), ttl_ - Millis(1))),
      period_(std::max(ttl_ / 3, Millis(1))) {}

Leadership::Millis Leadership::Remaining(TimePoint now) const {
  if (!Leading(now)) return Millis(0);
  return std::chrono::duration_cast<Millis>(lease_end_ - now);
}

void Leadership::Acquired(TimePoint sent, uint64_t epoch) {
  if (role_ != Role::kStandby) return;
  role_ = Role::kLeader;
  epoch_ = epoch;
  lease_end_ = sent + ttl_ - margin_;
  next_attempt_ = sent + period_;
}

void Leadership::Held(TimePoint sent) {
  if (role_ != Role::kStandby) return;
  next_attempt_ = sent + period_;
}

void Leadership::Renewed(TimePoint sent) {
  if (role_ != Role::kLeader) return;
  // Never later than the request says: an answer that comes back late
  // still counts from when it was sent.
  lease_end_ = std::max(lease_end_, sent + ttl_ - margin_);
  next_attempt_ = sent + period_;
}

void Leadership::Unanswered(TimePoint sent) {
  if (role_ == Role::kSteppedDown) return;
  next_attempt_ = sent + std::max(period_ / 3, Millis(1));
}

void Leadership::StepDown() {
  role_ = Role::kSteppedDown;
  lease_end_ = {};
}

bool Leadership::CheckExpiry(TimePoint now) {
  if (role_ != Role::kLeader || now < lease_end_) return false;
  StepDown();
  return true;
}

}  // namespace server
