// Leadership: the rules of the leader's lease (docs/high-availability.md),
// as pure logic on the time the caller gives, so that tests step a clock.
//
// Several coordinatool servers of one file system share one Redis; the one
// holding the lease key leads, the others are standbys. The lease lives
// `ttl` in Redis from each acquire or renew. A leader cannot know when
// Redis received its request, only when it sent it: it counts its lease
// from that moment, and considers itself leader only until
//   sent + ttl - margin        (margin: a tenth of ttl by default)
// so that, with clocks that advance at about the same rate (monotonic
// clocks, bounded drift), its local end comes before Redis's end, which
// comes before any standby can take the lease. It renews every ttl/3 (two
// renewals may fail before it has to step down); a standby tries to take
// the lease every ttl/3 (it succeeds only once the key is gone).
//
// Stepping down is final: a leader whose renewal was refused (the key is
// another's), whose local lease ran out, or whose write was fenced
// (store/redis_fence.h) does nothing more and exits; it comes back as a
// standby (the process is restarted), with nothing of its old state.
//
// Thread-safety: none (a plain value; server/lease_keeper.h guards it).
#ifndef SERVER_LEADERSHIP_H_
#define SERVER_LEADERSHIP_H_

#include <chrono>
#include <cstdint>
#include <optional>

#include "common/clock.h"

namespace server {

enum class Role { kStandby, kLeader, kSteppedDown };
const char* RoleName(Role role);

class Leadership {
 public:
  using TimePoint = common::Clock::TimePoint;
  using Millis = std::chrono::milliseconds;

  // `ttl` > 0; `margin` (default ttl/10) < ttl.
  explicit Leadership(Millis ttl, std::optional<Millis> margin = {});

  Role role() const { return role_; }
  uint64_t epoch() const { return epoch_; }
  // Whether it leads at `now`: the leader, before its local lease end.
  bool Leading(TimePoint now) const {
    return role_ == Role::kLeader && now < lease_end_;
  }
  // The local lease end (leader only).
  TimePoint lease_end() const { return lease_end_; }
  // What is left of the lease at `now` (0 unless leading).
  Millis Remaining(TimePoint now) const;

  // When to send the next acquire (standby) or renew (leader) request: at
  // once at first, then a period after the last one was sent.
  TimePoint NextAttempt() const { return next_attempt_; }
  Millis period() const { return period_; }

  // A standby's acquire request sent at `sent` took the lease with `epoch`.
  void Acquired(TimePoint sent, uint64_t epoch);
  // The lease is held by someone else (a standby's acquire sent at
  // `sent`): try again a period later.
  void Held(TimePoint sent);
  // A leader's renew request sent at `sent` was accepted.
  void Renewed(TimePoint sent);
  // A request sent at `sent` got no answer (Redis unreachable): tried
  // again sooner (a third of a period); the lease end does not move.
  void Unanswered(TimePoint sent);
  // Steps down for good: the renewal was refused (the key is another's or
  // gone), the store was fenced, or the local lease ran out.
  void StepDown();
  // Steps down if the leader's local lease has run out at `now`; true if
  // it stepped down now.
  bool CheckExpiry(TimePoint now);

  Millis ttl() const { return ttl_; }
  Millis margin() const { return margin_; }

 private:
  const Millis ttl_;
  const Millis margin_;
  const Millis period_;
  Role role_ = Role::kStandby;
  uint64_t epoch_ = 0;
  TimePoint lease_end_{};
  TimePoint next_attempt_{};  // epoch of the clock: at once
};

}  // namespace server

#endif  // SERVER_LEADERSHIP_H_
