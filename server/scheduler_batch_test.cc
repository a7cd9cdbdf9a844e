// Archive batching (docs/policies.md, archive batching) with an injected clock:
// every time is a `now` argument, so slices, idle and max deadlines are stepped
// exactly.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "server/scheduler.h"
#include "server/test_items.h"

namespace server {
namespace {

using test::Cookies;
using test::kSec;
using test::kT0;
using namespace std::chrono_literals;

protocol::WireItem Archive(uint64_t cookie, std::string data,
                           int64_t at = kT0) {
  protocol::WireItem wire =
      test::MakeItem(HSMA_ARCHIVE, cookie, /*archive_id=*/1, std::move(data));
  wire.timestamp_ns = at;
  return wire;
}

MoverLimits MaxArchive(uint32_t max) {
  MoverLimits limits;
  limits.max_running[static_cast<size_t>(ItemType::kArchive)] = max;
  return limits;
}

ItemId IdOf(uint64_t cookie) {
  return ItemId::Of(Archive(cookie, "").item.hai);
}

TEST(SchedulerBatchTest, OneHintPerSlotDuringItsSlice) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  ASSERT_TRUE(s.batching());
  s.Enqueue(Archive(1, "tape=A"));
  s.Enqueue(Archive(2, "tape=B"));
  s.Enqueue(Archive(3, "tape=A"));
  s.Enqueue(Archive(4, "tape=B"));
  s.Enqueue(Archive(5, "tape=A"));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{1, 3, 5}));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{2, 4}));
  // More of each hint: each goes to the mover holding it, never the other.
  s.Enqueue(Archive(6, "tape=A", kT0 + kSec));
  s.Enqueue(Archive(7, "tape=B", kT0 + kSec));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0 + 2 * kSec)),
            (std::vector<uint64_t>{7}));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0 + 2 * kSec)),
            (std::vector<uint64_t>{6}));
  auto batches = s.Batches("m1", kT0 + 2 * kSec);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].hint, "tape=A");
  EXPECT_EQ(batches[0].running, 4u);
  EXPECT_EQ(batches[0].idle_deadline_ns, kT0 + 12 * kSec);
  EXPECT_EQ(batches[0].max_deadline_ns, 0);
}

TEST(SchedulerBatchTest, IdleSliceEndsOnlyAfterIdleSecondsWithoutWork) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  s.Enqueue(Archive(1, "A"));
  ASSERT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{1}));
  s.Enqueue(Archive(2, "B", kT0 + kSec));
  // The slot still belongs to A (its idle deadline is kT0 + 10 s).
  EXPECT_TRUE(s.Dispatch("m1", {}, {}, 1, kT0 + 9 * kSec).empty());
  EXPECT_EQ(s.NextBatchDeadline(kT0 + 9 * kSec), kT0 + 10 * kSec);
  // An A arriving at 9 s renews the idle deadline when it is sent.
  s.Enqueue(Archive(3, "A", kT0 + 9 * kSec));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0 + 9 * kSec)),
            (std::vector<uint64_t>{3}));
  EXPECT_TRUE(s.Dispatch("m1", {}, {}, 1, kT0 + 18 * kSec).empty());
  // 10 s after the last A: the slice is over and B gets the slot.
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0 + 19 * kSec)),
            (std::vector<uint64_t>{2}));
  EXPECT_EQ(s.Batches("m1", kT0 + 19 * kSec)[0].hint, "B");
}

TEST(SchedulerBatchTest, ArrivalRenewsTheIdleDeadlineOfItsSlot) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  s.Enqueue(Archive(1, "A"));
  s.Dispatch("m1", {}, MaxArchive(1), 1, kT0);
  s.Enqueue(Archive(2, "A", kT0 + 5 * kSec));
  EXPECT_EQ(s.Batches("m1", kT0 + 5 * kSec)[0].idle_deadline_ns,
            kT0 + 15 * kSec);
  EXPECT_EQ(s.Batches("m1", kT0 + 5 * kSec)[0].waiting, 1u);
}

TEST(SchedulerBatchTest, MaxDeadlineEndsTheSliceEvenWithWorkLeft) {
  Scheduler s;
  s.SetBatching({10s, 30s, 1});
  s.Enqueue(Archive(1, "A"));
  s.Enqueue(Archive(2, "B", kT0 + kSec));  // waits while A streams
  ASSERT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0)),
            (std::vector<uint64_t>{1}));
  for (int t = 5; t < 30; t += 5) {
    s.Enqueue(Archive(100 + t, "A", kT0 + t * kSec));
    ASSERT_TRUE(s.Done(IdOf(t == 5 ? 1 : 100 + t - 5)));
    ASSERT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0 + t * kSec)),
              (std::vector<uint64_t>{100u + t}))
        << "at " << t << " s";
  }
  s.Enqueue(Archive(130, "A", kT0 + 29 * kSec));
  ASSERT_TRUE(s.Done(IdOf(125)));
  EXPECT_EQ(s.NextBatchDeadline(kT0 + 29 * kSec), kT0 + 30 * kSec);
  // At 30 s A's slice is over; B waited longest, so it takes the slot.
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0 + 30 * kSec)),
            (std::vector<uint64_t>{2}));
  EXPECT_EQ(s.Batches("m1", kT0 + 30 * kSec)[0].max_deadline_ns,
            kT0 + 60 * kSec);
}

// A reload's new slice times: the slice running keeps its deadlines until
// it renews them; the next renewal and the next slice use the new ones.
TEST(SchedulerBatchTest, NewSliceTimesApplyFromTheNextRenewal) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  s.Enqueue(Archive(1, "A"));
  ASSERT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0)),
            (std::vector<uint64_t>{1}));
  s.SetBatchTimes(30s, 100s);
  ASSERT_TRUE(s.batching());
  EXPECT_EQ(s.Batches("m1", kT0)[0].idle_deadline_ns, kT0 + 10 * kSec);
  s.Enqueue(Archive(2, "A", kT0 + kSec));  // renews: 30 s from its arrival
  EXPECT_EQ(s.Batches("m1", kT0 + kSec)[0].idle_deadline_ns, kT0 + 31 * kSec);
  // B takes the slot once A's slice ends; its slice has the new maximum.
  s.Enqueue(Archive(3, "B", kT0 + kSec));
  ASSERT_TRUE(s.Done(IdOf(1)));
  ASSERT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0 + 2 * kSec)),
            (std::vector<uint64_t>{2}));
  ASSERT_TRUE(s.Done(IdOf(2)));
  EXPECT_TRUE(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0 + 31 * kSec).empty());
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0 + 32 * kSec)),
            (std::vector<uint64_t>{3}));
  EXPECT_EQ(s.Batches("m1", kT0 + 32 * kSec)[0].max_deadline_ns,
            kT0 + 132 * kSec);
}

TEST(SchedulerBatchTest, AHeldHintWaitsForItsMoverUntilTheSliceEnds) {
  Scheduler s;
  s.SetBatching({10s, 60s, 1});
  for (uint64_t c = 1; c <= 3; ++c) s.Enqueue(Archive(c, "A"));
  ASSERT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0)),
            (std::vector<uint64_t>{1}));
  // m1 is full; its slot stays reserved (A waits), m2 must not take A.
  EXPECT_TRUE(s.Dispatch("m2", {}, {}, 1, kT0 + 59 * kSec).empty());
  // Past the maximum, the hint is free and m2 takes it over.
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0 + 60 * kSec)),
            (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(s.Batches("m2", kT0 + 60 * kSec)[0].hint, "A");
  EXPECT_EQ(s.Batches("m1", kT0 + 60 * kSec)[0].hint, "");
}

TEST(SchedulerBatchTest, OneBatchTakesAtMostItsShareOfTheMoversCapacity) {
  Scheduler s;
  s.SetBatching({10s, 0s, 2});
  for (uint64_t c = 1; c <= 5; ++c) s.Enqueue(Archive(c, "A"));
  for (uint64_t c = 6; c <= 10; ++c) s.Enqueue(Archive(c, "B"));
  // max_archive 4, 2 slots: each slot runs at most ceil(4 / 2) = 2.
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(4), 1, kT0)),
            (std::vector<uint64_t>{1, 2, 6, 7}));
  ASSERT_TRUE(s.Done(IdOf(1)));
  // A's slot has room for one more; B's has none.
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(4), 1, kT0)),
            (std::vector<uint64_t>{3}));
  // Odd capacity rounds up: 3 over 2 slots is 2 each, 3 in all.
  Scheduler odd;
  odd.SetBatching({10s, 0s, 2});
  for (uint64_t c = 1; c <= 5; ++c) odd.Enqueue(Archive(c, "A"));
  for (uint64_t c = 6; c <= 10; ++c) odd.Enqueue(Archive(c, "B"));
  EXPECT_EQ(Cookies(odd.Dispatch("m1", {}, MaxArchive(3), 1, kT0)),
            (std::vector<uint64_t>{1, 2, 6}));
}

TEST(SchedulerBatchTest, ArchivesWithoutDataAreNotBatched) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  s.Enqueue(Archive(1, "A"));
  s.Enqueue(Archive(2, ""));
  s.Enqueue(Archive(3, ""));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(2), 1, kT0)),
            (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{3}));
}

TEST(SchedulerBatchTest, QueueModePaddingIsNotPartOfTheHint) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  s.Enqueue(Archive(1, "A"));
  s.Enqueue(Archive(2, std::string("A\0\0", 3)));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{1, 2}));
}

TEST(SchedulerBatchTest, AForgottenMoverFreesItsHints) {
  Scheduler s;
  s.SetBatching({3600s, 0s, 1});
  s.Enqueue(Archive(1, "A"));
  s.Enqueue(Archive(2, "A"));
  ASSERT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0)),
            (std::vector<uint64_t>{1}));
  EXPECT_TRUE(s.Dispatch("m2", {}, {}, 1, kT0).empty());
  std::vector<protocol::WireItem> orphans;
  EXPECT_EQ(s.Release("m1", &orphans), 1u);
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{1, 2}));
}

TEST(SchedulerBatchTest, ADrainedMoverFreesItsHintsAndKeepsItsWork) {
  Scheduler s;
  s.SetBatching({3600s, 0s, 1});
  for (uint64_t c = 1; c <= 3; ++c) s.Enqueue(Archive(c, "A"));
  ASSERT_EQ(Cookies(s.Dispatch("m1", {}, MaxArchive(1), 1, kT0)),
            (std::vector<uint64_t>{1}));
  EXPECT_TRUE(s.Dispatch("m2", {}, {}, 1, kT0).empty());  // A is m1's
  // m1 drained: its hint goes to m2 at once, its running item stays.
  s.FreeSlots("m1");
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(s.Batches("m2", kT0)[0].hint, "A");
  EXPECT_EQ(s.Running("m1", ItemType::kArchive), 1u);
  EXPECT_TRUE(s.Done(IdOf(1)));
  EXPECT_EQ(s.Running("m1", ItemType::kArchive), 0u);
  s.FreeSlots("nobody");  // unknown: nothing happens
}

TEST(SchedulerBatchTest, HostAffinityAndBatchingCombine) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  // A host rule pinned hint A to m1; B may go anywhere.
  s.Enqueue(Archive(1, "A"), "m1");
  s.Enqueue(Archive(2, "B"));
  s.Enqueue(Archive(3, "A"), "m1");
  // m2 cannot have A (its mover is m1), so it batches B.
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{2}));
  s.Enqueue(Archive(4, "B"));
  // m1 batches A only, even with B waiting.
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{4}));
}

TEST(SchedulerBatchTest, FreeSlotTakesTheHintThatWaitedLongest) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  s.Enqueue(Archive(1, "C", kT0));
  s.Enqueue(Archive(2, "B", kT0 + 1));
  s.Enqueue(Archive(3, "A", kT0 + 2));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{1}));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{2}));
  EXPECT_EQ(Cookies(s.Dispatch("m3", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{3}));
  EXPECT_EQ(s.HeldSlots("m3"), 1u);
  EXPECT_EQ(s.HeldSlots("m4"), 0u);
}

TEST(SchedulerBatchTest, CancelAndRequeueKeepTheIndexConsistent) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  for (uint64_t c = 1; c <= 4; ++c) s.Enqueue(Archive(c, c % 2 ? "A" : "B"));
  protocol::WireItem target;
  MoverId mover;
  auto cancel = Archive(1, "");
  cancel.item.hai.hai_action = HSMA_CANCEL;
  EXPECT_EQ(s.Cancel(cancel, &target, &mover),
            Scheduler::CancelOutcome::kDequeued);
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{2, 4}));
  ASSERT_TRUE(s.Requeue(IdOf(2)));
  EXPECT_EQ(s.Batches("m1", kT0)[0].running, 1u);
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{2}));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{3}));
  EXPECT_EQ(s.counters().pending[static_cast<size_t>(ItemType::kArchive)], 0u);
}

TEST(SchedulerBatchTest, ZeroIdleOrSlotsTurnBatchingOff) {
  Scheduler s;
  s.SetBatching({0s, 10s, 4});
  EXPECT_FALSE(s.batching());
  s.SetBatching({10s, 0s, 0});
  EXPECT_FALSE(s.batching());
  s.Enqueue(Archive(1, "A"));
  s.Enqueue(Archive(2, "B"));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(s.Batches("m1", kT0).empty());
}

TEST(SchedulerBatchTest, UnbatchedArchivesNeverGiveASlotTheEmptyHint) {
  Scheduler s;
  s.SetBatching({30s, 0s, 1});
  // Archives without data come and go through any mover...
  s.Enqueue(Archive(1, ""));
  s.Enqueue(Archive(2, ""));
  ASSERT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{1, 2}));
  ASSERT_TRUE(s.Done(IdOf(1)));
  ASSERT_TRUE(s.Done(IdOf(2)));
  // ...and leave no hint behind: m1's free slot takes the next batch.
  EXPECT_EQ(s.Batches("m1", kT0)[0].hint, "");
  s.Enqueue(Archive(3, "A"));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{3}));
  EXPECT_EQ(s.Batches("m1", kT0)[0].hint, "A");
}

TEST(SchedulerBatchTest, WaitingArchivesOfAHintAreListedInArrivalOrder) {
  Scheduler s;
  s.SetBatching({10s, 0s, 1});
  s.Enqueue(Archive(1, "A"));
  s.Enqueue(Archive(2, "A"), "m2");  // pinned: only m2 may take it
  s.Enqueue(Archive(3, "B"));
  s.Enqueue(Archive(4, "A"));
  auto listed = [&](const MoverId& mover) {
    std::vector<uint64_t> cookies;
    s.ForEachWaitingOfHint(mover, "A", [&](const Item& item) {
      cookies.push_back(item.id().cookie);
    });
    return cookies;
  };
  EXPECT_EQ(listed("m1"), (std::vector<uint64_t>{1, 4}));
  EXPECT_EQ(listed("m2"), (std::vector<uint64_t>{1, 2, 4}));
}

}  // namespace
}  // namespace server
