#include "server/core.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace server {

namespace {

using Duration = common::Clock::Duration;
using TimePoint = common::Clock::TimePoint;

int64_t Ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Rules checked by scanning (stale work, oversized items) run a quarter of
// their bound apart, within [50 ms, 5 s]: late by at most that much.
Duration ScanPeriod(Duration bound) {
  using std::chrono::milliseconds;
  return std::clamp<Duration>(bound / 4, milliseconds(50), milliseconds(5000));
}

void Earliest(std::optional<TimePoint>* earliest,
              const std::optional<TimePoint>& t) {
  if (t && (!*earliest || *t < **earliest)) *earliest = t;
}

}  // namespace

ServerCore::ServerCore(const common::Clock& clock, CoreOptions options,
                       Scheduler& scheduler, const Redispatch& redispatch,
                       MoverTable& movers, CoreIo& io)
    : clock_(clock),
      options_(options),
      scheduler_(scheduler),
      redispatch_(redispatch),
      movers_(movers),
      io_(io) {}

void ServerCore::Start() {
  const TimePoint now = clock_.Now();
  auto first = [now](Duration period) -> std::optional<TimePoint> {
    if (period <= Duration::zero()) return std::nullopt;
    return now + period;
  };
  stale_next_ =
      first(options_.stale > Duration::zero() ? ScanPeriod(options_.stale)
                                              : Duration::zero());
  report_next_ = first(options_.report);
  liveness_next_ = first(options_.liveness);
  oversized_next_ = first(options_.oversized > Duration::zero()
                              ? ScanPeriod(options_.oversized)
                              : Duration::zero());
}

void ServerCore::Reconfigure(CoreOptions options) {
  const CoreOptions old = options_;
  options_ = options;
  if (stopped_) return;
  const TimePoint now = clock_.Now();
  auto renew = [now](std::optional<TimePoint>* next, Duration was,
                     Duration period) {
    if (was == period) return;
    *next =
        period > Duration::zero() ? std::optional(now + period) : std::nullopt;
  };
  auto scan = [](Duration d) {
    return d > Duration::zero() ? ScanPeriod(d) : Duration::zero();
  };
  renew(&stale_next_, scan(old.stale), scan(options_.stale));
  renew(&report_next_, old.report, options_.report);
  renew(&liveness_next_, old.liveness, options_.liveness);
  renew(&oversized_next_, scan(old.oversized), scan(options_.oversized));
}

std::optional<TimePoint> ServerCore::NextDeadline() const {
  if (stopped_) return std::nullopt;
  std::optional<TimePoint> next = movers_.NextExpiry(options_.grace);
  for (const auto& t :
       {stale_next_, report_next_, liveness_next_, oversized_next_, batch_due_})
    Earliest(&next, t);
  Earliest(&next, redispatch_.NextDue());
  return next;
}

bool ServerCore::Due(std::optional<TimePoint>* next, TimePoint now,
                     Duration period) {
  if (!*next || **next > now) return false;
  *next = now + period;
  return true;
}

void ServerCore::RunDue(TimePoint now) {
  if (stopped_) return;
  ExpireGrace(now);
  if (!stopped_ && Due(&stale_next_, now, ScanPeriod(options_.stale)))
    TakeBackStale(now);
  if (!stopped_ && batch_due_ && *batch_due_ <= now) {
    batch_due_.reset();
    io_.DispatchAll();  // notes the next batch deadline
  }
  if (!stopped_ && Due(&report_next_, now, options_.report)) io_.Report();
  if (!stopped_ && Due(&liveness_next_, now, options_.liveness))
    io_.CheckLiveness(now);
  if (!stopped_ && Due(&oversized_next_, now, ScanPeriod(options_.oversized)))
    ExpireOversized();
  auto check = redispatch_.NextDue();
  if (!stopped_ && check && *check <= now) io_.RunChecks();
}

void ServerCore::ExpireGrace(TimePoint now) {
  for (const MoverId& id : movers_.Expired(now, options_.grace)) {
    spdlog::info("mover {} did not come back within {} ms", id,
                 Ms(options_.grace));
    ForgetMover(id);
    if (stopped_) return;
  }
}

void ServerCore::ForgetMover(const MoverId& id) {
  std::vector<ItemId> running;
  scheduler_.ForEachRunning(
      id, [&](const Item& item) { running.push_back(item.id()); });
  std::vector<protocol::WireItem> orphans;
  size_t requeued = scheduler_.Release(id, &orphans);
  for (const ItemId& item : running) {
    movers_.Stopped(item);
    io_.HoldForCheck(item);
  }
  if (requeued) spdlog::info("{}: {} running items placed again", id, requeued);
  for (const auto& cancel : orphans) {
    // The cancel of an item taken back from this mover concerns this mover
    // only: the item runs elsewhere now.
    ItemId target = ItemId::Of(cancel.item.hai);
    if (movers_.RevokedFrom(target, id)) {
      movers_.Unrevoke(target);
      continue;
    }
    io_.AnswerOrphanCancel(cancel);
  }
  // Restores located on it may go anywhere now; archives a host rule sent
  // there keep waiting for it, as the original's.
  scheduler_.Unpin(id, ItemType::kRestore);
  movers_.Erase(id);
  io_.DispatchAll();
  // Its items ran: under lock-and-quit, nothing may run any more.
  if (requeued) MaybeQuit();
}

void ServerCore::TakeBackStale(TimePoint now) {
  auto owner_of = [this](const ItemId& id) -> const MoverName* {
    const Item* item = scheduler_.Find(id);
    return item ? &item->owner : nullptr;
  };
  std::vector<ItemId> stale = movers_.Stale(now, options_.stale, owner_of);
  for (const ItemId& id : stale) TakeBack(id);
  if (stale.empty()) return;
  io_.DispatchAll();
  MaybeQuit();
}

void ServerCore::TakeBack(const ItemId& id) {
  const Item* item = scheduler_.Find(id);
  if (!item || !item->running()) return;
  MoverId owner = item->owner;
  spdlog::warn(
      "{} {:#x}: no progress on mover {} for {} ms: cancelling it "
      "there and placing it again",
      hsm::FormatFid(id.dfid), id.cookie, owner, Ms(options_.stale));
  protocol::WireItem cancel = item->ToWire();
  cancel.item.hai.hai_action = HSMA_CANCEL;
  protocol::WireItem target;
  MoverId mover;
  scheduler_.Cancel(cancel, &target, &mover);  // queued for the owner
  scheduler_.Requeue(id);
  movers_.Revoke(id, owner);
  io_.HoldForCheck(id);
}

void ServerCore::PlaceAgain(const std::vector<ItemId>& items) {
  for (const ItemId& item : items) {
    if (!scheduler_.Requeue(item)) continue;
    movers_.Stopped(item);
    io_.HoldForCheck(item);
  }
}

void ServerCore::NoteBatchDeadline() {
  if (!(scheduler_.batching() || scheduler_.tape_order()) || stopped_) return;
  const int64_t now_ns = clock_.UnixNanos();
  auto next = scheduler_.NextBatchDeadline(now_ns);
  if (!next) return;
  batch_due_ = clock_.Now() + std::chrono::nanoseconds(*next - now_ns);
}

void ServerCore::ExpireOversized() {
  if (scheduler_.counters().oversized == 0) return;
  const int64_t timeout_ms = Ms(options_.oversized);
  auto expired =
      scheduler_.ExpireOversized(clock_.UnixNanos() - timeout_ms * 1'000'000);
  for (const protocol::WireItem& wire : expired)
    io_.FailOversized(wire, timeout_ms);
}

LockState ServerCore::SetLock(LockState state) {
  LockState previous = lock_;
  lock_ = state;
  return previous;
}

DrainOutcome ServerCore::SetDraining(const MoverId& id, bool draining) {
  DrainOutcome outcome;
  const MoverEntry* entry = movers_.Find(id);
  if (!entry) return outcome;
  outcome.known = true;
  outcome.changed = entry->draining != draining;
  outcome.connected = entry->connection != nullptr;
  movers_.SetDraining(id, draining);
  for (ItemType type : kDispatchOrder)
    outcome.running[static_cast<int>(type)] = scheduler_.Running(id, type);
  if (!outcome.changed) return outcome;
  if (draining) {
    // Its batches may go on elsewhere now, and restores located on it
    // wait for any mover (as when it is gone). Archives a host rule chose
    // it for keep waiting for it: the rule says where they must go.
    scheduler_.FreeSlots(id);
    scheduler_.Unpin(id, ItemType::kRestore);
  }
  io_.DispatchAll();
  return outcome;
}

DispatchReply ServerCore::Dispatch(const MoverId& mover,
                                   const std::vector<uint32_t>& archive_ids,
                                   const MoverLimits& limits,
                                   size_t share_divisor) {
  // Cancels of what it runs still reach a drained mover: its items end as
  // Lustre asks, and the drain ends sooner.
  if (movers_.draining(mover))
    return scheduler_.TakeCancels(mover, limits.max_bytes);
  return scheduler_.Dispatch(mover, archive_ids, limits, share_divisor,
                             clock_.UnixNanos());
}

void ServerCore::MaybeQuit() {
  if (lock_ != LockState::kLockAndQuit || stopped_) return;
  const SchedulerCounters& n = scheduler_.counters();
  if (n.running[0] + n.running[1] + n.running[2] == 0)
    io_.Quit("lock and quit: nothing left running");
}

}  // namespace server
