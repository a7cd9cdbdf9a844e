#include "server/retry_memory.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace server {
namespace {

using std::chrono::seconds;

hsm_action_item Hai(uint64_t cookie, uint64_t oid) {
  hsm_action_item hai{};
  hai.hai_cookie = cookie;
  hai.hai_fid = {0x200000401, static_cast<uint32_t>(oid), 0};
  hai.hai_dfid = hai.hai_fid;
  return hai;
}

TEST(RetryMemoryTest, CountsAttemptsAndMoversUntilForgotten) {
  common::ManualClock clock;
  RetryMemory memory(clock);
  const ItemId key = RetryMemory::KeyOf(Hai(7, 1));
  EXPECT_EQ(memory.Find(key), nullptr);
  EXPECT_EQ(memory.Failed(key, "m1", EIO), 1u);
  EXPECT_EQ(memory.Failed(key, "m2", ETIMEDOUT), 2u);
  EXPECT_EQ(memory.Failed(key, "m1", ENOSPC), 3u);
  const RetryEntry* e = memory.Find(key);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->failures, 3u);
  EXPECT_EQ(e->last_error, ENOSPC);
  EXPECT_EQ(e->failed_on, (std::vector<MoverId>{"m2", "m1"}));
  // Another cookie of the same file is another request.
  EXPECT_EQ(memory.Find(RetryMemory::KeyOf(Hai(8, 1))), nullptr);
  memory.Forget(key);
  EXPECT_EQ(memory.Find(key), nullptr);
  EXPECT_EQ(memory.size(), 0u);
}

// A restore comes back with another data FID (the volatile of its failed
// copy): it is known by its cookie and file FID.
TEST(RetryMemoryTest, KnowsARestoreByItsFileFid) {
  common::ManualClock clock;
  RetryMemory memory(clock);
  hsm_action_item hai = Hai(9, 2);
  memory.Failed(RetryMemory::KeyOf(hai), "m1", EIO);
  hai.hai_dfid = {0x200000401, 99, 0};
  EXPECT_NE(memory.Find(RetryMemory::KeyOf(hai)), nullptr);
}

TEST(RetryMemoryTest, ForgetsARequestNotSeenAgainWithinTheTtl) {
  common::ManualClock clock;
  RetryMemory memory(clock, 16, seconds(60));
  const ItemId a = RetryMemory::KeyOf(Hai(1, 1));
  const ItemId b = RetryMemory::KeyOf(Hai(2, 2));
  memory.Failed(a, "m1", EIO);
  clock.Advance(seconds(30));
  memory.Failed(b, "m1", EIO);
  clock.Advance(seconds(29));
  EXPECT_NE(memory.Find(a), nullptr);  // 59 s
  clock.Advance(seconds(1));
  EXPECT_EQ(memory.Find(a), nullptr);  // 60 s: gone
  EXPECT_NE(memory.Find(b), nullptr);
  EXPECT_EQ(memory.expired(), 1u);
  // A new failure restarts the count of time.
  clock.Advance(seconds(29));
  memory.Failed(b, "m2", EIO);
  clock.Advance(seconds(59));
  ASSERT_NE(memory.Find(b), nullptr);
  EXPECT_EQ(memory.Find(b)->failures, 2u);
  clock.Advance(seconds(1));
  EXPECT_EQ(memory.Find(b), nullptr);
  EXPECT_EQ(memory.size(), 0u);
}

TEST(RetryMemoryTest, BoundedByCapacityTheLeastRecentlyFailedGoesFirst) {
  common::ManualClock clock;
  RetryMemory memory(clock, 2);
  const ItemId a = RetryMemory::KeyOf(Hai(1, 1));
  const ItemId b = RetryMemory::KeyOf(Hai(2, 2));
  const ItemId c = RetryMemory::KeyOf(Hai(3, 3));
  memory.Failed(a, "m1", EIO);
  memory.Failed(b, "m1", EIO);
  memory.Failed(a, "m2", EIO);  // a is now the most recent
  memory.Failed(c, "m1", EIO);
  EXPECT_EQ(memory.size(), 2u);
  EXPECT_EQ(memory.evicted(), 1u);
  EXPECT_EQ(memory.Find(b), nullptr);
  EXPECT_NE(memory.Find(a), nullptr);
  EXPECT_NE(memory.Find(c), nullptr);
}

// What is forgotten by age or for room is told (the Scheduler stops
// awaiting those requests' return); what the caller forgets is not.
TEST(RetryMemoryTest, TellsWhatItForgetsByAgeOrForRoom) {
  common::ManualClock clock;
  RetryMemory memory(clock, 2, seconds(60));
  std::vector<uint64_t> told;
  memory.SetForgottenHook(
      [&](const ItemId& key) { told.push_back(key.cookie); });
  memory.Failed(RetryMemory::KeyOf(Hai(1, 1)), "m1", EIO);
  memory.Failed(RetryMemory::KeyOf(Hai(2, 2)), "m1", EIO);
  memory.Forget(RetryMemory::KeyOf(Hai(2, 2)));
  memory.Failed(RetryMemory::KeyOf(Hai(3, 3)), "m1", EIO);
  memory.Failed(RetryMemory::KeyOf(Hai(4, 4)), "m1", EIO);  // evicts 1
  EXPECT_EQ(told, (std::vector<uint64_t>{1}));
  clock.Advance(seconds(59));
  EXPECT_EQ(memory.ExpireNow(), 0u);
  clock.Advance(seconds(1));
  EXPECT_EQ(memory.ExpireNow(), 2u);
  EXPECT_EQ(told, (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(memory.size(), 0u);
}

TEST(RetryMemoryTest, KeepsTheLastMoversOnly) {
  common::ManualClock clock;
  RetryMemory memory(clock);
  const ItemId key = RetryMemory::KeyOf(Hai(1, 1));
  for (size_t i = 0; i < kRetryMoversKept + 2; ++i)
    memory.Failed(key, "m" + std::to_string(i), EIO);
  const RetryEntry* e = memory.Find(key);
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->failed_on.size(), kRetryMoversKept);
  EXPECT_EQ(e->failed_on.front(), "m2");
  EXPECT_EQ(e->failed_on.back(), "m" + std::to_string(kRetryMoversKept + 1));
}

TEST(RetryMemoryTest, ChoosesTheLeastBusyMoverThatDidNotFailIt) {
  std::vector<std::pair<MoverId, uint64_t>> movers{
      {"a", 0}, {"b", 3}, {"c", 1}, {"d", 1}};
  EXPECT_EQ(ChooseRetryMover(movers, {}), "a");
  EXPECT_EQ(ChooseRetryMover(movers, {"a"}), "c");  // c, d tie: smaller id
  EXPECT_EQ(ChooseRetryMover(movers, {"a", "c"}), "d");
  EXPECT_EQ(ChooseRetryMover(movers, {"a", "c", "d"}), "b");
  // Every mover failed it, or none is connected: the global queues.
  EXPECT_EQ(ChooseRetryMover(movers, {"a", "b", "c", "d"}), "");
  EXPECT_EQ(ChooseRetryMover({}, {"a"}), "");
}

}  // namespace
}  // namespace server
