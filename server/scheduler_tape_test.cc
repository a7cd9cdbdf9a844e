// Recalls in tape order through the Scheduler (server/scheduler_tape.cc),
// with stepped time: every time is a `now` argument.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "server/scheduler.h"
#include "server/test_items.h"

namespace server {
namespace {

using test::Cookies;
using test::kSec;
using test::kT0;
using namespace std::chrono_literals;

protocol::WireItem TapeRestore(uint64_t cookie, uint64_t flags = 0,
                               uint32_t archive_id = 1) {
  protocol::WireItem wire =
      test::MakeItem(HSMA_RESTORE, cookie, archive_id, "", flags);
  wire.timestamp_ns = kT0 + static_cast<int64_t>(cookie);
  return wire;
}

ItemId IdOf(uint64_t cookie) {
  return ItemId::Of(TapeRestore(cookie).item.hai);
}

MoverLimits MaxRestore(uint32_t max) {
  MoverLimits limits;
  limits.max_running[static_cast<size_t>(ItemType::kRestore)] = max;
  return limits;
}

class SchedulerTapeTest : public ::testing::Test {
 protected:
  SchedulerTapeTest() { s_.SetTapeOrder({10s, 0s, 1}); }

  // Restore `cookie`, on `medium` at `position` ("" : no medium).
  void Add(uint64_t cookie, const std::string& medium, uint64_t position,
           uint64_t flags = 0) {
    ASSERT_TRUE(s_.Enqueue(TapeRestore(cookie, flags)));
    if (!medium.empty()) {
      ASSERT_TRUE(s_.PlaceOnMedium(IdOf(cookie), medium, position));
    }
  }
  std::vector<uint64_t> Take(const MoverId& mover,
                             const MoverLimits& limits = {}) {
    return Cookies(s_.Dispatch(mover, {}, limits, 1, now_));
  }

  Scheduler s_;
  int64_t now_ = kT0;
};

TEST_F(SchedulerTapeTest, AMediumGoesToOneMoverInPositionOrder) {
  Add(1, "A", 300);
  Add(2, "B", 20);
  Add(3, "A", 100);
  Add(4, "B", 10);
  Add(5, "A", 200);
  Add(6, "", 0);  // no medium: as before, after the tape stage
  EXPECT_EQ(s_.counters().pending[0], 6u);
  EXPECT_EQ(s_.tape_media()->waiting(), 5u);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{3, 5, 1, 6}));
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{4, 2}));
  // Later restores of A go to m1, which holds it, never to m2.
  Add(7, "A", 50);
  EXPECT_TRUE(Take("m2").empty());
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{7}));
  ASSERT_EQ(s_.Media("m1", now_).size(), 1u);
  EXPECT_EQ(s_.Media("m1", now_)[0].medium, "A");
  EXPECT_EQ(s_.Media("m1", now_)[0].running, 4u);
  EXPECT_EQ(s_.Media("m1", now_)[0].head, 50u);
  EXPECT_EQ(s_.NextBatchDeadline(now_), now_ + 10 * kSec);
}

TEST_F(SchedulerTapeTest, WithoutTapeOrderAMediumIsRefused) {
  Scheduler plain;
  ASSERT_TRUE(plain.Enqueue(TapeRestore(1)));
  EXPECT_FALSE(plain.PlaceOnMedium(IdOf(1), "A", 1));
  EXPECT_FALSE(plain.tape_order());
  EXPECT_EQ(Cookies(plain.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{1}));
}

TEST_F(SchedulerTapeTest, PlacedAgainARestoreGoesBackToItsMedium) {
  Add(1, "A", 2);
  Add(2, "A", 1);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{2, 1}));
  // Its mover gone: back on A, which is free now, in position order.
  std::vector<protocol::WireItem> orphans;
  EXPECT_EQ(s_.Release("m1", &orphans), 2u);
  EXPECT_EQ(s_.tape_media()->waiting(), 2u);
  EXPECT_TRUE(s_.Find(IdOf(1))->affinity == kOnMedium);
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{2, 1}));
  // Requeued one by one: back on A, still held by m2.
  EXPECT_TRUE(s_.Requeue(IdOf(1)));
  EXPECT_TRUE(Take("m3").empty());
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(s_.Done(IdOf(1)));
  EXPECT_TRUE(s_.Done(IdOf(2)));
  EXPECT_EQ(s_.Media("m2", now_)[0].running, 0u);
}

TEST_F(SchedulerTapeTest, ACancelledRestoreLeavesItsMedium) {
  Add(1, "A", 1);
  Add(2, "A", 2);
  protocol::WireItem cancel = TapeRestore(1);
  cancel.item.hai.hai_action = HSMA_CANCEL;
  protocol::WireItem target;
  MoverId mover;
  EXPECT_EQ(s_.Cancel(cancel, &target, &mover),
            Scheduler::CancelOutcome::kDequeued);
  EXPECT_EQ(s_.tape_media()->waiting(), 1u);
  EXPECT_EQ(s_.counters().pending[0], 1u);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerTapeTest, AMediumRunsWithinTheMoversRestoreLimit) {
  for (uint64_t c = 1; c <= 4; ++c) Add(c, "A", 10 - c);
  EXPECT_EQ(Take("m1", MaxRestore(2)), (std::vector<uint64_t>{4, 3}));
  EXPECT_TRUE(Take("m1", MaxRestore(2)).empty());
  EXPECT_TRUE(Take("m2", MaxRestore(2)).empty());  // A is m1's
  EXPECT_TRUE(s_.Done(IdOf(4)));
  EXPECT_EQ(Take("m1", MaxRestore(2)), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerTapeTest, ARestoreStagedButNotSentGoesFirstNextTime) {
  Add(1, "A", 1);
  Add(2, "A", 2);
  Add(3, "A", 3);
  MoverLimits one = {};
  one.max_bytes = static_cast<uint32_t>(ReplyCost(TapeRestore(1)));  // one fits
  EXPECT_EQ(Take("m1", one), (std::vector<uint64_t>{1}));
  EXPECT_EQ(s_.counters().pending[0], 2u);
  EXPECT_EQ(Take("m1", one), (std::vector<uint64_t>{2}));
  // 5 staged, then m1 goes: 5 goes back to A for another mover.
  EXPECT_EQ(Take("m1", one), (std::vector<uint64_t>{3}));
  Add(4, "A", 4);
  Add(5, "A", 5);
  EXPECT_EQ(Take("m1", one), (std::vector<uint64_t>{4}));
  std::vector<protocol::WireItem> orphans;
  s_.Release("m1", &orphans);
  // 1, 2, 3, 4 placed again; 5, staged, back on A.
  EXPECT_EQ(s_.tape_media()->waiting(), 5u);
  EXPECT_EQ(s_.counters().pending[0], 5u);
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST_F(SchedulerTapeTest, ADrainedMoverFreesItsMedia) {
  Add(1, "A", 1);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{1}));
  Add(2, "A", 2);
  s_.FreeSlots("m1");
  EXPECT_TRUE(s_.Media("m1", now_).empty());
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(s_.Done(IdOf(1)));  // ends on m1 as it was
}

TEST_F(SchedulerTapeTest, FairShareStillOrdersRestoresWithoutAMedium) {
  Scheduler s;
  s.SetFairShare({.tag = "user=", .weights = {}, .by_caller = false});
  s.SetTapeOrder({10s, 0s, 1});
  auto restore = [](uint64_t cookie, const std::string& user) {
    protocol::WireItem wire =
        test::MakeItem(HSMA_RESTORE, cookie, 1, "user=" + user);
    wire.timestamp_ns = kT0 + static_cast<int64_t>(cookie);
    return wire;
  };
  for (uint64_t c = 1; c <= 3; ++c) ASSERT_TRUE(s.Enqueue(restore(c, "a")));
  ASSERT_TRUE(s.Enqueue(restore(4, "b")));
  ASSERT_TRUE(s.Enqueue(restore(5, "a")));
  ASSERT_TRUE(s.PlaceOnMedium(ItemId::Of(restore(5, "a").item.hai), "T", 1));
  // The medium first, then a and b by turns.
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, {}, 1, kT0)),
            (std::vector<uint64_t>{5, 1, 4, 2, 3}));
}

#if COORDINATOOL_HAVE_HSM_REQ_BLOCKING
TEST_F(SchedulerTapeTest, AFreeMoverTakesTheMediumABlockingRestoreWaitsOn) {
  Add(1, "A", 1);
  Add(2, "B", 5);
  Add(3, "B", 2, HSM_REQ_BLOCKING);
  EXPECT_EQ(s_.tape_media()->unheld_blocking_media(), 1u);
  // B first, one reply per hal flags: the blocking restore, then the rest.
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{3}));
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{2}));
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{1}));
}
#endif

}  // namespace
}  // namespace server
