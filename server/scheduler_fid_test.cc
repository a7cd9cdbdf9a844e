// One action per file at a time (Scheduler, docs/policies.md): a later
// request of a file waits, held in no queue, until every earlier one ended.
#include <gtest/gtest.h>

#include <vector>

#include "server/scheduler.h"
#include "server/test_items.h"

namespace server {
namespace {

using test::Cookies;
using test::MakeItem;

constexpr uint32_t kFile = 7;  // the shared file: [0x200000401:7:0]

// An item of `action` with `cookie` for the file `file` (not the one the
// cookie names).
protocol::WireItem OfFile(uint32_t action, uint64_t cookie,
                          uint32_t file = kFile, std::string data = "") {
  protocol::WireItem wire = MakeItem(action, cookie, 1, std::move(data));
  wire.item.hai.hai_fid.f_oid = file;
  wire.item.hai.hai_dfid = wire.item.hai.hai_fid;
  return wire;
}

ItemId Id(const protocol::WireItem& wire) { return ItemId::Of(wire.item.hai); }

uint64_t Held(const Scheduler& s) {
  const auto& held = s.counters().held_same_fid;
  return held[0] + held[1] + held[2];
}

uint64_t Pending(const Scheduler& s) {
  const auto& pending = s.counters().pending;
  return pending[0] + pending[1] + pending[2];
}

TEST(SchedulerFidTest, ASecondArchiveWaitsForTheFirstToEnd) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  EXPECT_EQ(Held(s), 1u);
  EXPECT_EQ(Pending(s), 1u);  // a dispatch may take the first only
  const Item* held = s.Find(Id(OfFile(HSMA_ARCHIVE, 2)));
  ASSERT_NE(held, nullptr);
  EXPECT_TRUE(held->behind_fid);
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{1}));
  EXPECT_TRUE(s.Dispatch("m2", {}, MoverLimits{}).empty());
  ASSERT_TRUE(s.Done(Id(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(Held(s), 0u);
  EXPECT_FALSE(s.Find(Id(OfFile(HSMA_ARCHIVE, 2)))->behind_fid);
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
}

TEST(SchedulerFidTest, EveryPairOfActionsConflicts) {
  const uint32_t actions[] = {HSMA_ARCHIVE, HSMA_RESTORE, HSMA_REMOVE};
  for (uint32_t first : actions)
    for (uint32_t second : actions) {
      Scheduler s;
      ASSERT_TRUE(s.Enqueue(OfFile(first, 1)));
      ASSERT_EQ(s.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
      ASSERT_TRUE(s.Enqueue(OfFile(second, 2)));
      EXPECT_EQ(Held(s), 1u) << first << " then " << second;
      EXPECT_TRUE(s.Dispatch("m2", {}, MoverLimits{}).empty());
    }
}

TEST(SchedulerFidTest, OtherFilesAreNotHeld) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 2, 2)));
  EXPECT_EQ(Held(s), 0u);
  EXPECT_EQ(s.Dispatch("m1", {}, MoverLimits{}).items.size(), 2u);
}

TEST(SchedulerFidTest, AHeldItemEntersItsQueueAtItsArrivalPlace) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 2)));     // held
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 3, 3)));  // another file
  MoverLimits one;
  one.max_running = {kUnlimited, kUnlimited, 1};
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, one)), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s.Done(Id(OfFile(HSMA_ARCHIVE, 1))));
  // 2 arrived before 3: it goes first.
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{2, 3}));
}

TEST(SchedulerFidTest, HeldItemsStartOneAtATimeInArrivalOrder) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_REMOVE, 2)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 3)));
  EXPECT_EQ(Held(s), 2u);
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s.Done(Id(OfFile(HSMA_ARCHIVE, 1)), /*failed=*/true));
  EXPECT_EQ(Held(s), 1u);
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
  EXPECT_TRUE(s.Find(Id(OfFile(HSMA_ARCHIVE, 3)))->behind_fid);
  ASSERT_TRUE(s.Done(Id(OfFile(HSMA_REMOVE, 2))));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{3}));
  EXPECT_EQ(Held(s), 0u);
}

TEST(SchedulerFidTest, AWaitingFirstItemHoldsTooAndItsEndStartsTheNext) {
  // Dropped (Lustre ended it) while still waiting.
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_RESTORE, 2)));
  EXPECT_EQ(Held(s), 1u);
  ASSERT_TRUE(s.Drop(Id(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(Held(s), 0u);
  EXPECT_EQ(s.counters().pending[0], 1u);
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
}

TEST(SchedulerFidTest, CancellingTheFirstStartsTheNext) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  protocol::WireItem target;
  MoverId mover;
  EXPECT_EQ(s.Cancel(OfFile(HSMA_CANCEL, 1), &target, &mover),
            Scheduler::CancelOutcome::kDequeued);
  EXPECT_EQ(Held(s), 0u);
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
}

TEST(SchedulerFidTest, ACancelOfAHeldItemDequeuesIt) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_EQ(s.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_REMOVE, 2)));
  protocol::WireItem target;
  MoverId mover;
  EXPECT_EQ(s.Cancel(OfFile(HSMA_CANCEL, 2), &target, &mover),
            Scheduler::CancelOutcome::kDequeued);
  EXPECT_EQ(target.item.hai.hai_cookie, 2u);
  EXPECT_EQ(Held(s), 0u);
  EXPECT_EQ(s.Find(Id(OfFile(HSMA_REMOVE, 2))), nullptr);
  EXPECT_EQ(s.size(), 1u);
  ASSERT_TRUE(s.Done(Id(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(Pending(s), 0u);
}

TEST(SchedulerFidTest, HeldItemsAreSeenByFileAndInTheHeldList) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_RESTORE, 2)));
  std::vector<uint64_t> of_fid;
  s.ForEachOfFid(OfFile(HSMA_ARCHIVE, 1).item.hai.hai_fid,
                 [&](const Item& item) { of_fid.push_back(item.id.cookie); });
  EXPECT_EQ(of_fid, (std::vector<uint64_t>{2, 1}));  // newest first
  std::vector<uint64_t> held;
  s.ForEachHeldSameFid(
      [&](const Item& item) { held.push_back(item.id.cookie); });
  EXPECT_EQ(held, (std::vector<uint64_t>{2}));
  const Item* item = s.Find(Id(OfFile(HSMA_RESTORE, 2)));
  ASSERT_NE(item, nullptr);
  EXPECT_FALSE(s.PositionInQueue(*item, 10).has_value());
}

TEST(SchedulerFidTest, ARequeuedOrReleasedFirstItemKeepsHolding) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  ASSERT_EQ(s.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s.Requeue(Id(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(Held(s), 1u);
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{})),
            (std::vector<uint64_t>{1}));
  std::vector<protocol::WireItem> orphans;
  EXPECT_EQ(s.Release("m2", &orphans), 1u);
  EXPECT_EQ(Held(s), 1u);
  EXPECT_EQ(Cookies(s.Dispatch("m3", {}, MoverLimits{})),
            (std::vector<uint64_t>{1}));
}

TEST(SchedulerFidTest, AReassignedHeldItemEntersItsNewQueue) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_RESTORE, 2)));
  ASSERT_TRUE(s.Reassign(Id(OfFile(HSMA_RESTORE, 2)), "m9"));
  EXPECT_TRUE(s.Find(Id(OfFile(HSMA_RESTORE, 2)))->behind_fid);
  ASSERT_EQ(s.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s.Done(Id(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_TRUE(s.Dispatch("m1", {}, MoverLimits{}).empty());  // m9's own
  EXPECT_EQ(Cookies(s.Dispatch("m9", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
}

TEST(SchedulerFidTest, UnpinMovesHeldItemsOfAGoneMoverToTheGlobalQueues) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_RESTORE, 2), "m9"));
  EXPECT_EQ(s.Unpin("m9", ItemType::kRestore), 1u);
  ASSERT_EQ(s.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s.Done(Id(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
}

TEST(SchedulerFidTest, AClaimedHeldItemRuns) {
  // A mover re-announces it runs the later item: that is a fact.
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  ASSERT_TRUE(s.Claim("m2", OfFile(HSMA_ARCHIVE, 2)));
  EXPECT_EQ(Held(s), 0u);
  EXPECT_EQ(s.Running("m2", ItemType::kArchive), 1u);
  ASSERT_TRUE(s.Done(Id(OfFile(HSMA_ARCHIVE, 2))));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{1}));
}

TEST(SchedulerFidTest, RecoveryInArrivalOrderHoldsTheSameItems) {
  // What Server::Recover does: every request enqueued in arrival order,
  // then the running ones claimed by their movers.
  std::vector<protocol::WireItem> stored = {
      OfFile(HSMA_ARCHIVE, 1), OfFile(HSMA_REMOVE, 2),
      OfFile(HSMA_ARCHIVE, 3, 3), OfFile(HSMA_ARCHIVE, 4)};
  Scheduler s;
  for (const auto& wire : stored) ASSERT_TRUE(s.Enqueue(wire));
  ASSERT_TRUE(s.Claim("m1", stored[0]));
  EXPECT_EQ(Held(s), 2u);
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{})),
            (std::vector<uint64_t>{3}));
  ASSERT_TRUE(s.Done(Id(stored[0])));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
  ASSERT_TRUE(s.Done(Id(stored[1])));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{})),
            (std::vector<uint64_t>{4}));
}

TEST(SchedulerFidTest, ExpiringAnOversizedFirstItemStartsTheNext) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1, kFile, std::string(500, 'x'))));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  MoverLimits small;
  small.max_bytes = 300;
  DispatchReply reply = s.Dispatch("m1", {}, small, 1, /*now_ns=*/100);
  EXPECT_TRUE(reply.items.empty());
  ASSERT_EQ(reply.parked.size(), 1u);
  EXPECT_EQ(Held(s), 1u);  // set aside, the first still holds the file
  ASSERT_EQ(s.ExpireOversized(100).size(), 1u);
  EXPECT_EQ(Held(s), 0u);
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, small)), (std::vector<uint64_t>{2}));
}

TEST(SchedulerFidTest, AHeldRestoreJoinsItsFairShareOwnerWhenItStarts) {
  Scheduler s;
  s.SetFairShare({.tag = "user=", .weights = {}, .by_caller = false});
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_RESTORE, 2, kFile, "user=a")));
  ASSERT_TRUE(s.Enqueue(OfFile(HSMA_RESTORE, 3, 3, "user=b")));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{3, 1}));
  ASSERT_TRUE(s.Done(Id(OfFile(HSMA_ARCHIVE, 1))));
  const Item* item = s.Find(Id(OfFile(HSMA_RESTORE, 2)));
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->group, "a");
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
}

}  // namespace
}  // namespace server
