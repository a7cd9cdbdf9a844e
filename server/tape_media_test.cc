// Recalls in tape order (server/tape_media.h) with stepped time: every time
// is a `now` argument, so slices, idle and max deadlines are exact.
#include "server/tape_media.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "server/test_items.h"

namespace server {
namespace {

using test::kSec;
using test::kT0;
using namespace std::chrono_literals;

constexpr uint32_t kNoLimit = UINT32_MAX;

TapeMedia::Accepts Any() {
  return [](uint32_t, uint64_t) { return true; };
}

class TapeMediaTest : public ::testing::Test {
 protected:
  explicit TapeMediaTest(TapeMediaOptions options = {10s, 0s, 1})
      : media_(options) {}

  void Add(const std::string& medium, uint64_t position, bool blocking = false,
           uint32_t archive_id = 1) {
    media_.Add(medium,
               {.id = next_id_,
                .position = position,
                .archive_id = archive_id,
                .hal_flags = 0,
                .blocking = blocking},
               now_);
    positions_.push_back(position);
    ++next_id_;
  }
  // What `mover` gets, as positions, sending each, up to `max` restores.
  std::vector<uint64_t> Take(const std::string& mover, size_t max = 100,
                             uint32_t max_restore = kNoLimit,
                             const TapeMedia::Accepts& accepts = Any()) {
    std::vector<uint64_t> got;
    while (got.size() < max) {
      auto id = media_.Next(mover, max_restore, accepts, now_);
      if (!id) break;
      media_.Sent(mover, *id, now_);
      got.push_back(positions_[*id - 1]);
      sent_.push_back(*id);
    }
    return got;
  }
  std::string HolderOf(const std::string& medium) {
    return media_.HolderOf(medium).value_or("");
  }

  TapeMedia media_;
  int64_t now_ = kT0;
  uint64_t next_id_ = 1;
  std::vector<uint64_t> positions_;  // by id - 1
  std::vector<uint64_t> sent_;       // ids, in the order sent
};

TEST_F(TapeMediaTest, OneMediumInPositionOrder) {
  for (uint64_t position : {500, 20, 300, 10, 40}) Add("A", position);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{10, 20, 40, 300, 500}));
  EXPECT_EQ(media_.waiting(), 0u);
  EXPECT_EQ(HolderOf("A"), "m1");
}

TEST_F(TapeMediaTest, AscendingFromTheHeadThenWrapping) {
  Add("A", 100);
  Add("A", 200);
  EXPECT_EQ(Take("m1", 1), (std::vector<uint64_t>{100}));
  // Behind the head (50) and ahead of it (150, 400): ahead first, then the
  // next sweep from the lowest.
  Add("A", 50);
  Add("A", 400);
  Add("A", 150);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{150, 200, 400, 50}));
}

TEST_F(TapeMediaTest, AMediumIsHeldByOneMoverAtATime) {
  Add("A", 1);
  Add("B", 1);
  Add("A", 2);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{1, 2}));  // A, the oldest
  EXPECT_EQ(HolderOf("A"), "m1");
  // More restores of A: m2 holds B and gets none of A, even with a slot
  // free elsewhere; m3 has nothing to take.
  Add("A", 3);
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{1}));
  EXPECT_EQ(HolderOf("B"), "m2");
  EXPECT_TRUE(Take("m3").empty());
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{3}));
}

TEST_F(TapeMediaTest, IdleSliceEndsThenAnotherMoverTakesTheMedium) {
  Add("A", 1);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{1}));
  now_ += 9 * kSec;
  EXPECT_TRUE(Take("m1").empty());  // holds A, idle until +10 s
  Add("A", 2);                      // joins it: idle until +19 s
  EXPECT_TRUE(Take("m2").empty());
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{2}));
  now_ += 10 * kSec;  // A's idle deadline: its slice is over
  Add("A", 3);        // does not revive it
  EXPECT_EQ(HolderOf("A"), "");
  EXPECT_EQ(Take("m3"), (std::vector<uint64_t>{3}));
  EXPECT_EQ(HolderOf("A"), "m3");
  // Slices over, their holders silent: a mover with a free slot frees them
  // on its way to a medium.
  now_ += 11 * kSec;
  Add("C", 1);
  EXPECT_EQ(HolderOf("A"), "m3");
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{1}));
  EXPECT_EQ(HolderOf("A"), "");
  EXPECT_EQ(HolderOf("B"), "");
  EXPECT_EQ(HolderOf("C"), "m2");
}

TEST_F(TapeMediaTest, AnIdleMediumYieldsItsSlotToAWaitingOne) {
  Add("A", 1);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{1}));
  now_ += 1 * kSec;
  Add("B", 4);
  // A runs one restore still: m1 keeps it.
  EXPECT_TRUE(Take("m1").empty());
  media_.Ended(sent_[0]);
  // Nothing waits for A nor runs from it while B waits: m1 takes B.
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{4}));
  EXPECT_EQ(HolderOf("A"), "");
  EXPECT_EQ(HolderOf("B"), "m1");
}

TEST_F(TapeMediaTest, AJoiningRestoreRenewsTheIdleDeadline) {
  Add("A", 1);
  Take("m1");
  now_ += 8 * kSec;
  Add("A", 5);  // joins the held medium: idle deadline now +18 s
  ASSERT_EQ(media_.Held("m1", now_).size(), 1u);
  EXPECT_EQ(media_.Held("m1", now_)[0].idle_deadline_ns, now_ + 10 * kSec);
  EXPECT_EQ(media_.NextDeadline(now_), now_ + 10 * kSec);
}

class TapeMediaMaxTest : public TapeMediaTest {
 protected:
  TapeMediaMaxTest() : TapeMediaTest({10s, 60s, 1}) {}
};

TEST_F(TapeMediaMaxTest, MaxRotatesAStreamingMediumOut) {
  Add("A", 1);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{1}));
  Add("B", 7);  // waits: m1's only slot holds A
  for (uint64_t p = 2; p < 8; ++p) {
    now_ += 9 * kSec;
    Add("A", p);  // a stream on A keeps its slice alive...
    EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{p}));
  }
  now_ += 9 * kSec;  // ...until 60 s after m1 took it
  Add("A", 8);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{7}));  // B, waiting longer
  EXPECT_EQ(HolderOf("B"), "m1");
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{8}));  // A goes on elsewhere
}

TEST_F(TapeMediaTest, AFreeSlotTakesAMediumWithABlockingRestoreFirst) {
  Add("A", 1);
  Add("B", 1);
  Add("C", 9);
  Add("C", 3, /*blocking=*/true);
  EXPECT_EQ(media_.unheld_waiting_media(), 3u);
  EXPECT_EQ(media_.unheld_blocking_media(), 1u);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{3, 9}));  // C, in order
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{1}));     // then A, oldest
  EXPECT_EQ(HolderOf("A"), "m2");
}

TEST_F(TapeMediaTest, AFreeSlotTakesTheMediumWhoseOldestWaitedLongest) {
  Add("B", 5);
  Add("A", 1);
  Add("C", 1);
  Add("A", 2);
  EXPECT_EQ(Take("m1"), (std::vector<uint64_t>{5}));
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(HolderOf("A"), "m2");
  EXPECT_EQ(HolderOf("C"), "");
  EXPECT_EQ(media_.unheld_waiting_media(), 1u);
}

class TapeMediaTwoDrivesTest : public TapeMediaTest {
 protected:
  TapeMediaTwoDrivesTest() : TapeMediaTest({10s, 0s, 2}) {}
};

TEST_F(TapeMediaTwoDrivesTest, EachMediumRunsAtMostItsShareOfTheMover) {
  for (uint64_t p : {1, 2, 3, 4}) Add("A", p);
  for (uint64_t p : {1, 2, 3}) Add("B", p);
  Add("C", 1);
  // max_restore 4 over 2 media: 2 each.
  EXPECT_EQ(Take("m1", 100, 4), (std::vector<uint64_t>{1, 2, 1, 2}));
  EXPECT_EQ(media_.Held("m1", now_).size(), 2u);
  EXPECT_TRUE(Take("m1", 100, 4).empty());  // both at their cap, no slot
  media_.Ended(sent_[0]);                   // one of A ended
  EXPECT_EQ(Take("m1", 100, 4), (std::vector<uint64_t>{3}));
  media_.Ended(sent_[2]);  // one of B
  media_.Ended(sent_[2]);  // twice: no-op
  EXPECT_EQ(Take("m1", 100, 4), (std::vector<uint64_t>{3}));
  EXPECT_EQ(Take("m2", 100, 4), (std::vector<uint64_t>{1}));  // C
}

TEST_F(TapeMediaTest, MediaOfArchiveIdsAMoverDoesNotTakeAreLeft) {
  Add("A", 1, false, /*archive_id=*/2);
  Add("B", 1, false, /*archive_id=*/1);
  auto only1 = [](uint32_t archive_id, uint64_t) { return archive_id == 1; };
  EXPECT_EQ(Take("m1", 100, kNoLimit, only1), (std::vector<uint64_t>{1}));
  EXPECT_EQ(HolderOf("B"), "m1");
  EXPECT_EQ(HolderOf("A"), "");
}

TEST_F(TapeMediaTest, ReleaseFreesTheMediaAndRemoveForgets) {
  Add("A", 1);
  Add("A", 2);
  EXPECT_EQ(Take("m1", 1), (std::vector<uint64_t>{1}));
  media_.Release("m1");
  EXPECT_EQ(HolderOf("A"), "");
  EXPECT_TRUE(media_.Held("m1", now_).empty());
  EXPECT_EQ(Take("m2"), (std::vector<uint64_t>{2}));
  Add("A", 3);
  EXPECT_TRUE(media_.Remove(next_id_ - 1));
  EXPECT_FALSE(media_.Remove(next_id_ - 1));
  EXPECT_EQ(media_.waiting(), 0u);
  // Nothing waits, nothing runs once ended, the slice ends: forgotten.
  media_.Ended(sent_[0]);
  media_.Ended(sent_[1]);
  now_ += 11 * kSec;
  EXPECT_TRUE(Take("m2").empty());
  EXPECT_EQ(media_.media(), 0u);
  EXPECT_EQ(media_.NextDeadline(now_), std::nullopt);
}

}  // namespace
}  // namespace server
