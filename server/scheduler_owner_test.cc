// Per-owner running limits (Scheduler::SetRestoreOwnerLimit,
// docs/policies.md): one owner's recall cannot hold every mover.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/scheduler.h"
#include "server/scheduler_fixture.h"
#include "server/test_items.h"

namespace server {
namespace {

using test::Cookies;
using test::MakeItem;

using test::IdOf;
using test::OnlyRestores;
using test::OwnedRestore;

// Every test starts from an empty Scheduler (test::SchedulerFixture).
class SchedulerOwnerTest : public test::SchedulerFixture {};

TEST_F(SchedulerOwnerTest, AFullOwnerWaitsWhileOthersGo) {
  ShareByUser(2);
  for (uint64_t c = 1; c <= 10; ++c)
    ASSERT_TRUE(s_.Enqueue(OwnedRestore(c, "alice")));
  ASSERT_TRUE(s_.Enqueue(OwnedRestore(11, "bob")));
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1, 11, 2}));
  EXPECT_EQ(s_.OwnerRunning("alice"), 2u);
  EXPECT_TRUE(s_.OwnerFull("alice"));
  EXPECT_TRUE(s_.Dispatch("m2", {}, MoverLimits{}).empty());
  ASSERT_TRUE(s_.Done(IdOf(OwnedRestore(1, "alice"))));
  EXPECT_FALSE(s_.OwnerFull("alice"));
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{3}));
}

TEST_F(SchedulerOwnerTest, RequeueReleaseAndFailureFreeTheOwner) {
  ShareByUser(1);
  for (uint64_t c = 1; c <= 4; ++c)
    ASSERT_TRUE(s_.Enqueue(OwnedRestore(c, "alice")));
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s_.Requeue(IdOf(OwnedRestore(1, "alice"))));
  EXPECT_EQ(s_.OwnerRunning("alice"), 0u);
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{1}));
  std::vector<protocol::WireItem> orphans;
  EXPECT_EQ(s_.Release("m2", &orphans), 1u);
  EXPECT_EQ(Send("m3"), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(s_.Done(IdOf(OwnedRestore(1, "alice")), true));
  EXPECT_EQ(Send("m3"), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerOwnerTest, BindsBlockingRestoresToo) {
#if COORDINATOOL_HAVE_HSM_REQ_BLOCKING
  ShareByUser(1);
  s_.SetRestoreBlockingShare(90);
  ASSERT_TRUE(s_.Enqueue(OwnedRestore(1, "alice", HSM_REQ_BLOCKING)));
  ASSERT_TRUE(s_.Enqueue(OwnedRestore(2, "alice", HSM_REQ_BLOCKING)));
  ASSERT_TRUE(s_.Enqueue(OwnedRestore(3, "bob", HSM_REQ_BLOCKING)));
  ASSERT_TRUE(s_.Enqueue(OwnedRestore(4, "carol")));
  // alice's second blocking restore waits; bob's goes.
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{4}));
  EXPECT_TRUE(s_.Dispatch("m3", {}, MoverLimits{}).empty());
  ASSERT_TRUE(s_.Done(IdOf(OwnedRestore(1, "alice"))));
  EXPECT_EQ(Send("m3"), (std::vector<uint64_t>{2}));
#else
  GTEST_SKIP() << "Lustre headers without HSM_REQ_BLOCKING";
#endif
}

TEST_F(SchedulerOwnerTest, AFullOwnerIsSetAsideOnceNotLookedAtEachDispatch) {
  // alice's queues (one per archive id) leave the index the first time they
  // are met full; dispatches then see bob's at once, and alice's come back
  // when one of hers ends.
  ShareByUser(1);
  for (uint32_t a = 1; a <= 3; ++a)
    ASSERT_TRUE(s_.Enqueue(MakeItem(HSMA_RESTORE, a, a, "user=alice")));
  for (uint64_t c = 10; c <= 12; ++c)
    ASSERT_TRUE(s_.Enqueue(OwnedRestore(c, "bob")));
  const MoverLimits one = OnlyRestores(1);
  EXPECT_EQ(Send("m1", one), (std::vector<uint64_t>{1}));
  EXPECT_EQ(Send("m2", one), (std::vector<uint64_t>{10}));
  EXPECT_TRUE(s_.Dispatch("m3", {}, one).empty());  // bob full, alice full
  ASSERT_TRUE(s_.Done(IdOf(OwnedRestore(10, "bob"))));
  EXPECT_EQ(Send("m3", one), (std::vector<uint64_t>{11}));
  ASSERT_TRUE(s_.Done(IdOf(MakeItem(HSMA_RESTORE, 1))));
  EXPECT_EQ(Send("m4", one), (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerOwnerTest, AReloadRaisingTheLimitFreesOwnersAtOnce) {
  ShareByUser(1);
  for (uint64_t c = 1; c <= 3; ++c)
    ASSERT_TRUE(s_.Enqueue(OwnedRestore(c, "alice")));
  EXPECT_EQ(Send("m1"), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(s_.Dispatch("m2", {}, MoverLimits{}).empty());
  s_.SetRestoreOwnerLimit(0);
  EXPECT_EQ(Send("m2"), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(s_.OwnerRunning("alice"), 3u);
}

TEST_F(SchedulerOwnerTest, OffByDefault) {
  ShareByUser(0);
  for (uint64_t c = 1; c <= 5; ++c)
    ASSERT_TRUE(s_.Enqueue(OwnedRestore(c, "alice")));
  EXPECT_EQ(s_.Dispatch("m1", {}, MoverLimits{}).items.size(), 5u);
}

// The optional cap of queued restores per owner: queued means known and
// not running (waiting, held behind another request of the file, being
// located); running ones do not count. The Scheduler counts, the caller
// refuses.
TEST_F(SchedulerOwnerTest, QueuedRestoresAreCountedPerOwnerForTheCap) {
  ShareByUser(0);
  EXPECT_FALSE(s_.OwnerQueueFull("alice"));  // off
  s_.SetRestoreQueueCap(3);
  const protocol::WireItem next = OwnedRestore(9, "alice");
  EXPECT_EQ(s_.RestoreOwnerOf(next, ""), "alice");
  for (uint64_t c = 1; c <= 3; ++c)
    ASSERT_TRUE(s_.Enqueue(OwnedRestore(c, "alice")));
  ASSERT_TRUE(s_.Enqueue(OwnedRestore(4, "bob")));
  ASSERT_TRUE(s_.Enqueue(MakeItem(HSMA_ARCHIVE, 5)));  // not a restore
  EXPECT_EQ(s_.OwnerQueued("alice"), 3u);
  EXPECT_TRUE(s_.OwnerQueueFull("alice"));
  EXPECT_FALSE(s_.OwnerQueueFull("bob"));
  // One runs: it no longer counts as queued.
  const MoverLimits one = OnlyRestores(1);
  ASSERT_EQ(s_.Dispatch("m1", {}, one).items.size(), 1u);
  EXPECT_EQ(s_.OwnerQueued("alice") + s_.OwnerQueued("bob"), 3u);
  // Requeued, it counts again; ended, never.
  std::vector<protocol::WireItem> orphans;
  s_.Release("m1", &orphans);
  EXPECT_EQ(s_.OwnerQueued("alice") + s_.OwnerQueued("bob"), 4u);
  ASSERT_TRUE(s_.Drop(IdOf(OwnedRestore(1, "alice"))));
  ASSERT_TRUE(s_.Done(IdOf(OwnedRestore(2, "alice"))));
  EXPECT_EQ(s_.OwnerQueued("alice"), 1u);
  EXPECT_FALSE(s_.OwnerQueueFull("alice"));
  // A reload lowers the cap: at once.
  s_.SetRestoreQueueCap(1);
  EXPECT_TRUE(s_.OwnerQueueFull("alice"));
}

}  // namespace
}  // namespace server
