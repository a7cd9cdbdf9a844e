// What the metrics read of the Scheduler: waiting counts by archive id, the
// oldest waiting head by type, when a running item was sent, and the
// running counts by mover. Each is kept as items come and go, so a scrape
// never walks the queued items.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "server/scheduler.h"
#include "server/test_items.h"

namespace server {
namespace {

using test::kSec;
using test::kT0;
using namespace std::chrono_literals;
using test::MakeItem;

protocol::WireItem At(uint32_t action, uint64_t cookie, int64_t at,
                      uint32_t archive_id = 1, std::string data = "") {
  protocol::WireItem wire =
      MakeItem(action, cookie, archive_id, std::move(data));
  wire.timestamp_ns = at;
  return wire;
}

ItemId IdOf(uint32_t action, uint64_t cookie) {
  return ItemId::Of(MakeItem(action, cookie).item.hai);
}

using ByArchive = std::map<uint32_t, std::array<uint64_t, kItemTypeCount>>;

// pending_by_archive() must always add up to counters().pending.
void ExpectConsistent(const Scheduler& s) {
  std::array<uint64_t, kItemTypeCount> sum{};
  for (const auto& [id, counts] : s.pending_by_archive())
    for (int t = 0; t < kItemTypeCount; ++t) sum[t] += counts[t];
  EXPECT_EQ(sum, s.counters().pending);
}

TEST(SchedulerMetricsTest, WaitingByArchiveIdFollowsEveryPath) {
  Scheduler s;
  s.Enqueue(At(HSMA_ARCHIVE, 1, kT0, 1));
  s.Enqueue(At(HSMA_ARCHIVE, 2, kT0, 2));
  s.Enqueue(At(HSMA_RESTORE, 3, kT0, 2));
  s.Enqueue(At(HSMA_REMOVE, 4, kT0, 3));
  // restore, remove, archive
  EXPECT_EQ(s.pending_by_archive(),
            (ByArchive{{1, {0, 0, 1}}, {2, {1, 0, 1}}, {3, {0, 1, 0}}}));
  ExpectConsistent(s);
  // Dispatched: one reply is of one archive id (1, the oldest's).
  auto reply = s.Dispatch("m1", {1}, {}, 1, kT0);
  ASSERT_EQ(reply.items.size(), 1u);
  EXPECT_EQ(s.pending_by_archive(),
            (ByArchive{{2, {1, 0, 1}}, {3, {0, 1, 0}}}));
  // Requeued: waiting again.
  ASSERT_TRUE(s.Requeue(IdOf(HSMA_ARCHIVE, 1)));
  EXPECT_EQ(s.pending_by_archive().at(1), (std::array<uint64_t, 3>{0, 0, 1}));
  // Moved to a mover's own queue: still waiting, counted once.
  ASSERT_TRUE(s.Reassign(IdOf(HSMA_ARCHIVE, 1), "m2"));
  EXPECT_EQ(s.pending_by_archive().at(1), (std::array<uint64_t, 3>{0, 0, 1}));
  ExpectConsistent(s);
  // Cancelled while waiting, dropped, done while waiting.
  protocol::WireItem target;
  MoverId mover;
  EXPECT_EQ(s.Cancel(MakeItem(HSMA_CANCEL, 3), &target, &mover),
            Scheduler::CancelOutcome::kDequeued);
  EXPECT_TRUE(s.Drop(IdOf(HSMA_REMOVE, 4)));
  EXPECT_TRUE(s.Done(IdOf(HSMA_ARCHIVE, 2)));
  EXPECT_EQ(s.pending_by_archive(), (ByArchive{{1, {0, 0, 1}}}));
  // Run by m2 (its own queue), then released with its mover: waiting again.
  ASSERT_EQ(s.Dispatch("m2", {}, {}, 1, kT0).items.size(), 1u);
  EXPECT_TRUE(s.pending_by_archive().empty());
  std::vector<protocol::WireItem> orphans;
  EXPECT_EQ(s.Release("m2", &orphans), 1u);
  EXPECT_EQ(s.pending_by_archive(), (ByArchive{{1, {0, 0, 1}}}));
  ExpectConsistent(s);
}

TEST(SchedulerMetricsTest, ParkedItemsStayCountedAsWaiting) {
  Scheduler s;
  s.Enqueue(At(HSMA_ARCHIVE, 1, kT0, 4, std::string(5000, 'x')));
  MoverLimits small;
  small.max_bytes = 1000;
  auto reply = s.Dispatch("m1", {}, small, 1, kT0);
  ASSERT_EQ(reply.parked.size(), 1u);
  EXPECT_EQ(s.pending_by_archive(), (ByArchive{{4, {0, 0, 1}}}));
  // A larger buffer takes it.
  ASSERT_EQ(s.Dispatch("m2", {}, {}, 1, kT0 + kSec).items.size(), 1u);
  EXPECT_TRUE(s.pending_by_archive().empty());
  ExpectConsistent(s);
}

TEST(SchedulerMetricsTest, OldestArrivalLooksAtHeadsOfEveryOwner) {
  Scheduler s;
  EXPECT_EQ(s.OldestArrival(ItemType::kRestore), std::nullopt);
  s.Enqueue(At(HSMA_RESTORE, 1, kT0 + 5 * kSec));
  s.Enqueue(At(HSMA_RESTORE, 2, kT0 + 9 * kSec));
  // Older, in a mover's own queue, of another archive id.
  s.Enqueue(At(HSMA_RESTORE, 3, kT0 + 2 * kSec, 7), "m9");
  s.Enqueue(At(HSMA_ARCHIVE, 4, kT0 + 1 * kSec));
  EXPECT_EQ(s.OldestArrival(ItemType::kRestore), kT0 + 2 * kSec);
  EXPECT_EQ(s.OldestArrival(ItemType::kArchive), kT0 + 1 * kSec);
  EXPECT_EQ(s.OldestArrival(ItemType::kRemove), std::nullopt);
  // Sent: the next head counts.
  ASSERT_EQ(s.Dispatch("m9", {7}, {}, 1, kT0).items.size(), 1u);
  EXPECT_EQ(s.OldestArrival(ItemType::kRestore), kT0 + 5 * kSec);
  // Put back: it is the oldest again.
  ASSERT_TRUE(s.Requeue(IdOf(HSMA_RESTORE, 3)));
  EXPECT_EQ(s.OldestArrival(ItemType::kRestore), kT0 + 2 * kSec);
}

// The dashboard's oldest waiting items with batching: one queue per hint,
// reached through the index of their heads, the oldest first.
TEST(SchedulerMetricsTest, OldestWaitingItemsAcrossManyBatchHints) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  // 200 hints of 2 archives each, arriving interleaved (hint i: cookies i
  // and 1000 + i), then 3 archives without data, newest of all.
  for (uint64_t i = 0; i < 200; ++i)
    s.Enqueue(At(HSMA_ARCHIVE, 1 + i, kT0 + int64_t(i) * kSec, 1,
                 "tape=" + std::to_string(i)));
  for (uint64_t i = 0; i < 200; ++i)
    s.Enqueue(At(HSMA_ARCHIVE, 1001 + i, kT0 + int64_t(200 + i) * kSec, 1,
                 "tape=" + std::to_string(i)));
  for (uint64_t i = 0; i < 3; ++i)
    s.Enqueue(At(HSMA_ARCHIVE, 5001 + i, kT0 + int64_t(400 + i) * kSec));
  std::vector<const Item*> oldest = s.OldestWaiting(ItemType::kArchive, 4);
  ASSERT_EQ(oldest.size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(oldest[i]->hai.hai_cookie, 1 + i);
  // The first three hints gone: the next oldest are hints 3 to 6.
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.Done(IdOf(HSMA_ARCHIVE, 1 + i)));
    ASSERT_TRUE(s.Done(IdOf(HSMA_ARCHIVE, 1001 + i)));
  }
  oldest = s.OldestWaiting(ItemType::kArchive, 4);
  ASSERT_EQ(oldest.size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(oldest[i]->hai.hai_cookie, 4 + i);
}

TEST(SchedulerMetricsTest, OldestArrivalSeesBatchedAndFairShareQueues) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  s.SetFairShare({.tag = "user=", .weights = {}, .by_caller = false});
  s.Enqueue(At(HSMA_ARCHIVE, 1, kT0 + 3 * kSec, 1, "tape=A"));
  s.Enqueue(At(HSMA_ARCHIVE, 2, kT0 + 4 * kSec, 1, ""));
  s.Enqueue(At(HSMA_ARCHIVE, 3, kT0 + 5 * kSec, 1, "tape=B"), "m1");
  s.Enqueue(At(HSMA_RESTORE, 4, kT0 + 6 * kSec, 1, "user=b"));
  s.Enqueue(At(HSMA_RESTORE, 5, kT0 + 7 * kSec, 1, "user=a"));
  EXPECT_EQ(s.OldestArrival(ItemType::kArchive), kT0 + 3 * kSec);
  EXPECT_EQ(s.OldestArrival(ItemType::kRestore), kT0 + 6 * kSec);
  EXPECT_TRUE(s.Done(IdOf(HSMA_ARCHIVE, 1)));
  EXPECT_EQ(s.OldestArrival(ItemType::kArchive), kT0 + 4 * kSec);
  EXPECT_TRUE(s.Done(IdOf(HSMA_ARCHIVE, 2)));
  // Only the batched one in m1's own queue is left.
  EXPECT_EQ(s.OldestArrival(ItemType::kArchive), kT0 + 5 * kSec);
  EXPECT_TRUE(s.Done(IdOf(HSMA_RESTORE, 4)));
  EXPECT_EQ(s.OldestArrival(ItemType::kRestore), kT0 + 7 * kSec);
}

TEST(SchedulerMetricsTest, SentTimeOfRunningItems) {
  Scheduler s;
  s.Enqueue(At(HSMA_ARCHIVE, 1, kT0));
  ASSERT_EQ(s.Dispatch("m1", {}, {}, 1, kT0 + 3 * kSec).items.size(), 1u);
  EXPECT_EQ(s.Find(IdOf(HSMA_ARCHIVE, 1))->since, kT0 + 3 * kSec);
  // Re-announced by a mover (claimed): when it was sent is unknown.
  s.Claim("m2", At(HSMA_ARCHIVE, 1, kT0));
  EXPECT_EQ(s.Find(IdOf(HSMA_ARCHIVE, 1))->since, 0);
}

TEST(SchedulerMetricsTest, RunningByMover) {
  Scheduler s;
  s.Enqueue(At(HSMA_ARCHIVE, 1, kT0));
  s.Enqueue(At(HSMA_RESTORE, 2, kT0));
  s.Enqueue(At(HSMA_RESTORE, 3, kT0));
  MoverLimits one_each;
  one_each.max_running = {1, 1, 1};
  ASSERT_EQ(s.Dispatch("a", {}, one_each, 1, kT0).items.size(), 2u);
  ASSERT_EQ(s.Dispatch("b", {}, one_each, 1, kT0).items.size(), 1u);
  std::map<MoverId, std::array<uint32_t, kItemTypeCount>> running;
  s.ForEachMoverRunning(
      [&](const MoverId& id, const auto& counts) { running[id] = counts; });
  EXPECT_EQ(running, (std::map<MoverId, std::array<uint32_t, 3>>{
                         {"a", {1, 0, 1}}, {"b", {1, 0, 0}}}));
}

}  // namespace
}  // namespace server
