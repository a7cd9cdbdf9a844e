// ServerCore: the server's timed rules and mover bookkeeping, without
// sockets, timers or Lustre: one deadline (NextDeadline) and one entry
// point that runs whatever is due (RunDue), as sim/mdt/coordinator.h.
//
// The rules it runs:
// - grace: a mover disconnected for `grace` is forgotten, its running
//   items placed again (held for a check first, CoreIo::HoldForCheck) and
//   its pending cancels answered (except those of items taken back from it);
// - stale: every stale period, items of connected movers that sent no
//   progress for `stale` are taken back (cancelled there, placed again) and
//   that mover gets nothing until it shows progress;
// - batch: when a batch slot's slice ends, waiting movers may get work;
// - report, liveness: periodic calls to the I/O side;
// - oversized: items set aside for their size longer than `oversized` are
//   failed at Lustre;
// - redispatch: held items whose check is due are checked.
// It also holds the lock state (the `lock` command) and quits once nothing
// runs under lock-and-quit, and drains and resumes single movers (the
// `drain` and `resume` commands): a drained mover gets its cancels and no
// new work (Dispatch).
//
// The server calls RunDue from its one timer, set for NextDeadline(), and
// re-arms that timer after each event that can bring the deadline nearer
// (a disconnect, a dispatch, a hold). Time comes only from the injected
// clock, so tests step a ManualClock.
//
// Thread-safety: none; the server's event loop owns it.
#ifndef SERVER_CORE_H_
#define SERVER_CORE_H_

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "server/movers.h"
#include "server/redispatch.h"
#include "server/scheduler.h"

namespace server {

struct CoreOptions {
  common::Clock::Duration grace{0};      // client_grace_ms
  common::Clock::Duration stale{0};      // stale_timeout_ms; 0: off
  common::Clock::Duration report{0};     // report period; 0: off
  common::Clock::Duration liveness{0};   // check period; 0: off
  common::Clock::Duration oversized{0};  // oversized_timeout_ms; 0: off
};

enum class LockState { kUnlocked = 0, kLocked = 1, kLockAndQuit = 2 };

// A mover after `drain` or `resume`: what the admin is told.
struct DrainOutcome {
  bool known = false;    // false: no mover by that id; nothing changed
  bool changed = false;  // it was not in that state already
  bool connected = false;
  std::array<uint32_t, kItemTypeCount> running{};  // by ItemType
};

// What the core asks of the server's I/O side.
class CoreIo {
 public:
  virtual ~CoreIo() = default;
  // Waiting movers may get work.
  virtual void DispatchAll() = 0;
  // `id` ran and waits again: hold it until Lustre confirms it is live.
  virtual void HoldForCheck(const ItemId& id) = 0;
  // A cancel left pending for a mover that is gone: answer it.
  virtual void AnswerOrphanCancel(const protocol::WireItem& cancel) = 0;
  // Held items are due for their check at Lustre.
  virtual void RunChecks() = 0;
  // Connections are due for their liveness check.
  virtual void CheckLiveness(common::Clock::TimePoint now) = 0;
  // `wire` waited too long for a mover with a buffer that large.
  virtual void FailOversized(const protocol::WireItem& wire,
                             int64_t timeout_ms) = 0;
  virtual void Report() = 0;
  virtual void Quit(const std::string& why) = 0;
};

class ServerCore {
 public:
  ServerCore(const common::Clock& clock, CoreOptions options,
             Scheduler& scheduler, const Redispatch& redispatch,
             MoverTable& movers, CoreIo& io);

  // The periodic rules count from now.
  void Start();
  // New options (a reload): a periodic rule whose period changed counts
  // from now (turned off, it is not due any more); grace applies at once
  // to the movers away now, from the time each left.
  void Reconfigure(CoreOptions options);
  // Nothing is due any more.
  void Stop() { stopped_ = true; }

  // The earliest time RunDue has work, or nullopt.
  std::optional<common::Clock::TimePoint> NextDeadline() const;
  // Runs every rule due at `now`.
  void RunDue(common::Clock::TimePoint now);

  // Forgets `id` (grace ended, or an anonymous client left): its running
  // items are placed again, its pending cancels answered.
  void ForgetMover(const MoverId& id);
  // Takes `id` back from its stale mover: cancels it there and places it
  // again.
  void TakeBack(const ItemId& id);
  // Items that ran and were not re-announced: placed again.
  void PlaceAgain(const std::vector<ItemId>& items);
  // A dispatch happened: the next end of a batch slice may have moved.
  void NoteBatchDeadline();

  LockState lock() const { return lock_; }
  bool locked() const { return lock_ != LockState::kUnlocked; }
  // Returns the previous state.
  LockState SetLock(LockState state);
  // Under lock-and-quit, quits once nothing runs.
  void MaybeQuit();

  // Drains (true) or resumes a mover known by id, connected or within its
  // grace time. Draining frees its batch slots and lets restores the
  // locality helper placed on it go to any mover (archives a host rule
  // placed there keep waiting for it); either way waiting movers may get
  // work (CoreIo::DispatchAll), the resumed one first of all.
  DrainOutcome SetDraining(const MoverId& id, bool draining);
  // What `mover` gets when it asks for work (the caller checked the lock
  // and its stall): only its pending cancels while drained, else the
  // Scheduler's choice at the clock's time.
  DispatchReply Dispatch(const MoverId& mover,
                         const std::vector<uint32_t>& archive_ids,
                         const MoverLimits& limits, size_t share_divisor);

 private:
  common::Clock::Duration StalePeriod() const;
  void ExpireGrace(common::Clock::TimePoint now);
  void TakeBackStale(common::Clock::TimePoint now);
  void ExpireOversized();
  // Whether periodic rule `next` is due, and if so its next time.
  static bool Due(std::optional<common::Clock::TimePoint>* next,
                  common::Clock::TimePoint now, common::Clock::Duration period);

  const common::Clock& clock_;
  CoreOptions options_;
  Scheduler& scheduler_;
  const Redispatch& redispatch_;
  MoverTable& movers_;
  CoreIo& io_;
  // The next run of each periodic rule (nullopt: off or not started).
  std::optional<common::Clock::TimePoint> stale_next_, report_next_,
      liveness_next_, oversized_next_;
  std::optional<common::Clock::TimePoint> batch_due_;
  LockState lock_ = LockState::kUnlocked;
  bool stopped_ = false;
};

}  // namespace server

#endif  // SERVER_CORE_H_
