// Per-owner running limits (Scheduler::SetRestoreOwnerLimit,
// docs/policies.md): one owner's recall cannot hold every mover.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/scheduler.h"
#include "server/test_items.h"

namespace server {
namespace {

using test::Cookies;
using test::MakeItem;

protocol::WireItem OwnedRestore(uint64_t cookie, const std::string& user,
                                uint64_t flags = 0) {
  return MakeItem(HSMA_RESTORE, cookie, 1, "user=" + user, flags);
}

Scheduler& WithFairShare(Scheduler& s, uint32_t limit) {
  s.SetFairShare({.tag = "user=", .weights = {}, .by_caller = false});
  s.SetRestoreOwnerLimit(limit);
  return s;
}

TEST(SchedulerOwnerTest, AFullOwnerWaitsWhileOthersGo) {
  Scheduler s;
  WithFairShare(s, 2);
  for (uint64_t c = 1; c <= 10; ++c)
    ASSERT_TRUE(s.Enqueue(OwnedRestore(c, "alice")));
  ASSERT_TRUE(s.Enqueue(OwnedRestore(11, "bob")));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{1, 11, 2}));
  EXPECT_EQ(s.OwnerRunning("alice"), 2u);
  EXPECT_TRUE(s.OwnerFull("alice"));
  EXPECT_TRUE(s.Dispatch("m2", {}, MoverLimits{}).empty());
  ASSERT_TRUE(s.Done(ItemId::Of(OwnedRestore(1, "alice").item.hai)));
  EXPECT_FALSE(s.OwnerFull("alice"));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{})),
            (std::vector<uint64_t>{3}));
}

TEST(SchedulerOwnerTest, RequeueReleaseAndFailureFreeTheOwner) {
  Scheduler s;
  WithFairShare(s, 1);
  for (uint64_t c = 1; c <= 4; ++c)
    ASSERT_TRUE(s.Enqueue(OwnedRestore(c, "alice")));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s.Requeue(ItemId::Of(OwnedRestore(1, "alice").item.hai)));
  EXPECT_EQ(s.OwnerRunning("alice"), 0u);
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{})),
            (std::vector<uint64_t>{1}));
  std::vector<protocol::WireItem> orphans;
  EXPECT_EQ(s.Release("m2", &orphans), 1u);
  EXPECT_EQ(Cookies(s.Dispatch("m3", {}, MoverLimits{})),
            (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s.Done(ItemId::Of(OwnedRestore(1, "alice").item.hai), true));
  EXPECT_EQ(Cookies(s.Dispatch("m3", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
}

TEST(SchedulerOwnerTest, BindsBlockingRestoresToo) {
#if COORDINATOOL_HAVE_HSM_REQ_BLOCKING
  Scheduler s;
  WithFairShare(s, 1);
  s.SetRestoreBlockingShare(90);
  ASSERT_TRUE(s.Enqueue(OwnedRestore(1, "alice", HSM_REQ_BLOCKING)));
  ASSERT_TRUE(s.Enqueue(OwnedRestore(2, "alice", HSM_REQ_BLOCKING)));
  ASSERT_TRUE(s.Enqueue(OwnedRestore(3, "bob", HSM_REQ_BLOCKING)));
  ASSERT_TRUE(s.Enqueue(OwnedRestore(4, "carol")));
  // alice's second blocking restore waits; bob's goes.
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{})),
            (std::vector<uint64_t>{4}));
  EXPECT_TRUE(s.Dispatch("m3", {}, MoverLimits{}).empty());
  ASSERT_TRUE(s.Done(ItemId::Of(OwnedRestore(1, "alice").item.hai)));
  EXPECT_EQ(Cookies(s.Dispatch("m3", {}, MoverLimits{})),
            (std::vector<uint64_t>{2}));
#else
  GTEST_SKIP() << "Lustre headers without HSM_REQ_BLOCKING";
#endif
}

TEST(SchedulerOwnerTest, AFullOwnerIsSetAsideOnceNotLookedAtEachDispatch) {
  // alice's queues (one per archive id) leave the index the first time they
  // are met full; dispatches then see bob's at once, and alice's come back
  // when one of hers ends.
  Scheduler s;
  WithFairShare(s, 1);
  for (uint32_t a = 1; a <= 3; ++a)
    ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_RESTORE, a, a, "user=alice")));
  for (uint64_t c = 10; c <= 12; ++c)
    ASSERT_TRUE(s.Enqueue(OwnedRestore(c, "bob")));
  MoverLimits one;
  one.max_running = {1, 0, 0};
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, one)), (std::vector<uint64_t>{1}));
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, one)), (std::vector<uint64_t>{10}));
  EXPECT_TRUE(s.Dispatch("m3", {}, one).empty());  // bob full, alice full
  ASSERT_TRUE(s.Done(ItemId::Of(OwnedRestore(10, "bob").item.hai)));
  EXPECT_EQ(Cookies(s.Dispatch("m3", {}, one)), (std::vector<uint64_t>{11}));
  ASSERT_TRUE(s.Done(ItemId::Of(MakeItem(HSMA_RESTORE, 1).item.hai)));
  EXPECT_EQ(Cookies(s.Dispatch("m4", {}, one)), (std::vector<uint64_t>{2}));
}

TEST(SchedulerOwnerTest, AReloadRaisingTheLimitFreesOwnersAtOnce) {
  Scheduler s;
  WithFairShare(s, 1);
  for (uint64_t c = 1; c <= 3; ++c)
    ASSERT_TRUE(s.Enqueue(OwnedRestore(c, "alice")));
  EXPECT_EQ(Cookies(s.Dispatch("m1", {}, MoverLimits{})),
            (std::vector<uint64_t>{1}));
  EXPECT_TRUE(s.Dispatch("m2", {}, MoverLimits{}).empty());
  s.SetRestoreOwnerLimit(0);
  EXPECT_EQ(Cookies(s.Dispatch("m2", {}, MoverLimits{})),
            (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(s.OwnerRunning("alice"), 3u);
}

TEST(SchedulerOwnerTest, OffByDefault) {
  Scheduler s;
  WithFairShare(s, 0);
  for (uint64_t c = 1; c <= 5; ++c)
    ASSERT_TRUE(s.Enqueue(OwnedRestore(c, "alice")));
  EXPECT_EQ(s.Dispatch("m1", {}, MoverLimits{}).items.size(), 5u);
}

}  // namespace
}  // namespace server
