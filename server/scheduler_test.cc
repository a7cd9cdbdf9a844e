#include "server/scheduler.h"

#include <gtest/gtest.h>

namespace server {
namespace {

protocol::WireItem MakeItem(uint32_t action, uint64_t cookie,
                            uint32_t archive_id = 1, std::string data = "",
                            uint64_t flags = 0) {
  protocol::WireItem wire;
  wire.item.hai.hai_action = action;
  wire.item.hai.hai_fid = {0x200000401, static_cast<uint32_t>(cookie), 0};
  wire.item.hai.hai_dfid = wire.item.hai.hai_fid;
  wire.item.hai.hai_extent = {0, LUSTRE_EOF};
  wire.item.hai.hai_cookie = cookie;
  wire.item.data = std::move(data);
  wire.item.hai.hai_len = 72 + wire.item.data.size();
  wire.archive_id = archive_id;
  wire.hal_flags = flags;
  return wire;
}

std::vector<uint64_t> Cookies(const std::vector<protocol::WireItem>& items) {
  std::vector<uint64_t> cookies;
  for (const auto& item : items) cookies.push_back(item.item.hai.hai_cookie);
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
  EXPECT_FALSE(s.HasWorkFor("m7", {7}, MoverLimits{}));
  EXPECT_TRUE(s.HasWorkFor("m1", {1}, MoverLimits{}));
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
  EXPECT_FALSE(s.HasWorkFor("m1", {}, limits));
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
  ClientId mover;
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
  ClientId mover;
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

TEST(SchedulerTest, ReleaseRequeuesInArrivalOrder) {
  Scheduler s;
  for (uint64_t c = 1; c <= 4; ++c) s.Enqueue(MakeItem(HSMA_ARCHIVE, c));
  MoverLimits two;
  two.max_running[2] = 2;
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, two).items),
            (std::vector<uint64_t>{1, 2}));
  protocol::WireItem target;
  ClientId mover;
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
  EXPECT_FALSE(s.HasWorkFor("m1", {}, MoverLimits{}));
  EXPECT_TRUE(s.HasWorkFor("m2", {}, MoverLimits{}));
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
    waiting.push_back(item.id.cookie);
  });
  EXPECT_EQ(waiting, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{}).items),
            (std::vector<uint64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace server
