// ServerCore stepped by a ManualClock: grace expiry, stale take-back, late
// results after a take-back, re-announce after a restart, lock-and-quit and
// batch slices, with the real Scheduler, Redispatch and MoverTable; the I/O
// side is a recorder of what the core asks of it.
#include "server/core.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "server/connection.h"
#include "server/test_items.h"

namespace server {
namespace {

using namespace std::chrono_literals;

// What the core asked of the I/O side. Its dispatch pass gives work to the
// movers listed in `waiting`, as the server's DispatchAll does.
struct RecordingIo : CoreIo, ConnectionHandler {
  explicit RecordingIo(Scheduler& s, const common::Clock& c)
      : scheduler(s), clock(c) {}

  void DispatchAll() override {
    ++dispatch_passes;
    for (const MoverId& mover : waiting) {
      // Through the core when there is one, as the server's dispatch.
      DispatchReply reply =
          core ? core->Dispatch(mover, {}, {}, 1)
               : scheduler.Dispatch(mover, {}, {}, 1, clock.UnixNanos());
      for (const Item* item : reply.items) sent.push_back(item->hai.hai_cookie);
      for (const auto& wire : reply.cancels)
        cancels_sent.push_back({mover, wire.item.hai.hai_cookie});
    }
  }
  void HoldForCheck(const ItemId& id) override { held.push_back(id.cookie); }
  void AnswerOrphanCancel(const protocol::WireItem& cancel) override {
    answered.push_back(cancel.item.hai.hai_cookie);
  }
  void RunChecks() override { ++checks; }
  void CheckLiveness(common::Clock::TimePoint) override { ++liveness; }
  void FailOversized(const protocol::WireItem& wire, int64_t) override {
    failed.push_back(wire.item.hai.hai_cookie);
  }
  void Report() override { ++reports; }
  void Quit(const std::string& why) override { quits.push_back(why); }
  void OnMessage(Connection&, boost::json::object&) override {}
  void OnClosed(Connection&, const std::string&) override {}

  Scheduler& scheduler;
  const common::Clock& clock;
  ServerCore* core = nullptr;
  std::vector<MoverId> waiting;
  std::vector<std::pair<MoverId, uint64_t>> cancels_sent;
  int dispatch_passes = 0, checks = 0, liveness = 0, reports = 0;
  std::vector<uint64_t> sent, held, answered, failed;
  std::vector<std::string> quits;
};

class CoreTest : public testing::Test {
 protected:
  void Make(CoreOptions options) {
    core_ = std::make_unique<ServerCore>(clock_, options, scheduler_,
                                         redispatch_, movers_, io_);
    io_.core = core_.get();
  }
  // A connection the table refers to; the core never uses it.
  std::shared_ptr<Connection> Link() {
    return std::make_shared<Connection>(boost::asio::ip::tcp::socket(asio_),
                                        io_, ConnectionOptions{});
  }
  void Connect(const MoverId& id) { movers_.Connect(id, Link()); }
  void Disconnect(const MoverId& id) {
    const MoverEntry* entry = movers_.Find(id);
    ASSERT_TRUE(entry && entry->connection);
    ASSERT_TRUE(movers_.Disconnect(id, entry->connection.get(), clock_.Now(),
                                   clock_.UnixNanos()));
  }
  // Item `cookie` runs on `mover` (as a re-announce or a recovery makes it).
  void Run(uint64_t cookie, const MoverId& mover) {
    ASSERT_TRUE(scheduler_.Claim(mover, test::MakeItem(HSMA_ARCHIVE, cookie)));
  }
  ItemId Id(uint64_t cookie) {
    return ItemId::Of(test::MakeItem(HSMA_ARCHIVE, cookie).item.hai);
  }
  std::string OwnerOf(uint64_t cookie) {
    const Item* item = scheduler_.Find(Id(cookie));
    return item ? item->owner.str() : "(unknown)";
  }
  void Step(common::Clock::Duration d) {
    clock_.Advance(d);
    core_->RunDue(clock_.Now());
  }
  std::optional<common::Clock::Duration> UntilDeadline() const {
    auto next = core_->NextDeadline();
    if (!next) return std::nullopt;
    return *next - clock_.Now();
  }

  common::ManualClock clock_;
  boost::asio::io_context asio_;
  Scheduler scheduler_;
  Redispatch redispatch_{clock_};
  MoverTable movers_;
  RecordingIo io_{scheduler_, clock_};
  std::unique_ptr<ServerCore> core_;
};

TEST_F(CoreTest, GraceExpiryPlacesTheItemsOfAMoverThatDoesNotComeBack) {
  Make({.grace = 10s});
  Connect("a");
  Connect("b");
  Run(1, "a");
  Run(2, "b");
  EXPECT_FALSE(core_->NextDeadline());  // nobody disconnected
  Disconnect("a");
  EXPECT_EQ(UntilDeadline(), 10s);
  Step(10s - 1ms);
  EXPECT_EQ(OwnerOf(1), "a");  // kept through the grace time
  EXPECT_TRUE(io_.held.empty());
  Step(1ms);
  EXPECT_EQ(OwnerOf(1), "");  // waiting again, held for its check
  EXPECT_EQ(io_.held, (std::vector<uint64_t>{1}));
  EXPECT_EQ(movers_.Find("a"), nullptr);
  EXPECT_EQ(OwnerOf(2), "b");
  EXPECT_EQ(io_.dispatch_passes, 1);
  EXPECT_FALSE(core_->NextDeadline());
}

TEST_F(CoreTest, AMoverBackWithinItsGraceKeepsItsItems) {
  Make({.grace = 10s});
  Connect("a");
  Run(1, "a");
  Disconnect("a");
  Step(9s);
  Connect("a");
  EXPECT_FALSE(core_->NextDeadline());
  Step(60s);
  EXPECT_EQ(OwnerOf(1), "a");
  EXPECT_TRUE(io_.held.empty());
}

TEST_F(CoreTest, StaleItemIsTakenBackFromAConnectedMoverOnly) {
  // Scanned every second (a quarter of the bound).
  Make({.grace = 60s, .stale = 4s});
  core_->Start();
  EXPECT_EQ(UntilDeadline(), 1s);
  Connect("a");
  Connect("b");
  Run(1, "a");
  Run(2, "b");
  movers_.Started(Id(1), "a", clock_.Now());
  movers_.Started(Id(2), "b", clock_.Now());
  Disconnect("b");  // silent but gone: the grace time's business
  Step(3s);
  EXPECT_FALSE(movers_.Progressed(Id(1), "a", clock_.Now()));  // at 3 s
  Step(4s);  // 7 s: 4 s since the progress, not more
  EXPECT_EQ(OwnerOf(1), "a");
  EXPECT_FALSE(movers_.stalled("a"));
  Step(1s);  // 8 s
  EXPECT_EQ(OwnerOf(1), "");
  EXPECT_EQ(io_.held, (std::vector<uint64_t>{1}));
  EXPECT_TRUE(movers_.stalled("a"));
  EXPECT_TRUE(movers_.RevokedFrom(Id(1), "a"));
  EXPECT_EQ(scheduler_.counters().pending_cancel, 1u);  // cancel for a
  EXPECT_EQ(OwnerOf(2), "b");
  EXPECT_EQ(io_.dispatch_passes, 1);
  // Progress on anything else lifts the stall.
  EXPECT_TRUE(movers_.Progressed(Id(9), "a", clock_.Now()));
  EXPECT_FALSE(movers_.stalled("a"));
}

TEST_F(CoreTest, LateDoneAfterTakeBackIsIgnoredAndItsCancelStaysThere) {
  Make({.grace = 60s, .stale = 4s});
  core_->Start();
  Connect("a");
  Connect("b");
  Run(1, "a");
  Run(2, "a");
  movers_.Started(Id(1), "a", clock_.Now());
  io_.waiting = {"b"};
  Step(5s);  // 1 is taken back; the pass hands it to b
  EXPECT_EQ(io_.sent, (std::vector<uint64_t>{1}));
  EXPECT_EQ(OwnerOf(1), "b");
  // a's result for 1 comes late: it is a's no more (the server ignores it),
  // and b's is the one that counts.
  EXPECT_TRUE(movers_.RevokedFrom(Id(1), "a"));
  EXPECT_FALSE(movers_.RevokedFrom(Id(1), "b"));
  // A cancel from Lustre of 2, running on a, waits for a too.
  protocol::WireItem cancel = test::MakeItem(HSMA_CANCEL, 2);
  protocol::WireItem target;
  MoverId mover;
  ASSERT_EQ(scheduler_.Cancel(cancel, &target, &mover),
            Scheduler::CancelOutcome::kForwarded);
  // a leaves for good: the cancel of its taken-back item concerns it only,
  // the other one is answered.
  Disconnect("a");
  Step(60s);
  EXPECT_EQ(io_.answered, (std::vector<uint64_t>{2}));
  EXPECT_EQ(OwnerOf(1), "b");
  EXPECT_FALSE(movers_.RevokedFrom(Id(1), "a"));
}

TEST_F(CoreTest, MoversReannounceAfterARestartWithinTheirGrace) {
  Make({.grace = 10s});
  // Recovery: a and b ran 1, 3 and 2; their grace starts now.
  movers_.AddPlaceholder("a", clock_.Now(), clock_.UnixNanos());
  movers_.AddPlaceholder("b", clock_.Now(), clock_.UnixNanos());
  Run(1, "a");
  Run(3, "a");
  Run(2, "b");
  EXPECT_EQ(UntilDeadline(), 10s);
  Step(4s);
  // a comes back and re-announces 1 only: 3 is placed again.
  Connect("a");
  movers_.AddPlaceholder("a", clock_.Now(), clock_.UnixNanos());  // no-op
  EXPECT_TRUE(movers_.connected("a"));
  core_->PlaceAgain({Id(3)});
  EXPECT_EQ(OwnerOf(3), "");
  EXPECT_EQ(io_.held, (std::vector<uint64_t>{3}));
  EXPECT_EQ(UntilDeadline(), 6s);  // b's grace, from the restart
  Step(6s);
  EXPECT_EQ(OwnerOf(2), "");
  EXPECT_EQ(io_.held, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(OwnerOf(1), "a");
  EXPECT_EQ(movers_.Find("b"), nullptr);
}

TEST_F(CoreTest, LockAndQuitQuitsOnceNothingRuns) {
  Make({.grace = 10s});
  Connect("a");
  Connect("b");
  Run(1, "a");
  Run(2, "b");
  EXPECT_EQ(core_->SetLock(LockState::kLocked), LockState::kUnlocked);
  core_->MaybeQuit();
  EXPECT_EQ(core_->SetLock(LockState::kLockAndQuit), LockState::kLocked);
  EXPECT_TRUE(core_->locked());
  core_->MaybeQuit();
  EXPECT_TRUE(io_.quits.empty());
  scheduler_.Done(Id(1));
  core_->MaybeQuit();
  EXPECT_TRUE(io_.quits.empty());  // 2 still runs on b
  // b dies: once its grace ends nothing runs any more.
  Disconnect("b");
  Step(10s);
  EXPECT_EQ(OwnerOf(2), "");
  EXPECT_EQ(io_.quits.size(), 1u);
}

TEST_F(CoreTest, LockedWithoutQuitNeverQuits) {
  Make({.grace = 10s});
  core_->SetLock(LockState::kLocked);
  core_->MaybeQuit();
  EXPECT_TRUE(io_.quits.empty());
}

TEST_F(CoreTest, AWaitingMoverGetsWorkWhenASlotsSliceEnds) {
  scheduler_.SetBatching({10s, 0s, 1});
  Make({.grace = 10s});
  Connect("a");
  io_.waiting = {"a"};
  scheduler_.Enqueue(test::MakeItem(HSMA_ARCHIVE, 1, 1, "tape=A"));
  scheduler_.Enqueue(test::MakeItem(HSMA_ARCHIVE, 2, 1, "tape=B"));
  io_.DispatchAll();  // a's one slot takes A
  EXPECT_EQ(io_.sent, (std::vector<uint64_t>{1}));
  core_->NoteBatchDeadline();
  EXPECT_EQ(UntilDeadline(), 10s);
  Step(10s - 1ms);
  EXPECT_EQ(io_.dispatch_passes, 1);  // only the first
  Step(1ms);
  EXPECT_EQ(io_.dispatch_passes, 2);
  EXPECT_EQ(io_.sent, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(OwnerOf(2), "a");
}

TEST_F(CoreTest, PeriodicRulesRunAtTheirPeriods) {
  Make({.grace = 10s, .report = 3s, .liveness = 2s});
  EXPECT_FALSE(core_->NextDeadline());  // not started
  core_->Start();
  EXPECT_EQ(UntilDeadline(), 2s);
  for (int i = 0; i < 6; ++i) Step(1s);
  EXPECT_EQ(io_.liveness, 3);
  EXPECT_EQ(io_.reports, 2);
  core_->Stop();
  EXPECT_FALSE(core_->NextDeadline());
  Step(10s);
  EXPECT_EQ(io_.liveness, 3);
}

// A reload: a rule whose period changed counts from now, one turned off
// is not due any more, one unchanged keeps its time; a longer grace spares
// a mover away for less than it.
TEST_F(CoreTest, ReconfigureRenewsChangedPeriodsOnly) {
  Make({.grace = 10s, .report = 3s, .liveness = 2s});
  core_->Start();
  Connect("a");
  Run(1, "a");
  Disconnect("a");
  Step(1s);
  core_->Reconfigure(
      {.grace = 20s, .report = 5s, .liveness = 2s, .oversized = 0s});
  Step(1s);  // 2 s: liveness due, as before the reload
  EXPECT_EQ(io_.liveness, 1);
  EXPECT_EQ(io_.reports, 0);
  Step(4s);  // 6 s: the report, 5 s after the reload (no longer 3 s)
  EXPECT_EQ(io_.reports, 1);
  Step(5s);  // 11 s: "a" left 10 s ago, within its new grace
  EXPECT_EQ(OwnerOf(1), "a");
  core_->Reconfigure({.grace = 20s, .report = 0s, .liveness = 2s});
  const int reports = io_.reports;
  Step(10s);  // 21 s: the grace ended; reports are off
  EXPECT_EQ(io_.reports, reports);
  EXPECT_EQ(OwnerOf(1), "");
  EXPECT_EQ(io_.held, (std::vector<uint64_t>{1}));
}

TEST_F(CoreTest, OversizedItemsExpireAndHeldItemsAreChecked) {
  Make({.grace = 10s, .oversized = 4s});
  core_->Start();
  protocol::WireItem big =
      test::MakeItem(HSMA_ARCHIVE, 1, 1, std::string(2000, 'x'));
  big.timestamp_ns = clock_.UnixNanos();
  scheduler_.Enqueue(big);
  MoverLimits small;
  small.max_bytes = 1000;
  EXPECT_TRUE(
      scheduler_.Dispatch("a", {}, small, 1, clock_.UnixNanos()).empty());
  ASSERT_EQ(scheduler_.counters().oversized, 1u);
  Step(4s - 1ms);
  EXPECT_TRUE(io_.failed.empty());  // set aside less than 4 s ago
  Step(1s);
  EXPECT_EQ(io_.failed, (std::vector<uint64_t>{1}));
  // A held item is checked when due.
  redispatch_.Hold(Id(7));
  EXPECT_EQ(UntilDeadline(), 0s);
  core_->RunDue(clock_.Now());
  EXPECT_EQ(io_.checks, 1);
}

}  // namespace
}  // namespace server

namespace server {
namespace {

TEST_F(CoreTest, ADrainedMoverGetsCancelsButNoNewWorkUntilResumed) {
  Make({.grace = 10s});
  Connect("a");
  Connect("b");
  Run(1, "a");
  // Unknown ids are refused and create nothing.
  DrainOutcome unknown = core_->SetDraining("nobody", true);
  EXPECT_FALSE(unknown.known);
  EXPECT_EQ(movers_.Find("nobody"), nullptr);
  EXPECT_EQ(io_.dispatch_passes, 0);

  DrainOutcome drained = core_->SetDraining("a", true);
  EXPECT_TRUE(drained.known);
  EXPECT_TRUE(drained.changed);
  EXPECT_TRUE(drained.connected);
  EXPECT_EQ(drained.running[static_cast<int>(ItemType::kArchive)], 1u);
  EXPECT_TRUE(movers_.draining("a"));
  EXPECT_FALSE(core_->SetDraining("a", true).changed);  // twice: no change

  // New work waits for b; a, asking, gets nothing.
  ASSERT_TRUE(scheduler_.Enqueue(test::MakeItem(HSMA_ARCHIVE, 2)));
  io_.waiting = {"a"};
  io_.DispatchAll();
  EXPECT_TRUE(io_.sent.empty());
  // Lustre cancels a's running item: the cancel still reaches a.
  protocol::WireItem target;
  MoverId mover;
  ASSERT_EQ(scheduler_.Cancel(test::MakeItem(HSMA_CANCEL, 1), &target, &mover),
            Scheduler::CancelOutcome::kForwarded);
  io_.DispatchAll();
  EXPECT_EQ(io_.cancels_sent,
            (std::vector<std::pair<MoverId, uint64_t>>{{"a", 1}}));
  EXPECT_TRUE(io_.sent.empty());
  // Its running item ends normally.
  EXPECT_EQ(OwnerOf(1), "a");
  EXPECT_TRUE(scheduler_.Done(Id(1)));
  io_.waiting = {"a", "b"};
  io_.DispatchAll();
  EXPECT_EQ(io_.sent, (std::vector<uint64_t>{2}));
  EXPECT_EQ(OwnerOf(2), "b");
}

TEST_F(CoreTest, DrainOutlivesAReconnectWithinGraceAndResumeDispatches) {
  Make({.grace = 10s});
  Connect("a");
  Disconnect("a");
  // A disconnected mover may be drained.
  DrainOutcome drained = core_->SetDraining("a", true);
  EXPECT_TRUE(drained.known);
  EXPECT_FALSE(drained.connected);
  Step(5s);
  Connect("a");  // back within its grace
  EXPECT_TRUE(movers_.draining("a"));
  ASSERT_TRUE(scheduler_.Enqueue(test::MakeItem(HSMA_ARCHIVE, 1)));
  io_.waiting = {"a"};
  io_.DispatchAll();
  EXPECT_TRUE(io_.sent.empty());
  const int passes = io_.dispatch_passes;
  // Resume: a waiting mover gets the work at once.
  DrainOutcome resumed = core_->SetDraining("a", false);
  EXPECT_TRUE(resumed.changed);
  EXPECT_EQ(io_.dispatch_passes, passes + 1);
  EXPECT_EQ(io_.sent, (std::vector<uint64_t>{1}));
  EXPECT_EQ(OwnerOf(1), "a");
  EXPECT_FALSE(core_->SetDraining("a", false).changed);
}

TEST_F(CoreTest, AForgottenDrainedMoverComesBackUndrained) {
  Make({.grace = 10s});
  Connect("a");
  core_->SetDraining("a", true);
  Disconnect("a");
  Step(10s);  // grace over: forgotten
  EXPECT_EQ(movers_.Find("a"), nullptr);
  EXPECT_FALSE(core_->SetDraining("a", false).known);
  Connect("a");
  EXPECT_FALSE(movers_.draining("a"));
}

TEST_F(CoreTest, DrainingUnpinsLocatedRestoresNotHostRuleArchives) {
  Make({.grace = 10s});
  Connect("a");
  Connect("b");
  // A restore the locality helper placed on a; an archive a host rule did.
  ASSERT_TRUE(scheduler_.Enqueue(test::MakeItem(HSMA_RESTORE, 1), "a"));
  ASSERT_TRUE(scheduler_.Enqueue(test::MakeItem(HSMA_ARCHIVE, 2), "a"));
  io_.waiting = {"b"};
  core_->SetDraining("a", true);
  // b takes the restore at once; the archive waits for a.
  ItemId restore = ItemId::Of(test::MakeItem(HSMA_RESTORE, 1).item.hai);
  EXPECT_EQ(io_.sent, (std::vector<uint64_t>{1}));
  EXPECT_EQ(scheduler_.Find(restore)->owner.str(), "b");
  EXPECT_FALSE(scheduler_.Find(Id(2))->running());
  EXPECT_EQ(scheduler_.Find(Id(2))->affinity.str(), "a");
  io_.waiting = {"a", "b"};
  io_.DispatchAll();
  EXPECT_EQ(io_.sent, (std::vector<uint64_t>{1}));
  core_->SetDraining("a", false);
  EXPECT_EQ(io_.sent, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(OwnerOf(2), "a");
}

}  // namespace
}  // namespace server
