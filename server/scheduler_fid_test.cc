// One action per file at a time (Scheduler, docs/policies.md): a later
// request of a file waits, held in no queue, until every earlier one ended.
#include <gtest/gtest.h>

#include <vector>

#include "server/scheduler.h"
#include "server/scheduler_fixture.h"
#include "server/test_items.h"

namespace server {
namespace {

using test::Cookies;
using test::MakeItem;

using test::IdOf;
using test::OfFile;

// Every test starts from an empty Scheduler (test::SchedulerFixture).
class SchedulerFidTest : public test::SchedulerFixture {};

TEST_F(SchedulerFidTest, ASecondArchiveWaitsForTheFirstToEnd) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  EXPECT_EQ(Held(), 1u);
  EXPECT_EQ(Pending(), 1u);  // a dispatch may take the first only
  const Item* held = s_.Find(IdOf(OfFile(HSMA_ARCHIVE, 2)));
  ASSERT_NE(held, nullptr);
  EXPECT_TRUE(held->behind_fid);
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(s_.Dispatch("m2", {}, MoverLimits{}).empty());
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(Held(), 0u);
  EXPECT_FALSE(s_.Find(IdOf(OfFile(HSMA_ARCHIVE, 2)))->behind_fid);
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerFidTest, ChainsOfLargeAndSmallItemsUnlinkInAnyOrder) {
  // The file's chain names its newest item by slab handle: items beyond
  // the largest slab class (from the heap) and pooled ones, the newest
  // ended first, then the middle one, then the oldest.
  const std::string large(6000, 'L');
  s_.Reserve(16);
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1, test::kSharedFile, "small")));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 2, test::kSharedFile, large)));
  ASSERT_TRUE(
      s_.Enqueue(OfFile(HSMA_ARCHIVE, 3, test::kSharedFile, large + "x")));
  EXPECT_EQ(Held(), 2u);
  ASSERT_TRUE(s_.Drop(IdOf(OfFile(HSMA_ARCHIVE, 3))));
  std::vector<uint64_t> of_file;
  auto collect = [&] {
    of_file.clear();
    s_.ForEachOfFid(OfFile(HSMA_ARCHIVE, 1).item.hai.hai_fid,
                    [&](const Item& item) {
                      of_file.push_back(item.id().cookie);
                      EXPECT_EQ(item.data(), item.id().cookie == 1
                                                 ? std::string_view("small")
                                                 : std::string_view(large));
                    });
  };
  collect();
  EXPECT_EQ(of_file, (std::vector<uint64_t>{2, 1}));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 4, test::kSharedFile, "s4")));
  ASSERT_TRUE(s_.Drop(IdOf(OfFile(HSMA_ARCHIVE, 2))));
  of_file.clear();
  s_.ForEachOfFid(
      OfFile(HSMA_ARCHIVE, 1).item.hai.hai_fid,
      [&](const Item& item) { of_file.push_back(item.id().cookie); });
  EXPECT_EQ(of_file, (std::vector<uint64_t>{4, 1}));
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{4}));
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 4))));
  EXPECT_EQ(s_.size(), 0u);
  EXPECT_FALSE(s_.Find(IdOf(OfFile(HSMA_ARCHIVE, 2))));
}

TEST_F(SchedulerFidTest, EveryPairOfActionsConflicts) {
  const uint32_t actions[] = {HSMA_ARCHIVE, HSMA_RESTORE, HSMA_REMOVE};
  for (uint32_t first : actions)
    for (uint32_t second : actions) {
      Scheduler fresh;  // one per pair
      ASSERT_TRUE(fresh.Enqueue(OfFile(first, 1)));
      ASSERT_EQ(fresh.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
      ASSERT_TRUE(fresh.Enqueue(OfFile(second, 2)));
      EXPECT_EQ(test::Total(fresh.counters().held_same_fid), 1u)
          << first << " then " << second;
      EXPECT_TRUE(fresh.Dispatch("m2", {}, MoverLimits{}).empty());
    }
}

TEST_F(SchedulerFidTest, OtherFilesAreNotHeld) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 2, 2)));
  EXPECT_EQ(Held(), 0u);
  EXPECT_EQ(s_.Dispatch("m1", {}, MoverLimits{}).items.size(), 2u);
}

TEST_F(SchedulerFidTest, AHeldItemEntersItsQueueAtItsArrivalPlace) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 2)));     // held
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 3, 3)));  // another file
  MoverLimits one;
  one.max_running = {kUnlimited, kUnlimited, 1};
  EXPECT_EQ(Send("m1", one), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 1))));
  // 2 arrived before 3: it goes first.
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{2, 3}));
}

TEST_F(SchedulerFidTest, HeldItemsStartOneAtATimeInArrivalOrder) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_REMOVE, 2)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 3)));
  EXPECT_EQ(Held(), 2u);
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 1)), /*failed=*/true));
  EXPECT_EQ(Held(), 1u);
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(s_.Find(IdOf(OfFile(HSMA_ARCHIVE, 3)))->behind_fid);
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_REMOVE, 2))));
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{3}));
  EXPECT_EQ(Held(), 0u);
}

TEST_F(SchedulerFidTest, AWaitingFirstItemHoldsTooAndItsEndStartsTheNext) {
  // Dropped (Lustre ended it) while still waiting.
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_RESTORE, 2)));
  EXPECT_EQ(Held(), 1u);
  ASSERT_TRUE(s_.Drop(IdOf(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(Held(), 0u);
  EXPECT_EQ(s_.counters().pending[0], 1u);
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerFidTest, CancellingTheFirstStartsTheNext) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  protocol::WireItem target;
  MoverId mover;
  EXPECT_EQ(s_.Cancel(OfFile(HSMA_CANCEL, 1), &target, &mover),
            Scheduler::CancelOutcome::kDequeued);
  EXPECT_EQ(Held(), 0u);
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerFidTest, ACancelOfAHeldItemDequeuesIt) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_EQ(s_.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_REMOVE, 2)));
  protocol::WireItem target;
  MoverId mover;
  EXPECT_EQ(s_.Cancel(OfFile(HSMA_CANCEL, 2), &target, &mover),
            Scheduler::CancelOutcome::kDequeued);
  EXPECT_EQ(target.item.hai.hai_cookie, 2u);
  EXPECT_EQ(Held(), 0u);
  EXPECT_EQ(s_.Find(IdOf(OfFile(HSMA_REMOVE, 2))), nullptr);
  EXPECT_EQ(s_.size(), 1u);
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(s_.size(), 0u);
  EXPECT_EQ(Pending(), 0u);
}

TEST_F(SchedulerFidTest, HeldItemsAreSeenByFileAndInTheHeldList) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_RESTORE, 2)));
  std::vector<uint64_t> of_fid;
  s_.ForEachOfFid(
      OfFile(HSMA_ARCHIVE, 1).item.hai.hai_fid,
      [&](const Item& item) { of_fid.push_back(item.id().cookie); });
  EXPECT_EQ(of_fid, (std::vector<uint64_t>{2, 1}));  // newest first
  std::vector<uint64_t> held;
  s_.ForEachHeldSameFid(
      [&](const Item& item) { held.push_back(item.id().cookie); });
  EXPECT_EQ(held, (std::vector<uint64_t>{2}));
  const Item* item = s_.Find(IdOf(OfFile(HSMA_RESTORE, 2)));
  ASSERT_NE(item, nullptr);
  EXPECT_FALSE(s_.PositionInQueue(*item, 10).has_value());
}

TEST_F(SchedulerFidTest, ARequeuedOrReleasedFirstItemKeepsHolding) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  ASSERT_EQ(s_.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s_.Requeue(IdOf(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(Held(), 1u);
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{1}));
  std::vector<protocol::WireItem> orphans;
  EXPECT_EQ(s_.Release("m2", &orphans), 1u);
  EXPECT_EQ(Held(), 1u);
  EXPECT_EQ(Send("m3"), (std::vector<uint64_t>{1}));
}

TEST_F(SchedulerFidTest, AReassignedHeldItemEntersItsNewQueue) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_RESTORE, 2)));
  ASSERT_TRUE(s_.Reassign(IdOf(OfFile(HSMA_RESTORE, 2)), "m9"));
  EXPECT_TRUE(s_.Find(IdOf(OfFile(HSMA_RESTORE, 2)))->behind_fid);
  ASSERT_EQ(s_.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_TRUE(s_.Dispatch("m1", {}, MoverLimits{}).empty());  // m9's own
  EXPECT_EQ(Send("m9"), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerFidTest, UnpinMovesHeldItemsOfAGoneMoverToTheGlobalQueues) {
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_RESTORE, 2), "m9"));
  EXPECT_EQ(s_.Unpin("m9", ItemType::kRestore), 1u);
  ASSERT_EQ(s_.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 1))));
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerFidTest, AClaimedHeldItemRuns) {
  // A mover re-announces it runs the later item: that is a fact.
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  ASSERT_TRUE(s_.Claim("m2", OfFile(HSMA_ARCHIVE, 2)));
  EXPECT_EQ(Held(), 0u);
  EXPECT_EQ(s_.Running("m2", ItemType::kArchive), 1u);
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 2))));
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1}));
}

TEST_F(SchedulerFidTest, RecoveryInArrivalOrderHoldsTheSameItems) {
  // What Server::Recover does: every request enqueued in arrival order,
  // then the running ones claimed by their movers_.
  std::vector<protocol::WireItem> stored = {
      OfFile(HSMA_ARCHIVE, 1), OfFile(HSMA_REMOVE, 2),
      OfFile(HSMA_ARCHIVE, 3, 3), OfFile(HSMA_ARCHIVE, 4)};
  for (const auto& wire : stored) ASSERT_TRUE(s_.Enqueue(wire));
  ASSERT_TRUE(s_.Claim("m1", stored[0]));
  EXPECT_EQ(Held(), 2u);
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{3}));
  ASSERT_TRUE(s_.Done(IdOf(stored[0])));
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{2}));
  ASSERT_TRUE(s_.Done(IdOf(stored[1])));
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{4}));
}

TEST_F(SchedulerFidTest, ExpiringAnOversizedFirstItemStartsTheNext) {
  ASSERT_TRUE(s_.Enqueue(
      OfFile(HSMA_ARCHIVE, 1, test::kSharedFile, std::string(500, 'x'))));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 2)));
  MoverLimits small;
  small.max_bytes = 300;
  DispatchReply reply = s_.Dispatch("m1", {}, small, 1, /*now_ns=*/100);
  EXPECT_TRUE(reply.items.empty());
  ASSERT_EQ(reply.parked.size(), 1u);
  EXPECT_EQ(Held(), 1u);  // set aside, the first still holds the file
  ASSERT_EQ(s_.ExpireOversized(100).size(), 1u);
  EXPECT_EQ(Held(), 0u);
  EXPECT_EQ(Send("m1", small), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerFidTest, AHeldRestoreJoinsItsFairShareOwnerWhenItStarts) {
  s_.SetFairShare({.tag = "user=", .weights = {}, .by_caller = false});
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_RESTORE, 2, test::kSharedFile, "user=a")));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_RESTORE, 3, 3, "user=b")));
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{3, 1}));
  ASSERT_TRUE(s_.Done(IdOf(OfFile(HSMA_ARCHIVE, 1))));
  const Item* item = s_.Find(IdOf(OfFile(HSMA_RESTORE, 2)));
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->group, "a");
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{2}));
}

// A request ended with HP_FLAG_RETRY comes back (Lustre puts it back to
// WAITING, same cookie and file FID): until then its file stays busy, so a
// remove held behind a retried archive does not run before the archive's
// next attempt, and the returning archive goes first.
TEST_F(SchedulerFidTest, ARequestAwaitingItsRetryKeepsItsFileBusy) {
  const protocol::WireItem archive = OfFile(HSMA_ARCHIVE, 1);
  ASSERT_TRUE(s_.Enqueue(archive));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_REMOVE, 2)));  // held
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s_.Done(IdOf(archive), /*failed=*/true, /*await_retry=*/true));
  const ItemId key{1, archive.item.hai.hai_fid};
  EXPECT_TRUE(s_.AwaitingRetry(key));
  EXPECT_EQ(s_.counters().awaiting_retry, 1u);
  EXPECT_EQ(Held(), 1u);
  EXPECT_TRUE(s_.Dispatch("m2", {}, MoverLimits{}).empty());
  // A new request of the file is held too.
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 3)));
  EXPECT_EQ(Held(), 2u);
  // The archive comes back: it runs, the others still wait for it.
  ASSERT_TRUE(s_.Enqueue(archive));
  EXPECT_FALSE(s_.AwaitingRetry(key));
  EXPECT_EQ(s_.counters().awaiting_retry, 0u);
  EXPECT_FALSE(s_.Find(IdOf(archive))->behind_fid);
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s_.Done(IdOf(archive)));
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{2}));
}

// A restore comes back under another data FID (its failed copy's volatile,
// Lustre's binding): it is still the awaited request, known by cookie and
// file FID.
TEST_F(SchedulerFidTest, ARestoreIsAwaitedByItsFileFid) {
  protocol::WireItem restore = OfFile(HSMA_RESTORE, 1);
  ASSERT_TRUE(s_.Enqueue(restore));
  ASSERT_EQ(s_.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s_.Done(IdOf(restore), true, true));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_ARCHIVE, 2)));  // held
  restore.item.hai.hai_dfid.f_oid = 99;
  ASSERT_TRUE(s_.Enqueue(restore));
  EXPECT_EQ(s_.counters().awaiting_retry, 0u);
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1}));
  EXPECT_EQ(Held(), 1u);
}

// The retry never comes (given up, cancelled at Lustre, forgotten by the
// retry memory): the held request starts then, not before.
TEST_F(SchedulerFidTest, AnEndedAwaitStartsTheNextHeldRequest) {
  const protocol::WireItem archive = OfFile(HSMA_ARCHIVE, 1);
  ASSERT_TRUE(s_.Enqueue(archive));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_REMOVE, 2)));
  ASSERT_EQ(s_.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s_.Done(IdOf(archive), true, true));
  EXPECT_TRUE(s_.Dispatch("m1", {}, MoverLimits{}).empty());
  const ItemId key{1, archive.item.hai.hai_fid};
  EXPECT_FALSE(s_.EndAwaitRetry({9, archive.item.hai.hai_fid}));  // not awaited
  EXPECT_TRUE(s_.EndAwaitRetry(key));
  EXPECT_FALSE(s_.EndAwaitRetry(key));
  EXPECT_EQ(Held(), 0u);
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{2}));
}

// Without the retry flag nothing is awaited (the note of issue 16's gap).
TEST_F(SchedulerFidTest, ADoneWithoutRetryAwaitsNothing) {
  const protocol::WireItem archive = OfFile(HSMA_ARCHIVE, 1);
  ASSERT_TRUE(s_.Enqueue(archive));
  ASSERT_TRUE(s_.Enqueue(OfFile(HSMA_REMOVE, 2)));
  ASSERT_EQ(s_.Dispatch("m1", {}, MoverLimits{}).items.size(), 1u);
  ASSERT_TRUE(s_.Done(IdOf(archive), true));
  EXPECT_EQ(s_.counters().awaiting_retry, 0u);
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{2}));
}

}  // namespace
}  // namespace server
