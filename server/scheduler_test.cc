#include "server/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "server/test_items.h"

namespace server {
namespace {

using test::MakeItem;

std::vector<uint64_t> Cookies(const std::vector<protocol::WireItem>& items) {
  std::vector<uint64_t> cookies;
  for (const auto& item : items) cookies.push_back(item.item.hai.hai_cookie);
  return cookies;
}
std::vector<uint64_t> Cookies(const std::vector<const Item*>& items) {
  std::vector<uint64_t> cookies;
  for (const Item* item : items) cookies.push_back(item->hai.hai_cookie);
  return cookies;
}

TEST(SchedulerTest, RestoreBeforeRemoveBeforeArchive) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 1)));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_REMOVE, 2)));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_RESTORE, 3)));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 4)));
  DispatchReply reply = s.Dispatch("m1", {}, MoverLimits{});
  EXPECT_EQ(Cookies(reply.items), (std::vector<uint64_t>{3, 2, 1, 4}));
  EXPECT_EQ(reply.archive_id, 1u);
  EXPECT_EQ(s.counters().running[0] + s.counters().running[1] +
                s.counters().running[2],
            4u);
}

TEST(SchedulerTest, DuplicateIdentityIsRefused) {
  Scheduler s;
  EXPECT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 1)));
  EXPECT_FALSE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 1)));
  EXPECT_FALSE(s.Enqueue(MakeItem(HSMA_CANCEL, 2)));
  EXPECT_EQ(s.size(), 1u);
}

TEST(SchedulerTest, OneArchiveIdAndFlagsPerReply) {
  Scheduler s;
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 1, /*archive_id=*/2));
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 2, 1));
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 3, 2));
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 4, 2, "", HSM_FORCE_ACTION));
  DispatchReply first = s.Dispatch("m1", {}, MoverLimits{});
  EXPECT_EQ(first.archive_id, 2u);
  EXPECT_EQ(Cookies(first.items), (std::vector<uint64_t>{1, 3}));
  DispatchReply second = s.Dispatch("m1", {}, MoverLimits{});
  EXPECT_EQ(Cookies(second.items), (std::vector<uint64_t>{2}));
  DispatchReply third = s.Dispatch("m1", {}, MoverLimits{});
  EXPECT_EQ(third.hal_flags, uint64_t{HSM_FORCE_ACTION});
  EXPECT_EQ(Cookies(third.items), (std::vector<uint64_t>{4}));
}

TEST(SchedulerTest, UnmatchedItemsNeverHideMatchingOnes) {
  Scheduler s;
  for (uint64_t c = 1; c <= 1000; ++c) s.Enqueue(MakeItem(HSMA_ARCHIVE, c, 1));
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 5000, 7));
  DispatchReply reply = s.Dispatch("m7", {7}, MoverLimits{});
  EXPECT_EQ(Cookies(reply.items), (std::vector<uint64_t>{5000}));
  EXPECT_TRUE(s.Dispatch("m7", {7}, MoverLimits{}).empty());
  EXPECT_EQ(s.Dispatch("m1", {1}, MoverLimits{}).items.size(), 1000u);
}

TEST(SchedulerTest, PerTypeLimitsHoldAcrossReplies) {
  Scheduler s;
  for (uint64_t c = 1; c <= 10; ++c) s.Enqueue(MakeItem(HSMA_ARCHIVE, c));
  for (uint64_t c = 11; c <= 20; ++c) s.Enqueue(MakeItem(HSMA_RESTORE, c));
  MoverLimits limits;
  limits.max_running = {/*restore=*/2, /*remove=*/0, /*archive=*/3};
  DispatchReply reply = s.Dispatch("m1", {}, limits);
  EXPECT_EQ(Cookies(reply.items), (std::vector<uint64_t>{11, 12, 1, 2, 3}));
  EXPECT_TRUE(s.Dispatch("m1", {}, limits).empty());
  ASSERT_TRUE(s.Done(ItemId::Of(MakeItem(HSMA_RESTORE, 11).item.hai)));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, limits).items),
            (std::vector<uint64_t>{13}));
  EXPECT_EQ(s.Running("m1", ItemType::kArchive), 3u);
  EXPECT_EQ(s.counters().done[static_cast<int>(ItemType::kRestore)], 1u);
}

TEST(SchedulerTest, ByteBudgetBoundsTheReply) {
  Scheduler s;
  for (uint64_t c = 1; c <= 10; ++c)
    s.Enqueue(MakeItem(HSMA_ARCHIVE, c, 1, std::string(56, 'x')));
  MoverLimits limits;
  limits.max_bytes = 3 * 200 + 199;  // each costs 72 + 72 + 56 = 200
  EXPECT_EQ(s.Dispatch("m1", {}, limits).items.size(), 3u);
}

TEST(SchedulerTest, BurstIsSharedBetweenWaitingMovers) {
  Scheduler s;
  for (uint64_t c = 1; c <= 10; ++c) s.Enqueue(MakeItem(HSMA_RESTORE, c));
  EXPECT_EQ(s.Dispatch("m1", {}, MoverLimits{}, 3).items.size(), 4u);
  EXPECT_EQ(s.Dispatch("m2", {}, MoverLimits{}, 2).items.size(), 3u);
  EXPECT_EQ(s.Dispatch("m3", {}, MoverLimits{}, 1).items.size(), 3u);
}

TEST(SchedulerTest, CancelOfWaitingItemDequeuesIt) {
  Scheduler s;
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 1));
  protocol::WireItem target;
  MoverId mover;
  EXPECT_EQ(s.Cancel(MakeItem(HSMA_CANCEL, 1), &target, &mover),
            Scheduler::CancelOutcome::kDequeued);
  EXPECT_EQ(target.item.hai.hai_action, uint32_t{HSMA_ARCHIVE});
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.counters().pending[2], 0u);
  EXPECT_EQ(s.Cancel(MakeItem(HSMA_CANCEL, 9), &target, &mover),
            Scheduler::CancelOutcome::kUnknown);
}

TEST(SchedulerTest, CancelOfRunningItemGoesToItsMoverFirst) {
  Scheduler s;
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 1, 3));
  s.Dispatch("m1", {}, MoverLimits{});
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 2, 3));
  protocol::WireItem target;
  MoverId mover;
  EXPECT_EQ(s.Cancel(MakeItem(HSMA_CANCEL, 1, 3), &target, &mover),
            Scheduler::CancelOutcome::kForwarded);
  EXPECT_EQ(mover, "m1");
  EXPECT_EQ(s.counters().pending_cancel, 1u);
  DispatchReply reply = s.Dispatch("m1", {}, MoverLimits{});
  EXPECT_EQ(Cookies(reply.cancels), (std::vector<uint64_t>{1}));
  EXPECT_EQ(Cookies(reply.items), (std::vector<uint64_t>{2}));
  EXPECT_EQ(s.counters().pending_cancel, 0u);
  EXPECT_TRUE(
      s.Find(ItemId::Of(MakeItem(HSMA_ARCHIVE, 1).item.hai))->running());
}

TEST(SchedulerTest, TakeCancelsSendsCancelsAndNoNewWork) {
  Scheduler s;
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 1, 3));
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 2, 3));
  MoverLimits one;
  one.max_running[2] = 1;
  ASSERT_EQ(Cookies(s.Dispatch("m1", {}, one).items),
            (std::vector<uint64_t>{1}));
  EXPECT_TRUE(s.TakeCancels("m1", hsm::kHalMaxSize).empty());  // none pending
  EXPECT_TRUE(s.TakeCancels("unknown", hsm::kHalMaxSize).empty());
  protocol::WireItem target;
  MoverId mover;
  ASSERT_EQ(s.Cancel(MakeItem(HSMA_CANCEL, 1, 3), &target, &mover),
            Scheduler::CancelOutcome::kForwarded);
  DispatchReply reply = s.TakeCancels("m1", hsm::kHalMaxSize);
  EXPECT_EQ(Cookies(reply.cancels), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(reply.items.empty());  // item 2 still waits
  EXPECT_EQ(reply.archive_id, 3u);
  EXPECT_EQ(s.counters().pending_cancel, 0u);
  EXPECT_EQ(s.counters().done_cancel, 1u);
  EXPECT_EQ(s.counters().pending[2], 1u);
  EXPECT_TRUE(s.TakeCancels("m1", hsm::kHalMaxSize).empty());  // sent once
}

TEST(SchedulerTest, ReleaseRequeuesInArrivalOrder) {
  Scheduler s;
  for (uint64_t c = 1; c <= 4; ++c) s.Enqueue(MakeItem(HSMA_ARCHIVE, c));
  MoverLimits two;
  two.max_running[2] = 2;
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, two).items),
            (std::vector<uint64_t>{1, 2}));
  protocol::WireItem target;
  MoverId mover;
  s.Cancel(MakeItem(HSMA_CANCEL, 2), &target, &mover);
  std::vector<protocol::WireItem> orphans;
  EXPECT_EQ(s.Release("m1", &orphans), 2u);
  EXPECT_EQ(Cookies(orphans), (std::vector<uint64_t>{2}));
  EXPECT_EQ(s.Running("m1", ItemType::kArchive), 0u);
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{}).items),
            (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(SchedulerTest, ClaimMovesOrCreatesRunningItems) {
  Scheduler s;
  s.Enqueue(MakeItem(HSMA_RESTORE, 1));
  ASSERT_TRUE(s.Claim("m2", MakeItem(HSMA_RESTORE, 1)));
  ASSERT_TRUE(s.Claim("m2", MakeItem(HSMA_ARCHIVE, 7)));
  EXPECT_EQ(s.Running("m2", ItemType::kRestore), 1u);
  EXPECT_EQ(s.Running("m2", ItemType::kArchive), 1u);
  EXPECT_EQ(s.counters().pending[0], 0u);
  EXPECT_TRUE(s.Dispatch("m1", {}, MoverLimits{}).empty());
  ASSERT_TRUE(s.Claim("m1", MakeItem(HSMA_RESTORE, 1)));
  EXPECT_EQ(s.Running("m2", ItemType::kRestore), 0u);
  EXPECT_EQ(s.Running("m1", ItemType::kRestore), 1u);
  EXPECT_EQ(s.counters().running[0], 1u);
}

}  // namespace
}  // namespace server

namespace server {
namespace {

TEST(SchedulerAffinityTest, ItemsWithAffinityGoOnlyToTheirMover) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 1), "m2"));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 2)));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 3), "m2"));
  EXPECT_EQ(s.counters().pending[2], 3u);
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{}).items),
            (std::vector<uint64_t>{2}));
  EXPECT_TRUE(s.Dispatch("m1", {}, MoverLimits{}).empty());
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{}).items),
            (std::vector<uint64_t>{1, 3}));
}

TEST(SchedulerAffinityTest, ReleasedItemsGoBackToTheirMoversQueue) {
  Scheduler s;
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 1), "m2");
  s.Dispatch("m2", {}, MoverLimits{});
  std::vector<protocol::WireItem> orphans;
  EXPECT_EQ(s.Release("m2", &orphans), 1u);
  EXPECT_TRUE(s.Dispatch("m1", {}, MoverLimits{}).empty());
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{}).items),
            (std::vector<uint64_t>{1}));
}

TEST(SchedulerAffinityTest, OwnAndGlobalQueuesMergeInArrivalOrder) {
  Scheduler s;
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 1));
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 2), "m1");
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 3));
  std::vector<uint64_t> waiting;
  s.ForEachWaiting(ItemType::kArchive, [&](const Item& item) {
    waiting.push_back(item.id().cookie);
  });
  EXPECT_EQ(waiting, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{}).items),
            (std::vector<uint64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace server

namespace server {
namespace {

protocol::WireItem Restore(uint64_t cookie, const std::string& user,
                           int64_t timestamp_ns = 0) {
  protocol::WireItem wire =
      MakeItem(HSMA_RESTORE, cookie, 1, user.empty() ? "" : "user=" + user);
  wire.timestamp_ns = timestamp_ns;
  return wire;
}

// Dispatches `rounds` replies of at most `per_reply` restores, reporting each
// done, and counts what each user got.
std::map<std::string, int> Serve(Scheduler& s, int rounds, uint32_t per_reply) {
  MoverLimits limits;
  limits.max_running[static_cast<int>(ItemType::kRestore)] = per_reply;
  std::map<std::string, int> served;
  for (int i = 0; i < rounds; ++i) {
    for (const auto& item : s.Dispatch("m1", {}, limits).items) {
      ++served[std::string(item->data().substr(5))];
      EXPECT_TRUE(s.Done(item->id()));
    }
  }
  return served;
}

TEST(SchedulerFairShareTest, ThreeUsersOfUnequalWeightShareRestores) {
  Scheduler s;
  s.SetFairShare({"user=", {{"alice", 1}, {"bob", 2}, {"carol", 3}}});
  uint64_t cookie = 1;
  // alice's bulk recall arrives first: FIFO would serve only her.
  for (int i = 0; i < 300; ++i) s.Enqueue(Restore(cookie++, "alice"));
  for (int i = 0; i < 300; ++i) s.Enqueue(Restore(cookie++, "bob"));
  for (int i = 0; i < 300; ++i) s.Enqueue(Restore(cookie++, "carol"));
  auto served = Serve(s, 60, 10);
  EXPECT_EQ(served["alice"], 100);
  EXPECT_EQ(served["bob"], 200);
  EXPECT_EQ(served["carol"], 300);
}

// A reload's new weights count from the next restore sent, with restores
// already waiting.
TEST(SchedulerFairShareTest, NewWeightsApplyToWaitingRestores) {
  Scheduler s;
  s.SetFairShare({"user=", {}});
  uint64_t cookie = 1;
  for (int i = 0; i < 300; ++i) s.Enqueue(Restore(cookie++, "alice"));
  for (int i = 0; i < 300; ++i) s.Enqueue(Restore(cookie++, "bob"));
  auto before = Serve(s, 10, 10);
  EXPECT_EQ(before["alice"], 50);
  EXPECT_EQ(before["bob"], 50);
  s.SetFairShareWeights({{"bob", 3}});
  auto after = Serve(s, 10, 10);
  EXPECT_EQ(after["alice"], 25);
  EXPECT_EQ(after["bob"], 75);
}

TEST(SchedulerFairShareTest, OffMeansArrivalOrder) {
  Scheduler s;
  for (int i = 0; i < 10; ++i) s.Enqueue(Restore(i + 1, "alice"));
  s.Enqueue(Restore(100, "bob"));
  auto served = Serve(s, 1, 10);
  EXPECT_EQ(served["alice"], 10);
  EXPECT_EQ(served["bob"], 0);
}

TEST(SchedulerFairShareTest, LateUserIsServedAtOnceAndIdleEarnsNothing) {
  Scheduler s;
  s.SetFairShare({"user=", {}});
  for (int i = 0; i < 1000; ++i) s.Enqueue(Restore(i + 1, "bulk"));
  Serve(s, 50, 1);
  s.Enqueue(Restore(5000, "late"));
  auto next = Serve(s, 2, 1);
  EXPECT_EQ(next["late"], 1);
  // Two owners of equal weight alternate from now on.
  for (int i = 0; i < 10; ++i) s.Enqueue(Restore(6000 + i, "late"));
  auto after = Serve(s, 10, 1);
  EXPECT_EQ(after["late"], 5);
  EXPECT_EQ(after["bulk"], 5);
}

TEST(SchedulerAgingTest, OldArchivesGoBeforeAStreamOfRestores) {
  Scheduler s;
  s.SetArchiveMaxWait(std::chrono::seconds(60));
  const int64_t t0 = 1'000'000'000'000'000'000;
  protocol::WireItem archive = MakeItem(HSMA_ARCHIVE, 1);
  archive.timestamp_ns = t0;
  s.Enqueue(archive);
  for (int i = 0; i < 5; ++i) s.Enqueue(Restore(10 + i, "", t0 + i));
  MoverLimits one;
  one.max_bytes = 200;  // one item per reply
  // Young: restores first.
  auto reply = s.Dispatch("m1", {}, one, 1, t0 + 30'000'000'000);
  EXPECT_EQ(Cookies(reply.items), (std::vector<uint64_t>{10}));
  // Older than 60 s: the archive goes first.
  reply = s.Dispatch("m1", {}, one, 1, t0 + 61'000'000'000);
  EXPECT_EQ(Cookies(reply.items), (std::vector<uint64_t>{1}));
  // Without a clock, no aging.
  s.Enqueue([&] {
    protocol::WireItem a = MakeItem(HSMA_ARCHIVE, 2);
    a.timestamp_ns = t0;
    return a;
  }());
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, one).items),
            (std::vector<uint64_t>{11}));
}

TEST(SchedulerFairShareTest, OwnersGivenByTheCallerAreShared) {
  Scheduler s;
  FairShareOptions options;
  options.weights = {{"1002", 3}};
  options.by_caller = true;
  s.SetFairShare(options);
  for (uint64_t c = 1; c <= 4; ++c)
    s.Enqueue(MakeItem(HSMA_RESTORE, c), "", "1001");
  for (uint64_t c = 5; c <= 8; ++c)
    s.Enqueue(MakeItem(HSMA_RESTORE, c), "", "1002");
  MoverLimits one;
  one.max_running[0] = 1;
  std::vector<uint64_t> order;
  for (int i = 0; i < 4; ++i) {
    auto reply = s.Dispatch("m1", {}, one);
    ASSERT_EQ(reply.items.size(), 1u);
    order.push_back(reply.items[0]->hai.hai_cookie);
    s.Done(ItemId::Of(reply.items[0]->hai));
  }
  // Weight 3 against 1: three of 1002's for one of 1001's.
  EXPECT_EQ(std::count_if(order.begin(), order.end(),
                          [](uint64_t c) { return c >= 5; }),
            3);
}

TEST(SchedulerAffinityTest, ReassignMovesAWaitingItemKeepingItsPlace) {
  Scheduler s;
  s.Enqueue(MakeItem(HSMA_RESTORE, 1), "parked");
  s.Enqueue(MakeItem(HSMA_RESTORE, 2));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{}).items),
            (std::vector<uint64_t>{2}));
  s.Enqueue(MakeItem(HSMA_RESTORE, 3));
  ASSERT_TRUE(s.Reassign(ItemId::Of(MakeItem(HSMA_RESTORE, 1).item.hai), "m2"));
  EXPECT_TRUE(s.Dispatch("m1", {}, MoverLimits{}).items.size() == 1);
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{}).items),
            (std::vector<uint64_t>{1}));
  EXPECT_FALSE(s.Reassign(ItemId::Of(MakeItem(HSMA_RESTORE, 1).item.hai), ""));
}

TEST(SchedulerAffinityTest, UnpinSendsAGoneMoversRestoresToTheGlobalQueue) {
  Scheduler s;
  s.Enqueue(MakeItem(HSMA_RESTORE, 1), "gone");
  s.Enqueue(MakeItem(HSMA_ARCHIVE, 2), "gone");
  s.Enqueue(MakeItem(HSMA_RESTORE, 3), "gone");
  EXPECT_TRUE(s.Dispatch("m1", {}, MoverLimits{}).empty());
  EXPECT_EQ(s.Unpin("gone", ItemType::kRestore), 2u);
  // Restores go anywhere now, in arrival order; the archive still waits.
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{}).items),
            (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(s.counters().pending[static_cast<size_t>(ItemType::kArchive)], 1u);
}

TEST(MoverNameTest, InternedNamesAreCountedAndForgotten) {
  const size_t before = MoverName::TableSize();
  {
    MoverName a(std::string("mover-a"));
    MoverName b = a;
    MoverName c(std::string("mover-c"));
    EXPECT_EQ(MoverName::TableSize(), before + 2);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.str(), "mover-a");
    EXPECT_TRUE(a == std::string("mover-a"));
    b = c;
    a.clear();
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(a.str(), "");
    EXPECT_EQ(MoverName::TableSize(), before + 1);  // mover-a is gone
  }
  EXPECT_EQ(MoverName::TableSize(), before);
  // A scheduler's items hold their movers' names only while they run.
  {
    Scheduler s;
    for (uint64_t c = 1; c <= 3; ++c) s.Enqueue(MakeItem(HSMA_ARCHIVE, c));
    s.Dispatch("anonymous:1234", {}, MoverLimits{});
    EXPECT_EQ(MoverName::TableSize(), before + 1);
    std::vector<protocol::WireItem> orphans;
    s.Release("anonymous:1234", &orphans);
    EXPECT_EQ(MoverName::TableSize(), before);
  }
}

}  // namespace
}  // namespace server

namespace server {
namespace {

// Defect 9 (issue 10): an item larger than a mover's buffer held back
// everything queued after it, of every archive id.
TEST(SchedulerOversizedTest, ItemLargerThanTheBufferBlocksNobody) {
  Scheduler s;
  const std::string big(5000, 'x');
  ASSERT_TRUE(s.Enqueue(test::MakeItem(HSMA_ARCHIVE, 1, 1, big)));
  ASSERT_TRUE(s.Enqueue(test::MakeItem(HSMA_ARCHIVE, 2, 1)));
  ASSERT_TRUE(s.Enqueue(test::MakeItem(HSMA_ARCHIVE, 3, 2)));
  MoverLimits small;
  small.max_bytes = 4096;
  DispatchReply reply = s.Dispatch("small", {}, small, 1, 100);
  EXPECT_EQ(Cookies(reply.items), (std::vector<uint64_t>{2}));
  ASSERT_EQ(reply.parked.size(), 1u);
  EXPECT_EQ(reply.parked[0].id.cookie, 1u);
  EXPECT_EQ(reply.parked[0].cost, 5144u);
  EXPECT_EQ(s.counters().oversized, 1u);
  EXPECT_EQ(s.counters().pending[2], 2u);  // still pending
  EXPECT_EQ(Cookies(s.Dispatch("small", {}, small, 1, 100).items),
            (std::vector<uint64_t>{3}));
  // A mover whose buffer fits takes it.
  DispatchReply large = s.Dispatch("large", {}, MoverLimits{}, 1, 200);
  EXPECT_EQ(Cookies(large.items), (std::vector<uint64_t>{1}));
  EXPECT_EQ(s.counters().oversized, 0u);
  EXPECT_EQ(s.counters().pending[2], 0u);
  EXPECT_EQ(s.Running("large", ItemType::kArchive), 1u);
}

TEST(SchedulerTest, WaitingIdsMergeTheQueuesInArrivalOrder) {
  Scheduler s;
  for (uint64_t cookie = 1; cookie <= 9; ++cookie)
    ASSERT_TRUE(s.Enqueue(test::MakeItem(
        HSMA_ARCHIVE, cookie, 1 + static_cast<uint32_t>(cookie % 3))));
  ASSERT_TRUE(s.Enqueue(test::MakeItem(HSMA_RESTORE, 10)));
  MoverLimits one;
  one.max_running[2] = 1;
  ASSERT_EQ(Cookies(s.Dispatch("m1", {2}, one).items),
            (std::vector<uint64_t>{1}));
  std::vector<uint64_t> cookies;
  for (const ItemId& id : s.WaitingIds(ItemType::kArchive))
    cookies.push_back(id.cookie);
  EXPECT_EQ(cookies, (std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8, 9}));
  ASSERT_EQ(s.WaitingIds(ItemType::kRestore).size(), 1u);
  EXPECT_EQ(s.WaitingIds(ItemType::kRestore)[0].cookie, 10u);
  EXPECT_TRUE(s.WaitingIds(ItemType::kRemove).empty());
}

TEST(SchedulerOversizedTest, SetAsideItemsExpireAndKeepTheirArchiveId) {
  Scheduler s;
  const std::string big(5000, 'x');
  ASSERT_TRUE(s.Enqueue(test::MakeItem(HSMA_ARCHIVE, 1, 3, big)));
  ASSERT_TRUE(s.Enqueue(test::MakeItem(HSMA_ARCHIVE, 2, 3, big)));
  MoverLimits small;
  small.max_bytes = 4096;
  EXPECT_TRUE(s.Dispatch("small", {}, small, 1, 100).items.empty());
  EXPECT_EQ(s.counters().oversized, 2u);
  // Not for a mover of another archive id, whatever its buffer.
  EXPECT_TRUE(s.Dispatch("other", {4}, MoverLimits{}, 1, 150).items.empty());
  // Cancelled while set aside: forgotten cleanly.
  protocol::WireItem cancel = test::MakeItem(HSMA_CANCEL, 2, 3);
  protocol::WireItem target;
  MoverId mover;
  EXPECT_EQ(s.Cancel(cancel, &target, &mover),
            Scheduler::CancelOutcome::kDequeued);
  EXPECT_EQ(s.counters().oversized, 1u);
  EXPECT_TRUE(s.ExpireOversized(99).empty());
  auto expired = s.ExpireOversized(100);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].item.hai.hai_cookie, 1u);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.counters().pending[2], 0u);
  EXPECT_EQ(s.counters().oversized, 0u);
}

// The accessors of status and `show`: ages from queue heads, a bounded
// position, the index by file FID, the arrival walk of `list`.
TEST(SchedulerQueryTest, OldestWaitingFromQueueHeads) {
  Scheduler s;
  EXPECT_FALSE(s.OldestArrival(ItemType::kArchive).has_value());
  auto at = [](uint32_t action, uint64_t cookie, uint32_t archive_id,
               int64_t ts) {
    protocol::WireItem wire = MakeItem(action, cookie, archive_id);
    wire.timestamp_ns = ts;
    return wire;
  };
  ASSERT_TRUE(s.Enqueue(at(HSMA_ARCHIVE, 1, 1, 500)));
  ASSERT_TRUE(s.Enqueue(at(HSMA_ARCHIVE, 2, 2, 300)));  // another queue
  ASSERT_TRUE(s.Enqueue(at(HSMA_ARCHIVE, 3, 1, 900), "m1"));
  ASSERT_TRUE(s.Enqueue(at(HSMA_RESTORE, 4, 1, 100), "m1"));
  EXPECT_EQ(s.OldestArrival(ItemType::kArchive), 300);
  EXPECT_EQ(s.OldestArrival(ItemType::kRestore), 100);
  EXPECT_EQ(s.OldestArrivalIn("m1", ItemType::kArchive), 900);
  EXPECT_EQ(s.OldestArrivalIn("", ItemType::kArchive), 300);
  EXPECT_FALSE(s.OldestArrivalIn("m2", ItemType::kArchive).has_value());
  MoverLimits limits;
  limits.max_running = {0, 0, 1};
  ASSERT_EQ(s.Dispatch("m9", {2}, limits).items.size(), 1u);  // takes 2
  EXPECT_EQ(s.OldestArrival(ItemType::kArchive), 500);
}

TEST(SchedulerQueryTest, PositionInQueueIsBounded) {
  Scheduler s;
  for (uint64_t c = 1; c <= 10; ++c)
    ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, c)));
  auto item = [&](uint64_t c) {
    return s.Find(ItemId::Of(MakeItem(HSMA_ARCHIVE, c).item.hai));
  };
  EXPECT_EQ(s.PositionInQueue(*item(1), 100), 0u);
  EXPECT_EQ(s.PositionInQueue(*item(7), 100), 6u);
  EXPECT_EQ(s.PositionInQueue(*item(7), 6), 6u);
  EXPECT_FALSE(s.PositionInQueue(*item(7), 5).has_value());
  MoverLimits limits;
  limits.max_running = {0, 0, 2};
  ASSERT_EQ(s.Dispatch("m1", {}, limits).items.size(), 2u);
  EXPECT_EQ(s.PositionInQueue(*item(7), 100), 4u);
  EXPECT_FALSE(s.PositionInQueue(*item(1), 100).has_value());  // running
  EXPECT_EQ(item(1)->since, 0);  // Dispatch had no time
}

TEST(SchedulerQueryTest, DispatchStampsTheItem) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_RESTORE, 1)));
  ASSERT_EQ(s.Dispatch("m1", {}, MoverLimits{}, 1, 12345).items.size(), 1u);
  const ItemId id = ItemId::Of(MakeItem(HSMA_RESTORE, 1).item.hai);
  EXPECT_EQ(s.Find(id)->since, 12345);
  ASSERT_TRUE(s.Requeue(id));
  ASSERT_TRUE(s.Claim("m2", MakeItem(HSMA_RESTORE, 1)));
  EXPECT_EQ(s.Find(id)->since, 0);  // re-announced: unknown
}

TEST(SchedulerQueryTest, FailedCountedApartFromDone) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_RESTORE, 1)));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_RESTORE, 2)));
  ASSERT_TRUE(s.Done(ItemId::Of(MakeItem(HSMA_RESTORE, 1).item.hai), true));
  ASSERT_TRUE(s.Done(ItemId::Of(MakeItem(HSMA_RESTORE, 2).item.hai)));
  EXPECT_EQ(s.counters().done[0], 2u);
  EXPECT_EQ(s.counters().failed[0], 1u);
}

TEST(SchedulerQueryTest, ItemsOfAFileNewestFirst) {
  Scheduler s;
  protocol::WireItem archive = MakeItem(HSMA_ARCHIVE, 1);
  protocol::WireItem remove = MakeItem(HSMA_REMOVE, 2);
  remove.item.hai.hai_fid = archive.item.hai.hai_fid;  // the same file
  remove.item.hai.hai_dfid = archive.item.hai.hai_fid;
  ASSERT_TRUE(s.Enqueue(archive));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 3)));
  ASSERT_TRUE(s.Enqueue(remove));
  auto cookies = [&](const lu_fid& fid) {
    std::vector<uint64_t> out;
    s.ForEachOfFid(fid,
                   [&](const Item& item) { out.push_back(item.id().cookie); });
    return out;
  };
  EXPECT_EQ(cookies(archive.item.hai.hai_fid), (std::vector<uint64_t>{2, 1}));
  ASSERT_TRUE(s.Drop(ItemId::Of(remove.item.hai)));
  EXPECT_EQ(cookies(archive.item.hai.hai_fid), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s.Drop(ItemId::Of(archive.item.hai)));
  EXPECT_TRUE(cookies(archive.item.hai.hai_fid).empty());
  EXPECT_EQ(cookies(MakeItem(HSMA_ARCHIVE, 3).item.hai.hai_fid),
            (std::vector<uint64_t>{3}));
}

TEST(SchedulerQueryTest, VisitFromResumesAfterTheCursor) {
  Scheduler s;
  for (uint64_t c = 1; c <= 10; ++c)
    ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, c)));
  std::vector<uint64_t> seen;
  auto collect = [&](const Item& item) {
    seen.push_back(item.id().cookie);
    return true;
  };
  uint64_t cursor = s.VisitFrom(0, 4, collect);
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4}));
  // Item 5 goes, 11 comes: neither shifts the walk.
  ASSERT_TRUE(s.Drop(ItemId::Of(MakeItem(HSMA_ARCHIVE, 5).item.hai)));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 11)));
  seen.clear();
  cursor = s.VisitFrom(cursor, 100, collect);
  EXPECT_EQ(seen, (std::vector<uint64_t>{6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(cursor, 0u);  // the end
}

TEST(SchedulerQueryTest, ArrivalWalkAndDataAfterManyForgets) {
  // Items of many data sizes (in several slab classes, one beyond the
  // largest, from the heap) over several arrival buckets; most are
  // forgotten in a scattered order, which packs the buckets: the walk
  // still yields the others in arrival order, each with its own data.
  Scheduler s;
  auto data_of = [](uint64_t c) {
    const size_t size = c % 7 == 0 ? 5000 : c % 97;
    return std::string(size, static_cast<char>('a' + c % 26));
  };
  const uint64_t n = 3000;
  for (uint64_t c = 1; c <= n; ++c)
    ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, c, 1, data_of(c))));
  std::vector<uint64_t> kept;
  for (uint64_t c = 1; c <= n; ++c) {
    if (c % 4 == 1 || c % 1000 == 999)
      kept.push_back(c);
    else
      ASSERT_TRUE(s.Drop(ItemId::Of(MakeItem(HSMA_ARCHIVE, c).item.hai)));
  }
  // Newcomers after the holes: the youngest, at the end of the walk.
  for (uint64_t c = n + 1; c <= n + 5; ++c) {
    ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, c, 1, data_of(c))));
    kept.push_back(c);
  }
  std::vector<uint64_t> seen;
  uint64_t cursor = 0;
  do {
    cursor = s.VisitFrom(cursor, 100, [&](const Item& item) {
      const uint64_t c = item.id().cookie;
      seen.push_back(c);
      EXPECT_EQ(item.data(), data_of(c)) << c;
      const protocol::WireItem wire = item.ToWire();
      EXPECT_EQ(wire.item.data, data_of(c));
      EXPECT_EQ(wire.item.hai.hai_cookie, c);
      EXPECT_EQ(wire.archive_id, 1u);
      return true;
    });
  } while (cursor != 0);
  EXPECT_EQ(seen, kept);
  // A walk stopped by its visitor on the very last item says it ended.
  uint64_t last_seq = 0;
  s.VisitFrom(0, n + 5, [&](const Item& item) {
    last_seq = item.seq;
    return true;
  });
  EXPECT_EQ(s.VisitFrom(last_seq - 1, 10, [](const Item&) { return false; }),
            0u);
}

}  // namespace
}  // namespace server

namespace server {
namespace {

TEST(SchedulerOldestTest, OldestWaitingMergesQueueHeads) {
  Scheduler s;
  // Archives of two archive ids (two queues), interleaved, one restore.
  for (uint64_t c = 1; c <= 10; ++c)
    ASSERT_TRUE(s.Enqueue(test::MakeItem(HSMA_ARCHIVE, c, c % 2 ? 1 : 2)));
  ASSERT_TRUE(s.Enqueue(test::MakeItem(HSMA_RESTORE, 11)));
  std::vector<const Item*> oldest = s.OldestWaiting(ItemType::kArchive, 3);
  ASSERT_EQ(oldest.size(), 3u);
  EXPECT_EQ(oldest[0]->id().cookie, 1u);
  EXPECT_EQ(oldest[1]->id().cookie, 2u);
  EXPECT_EQ(oldest[2]->id().cookie, 3u);
  ASSERT_EQ(s.OldestWaiting(ItemType::kRestore, 3).size(), 1u);
  EXPECT_TRUE(s.OldestWaiting(ItemType::kRemove, 3).empty());
  // Running items are not waiting.
  DispatchReply reply = s.Dispatch("m1", {}, MoverLimits{});
  EXPECT_FALSE(reply.items.empty());
  for (const Item* item : s.OldestWaiting(ItemType::kRestore, 3))
    EXPECT_FALSE(item->running());
}

}  // namespace
}  // namespace server
