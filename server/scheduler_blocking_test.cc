// Blocking restores first (Scheduler::SetRestoreBlockingShare,
// docs/policies.md): restores a process waits on go before bulk ones,
// within a bounded share.
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

#if COORDINATOOL_HAVE_HSM_REQ_BLOCKING

protocol::WireItem Blocking(uint64_t cookie, uint32_t archive_id = 1,
                            std::string data = "") {
  return MakeItem(HSMA_RESTORE, cookie, archive_id, std::move(data),
                  HSM_REQ_BLOCKING);
}
protocol::WireItem Bulk(uint64_t cookie, uint32_t archive_id = 1,
                        std::string data = "") {
  return MakeItem(HSMA_RESTORE, cookie, archive_id, std::move(data));
}

MoverLimits OneRestore() { return test::OnlyRestores(1); }

// Sends `n` restores one at a time (each done before the next) and returns
// "B" for a blocking one, "b" for a bulk one.
std::string Serve(Scheduler& s, int n) {
  std::string classes;
  for (int i = 0; i < n; ++i) {
    DispatchReply reply = s.Dispatch("m1", {}, OneRestore());
    if (reply.items.empty()) break;
    const Item* item = reply.items.front();
    classes += (item->hal_flags & HSM_REQ_BLOCKING) ? 'B' : 'b';
    EXPECT_TRUE(s.Done(item->id()));
  }
  return classes;
}

// Every test starts from an empty Scheduler (test::SchedulerFixture).
class SchedulerBlockingTest : public test::SchedulerFixture {};

TEST_F(SchedulerBlockingTest, ABlockingRestoreGoesBeforeOlderBulkOnes) {
  s_.SetRestoreBlockingShare(90);
  for (uint64_t c = 1; c <= 5; ++c) ASSERT_TRUE(s_.Enqueue(Bulk(c)));
  ASSERT_TRUE(s_.Enqueue(Blocking(6)));
  DispatchReply reply = s_.Dispatch("m1", {}, OneRestore());
  EXPECT_EQ(Cookies(reply), (std::vector<uint64_t>{6}));
  EXPECT_EQ(reply.hal_flags, uint64_t{HSM_REQ_BLOCKING});
  EXPECT_EQ(s_.counters().blocking_restores_sent, 1u);
}

TEST_F(SchedulerBlockingTest, OffMeansArrivalOrder) {
  // The share is 0 by default.
  for (uint64_t c = 1; c <= 3; ++c) ASSERT_TRUE(s_.Enqueue(Bulk(c)));
  ASSERT_TRUE(s_.Enqueue(Blocking(4)));
  EXPECT_EQ(Send("m1", OneRestore()), (std::vector<uint64_t>{1}));
  EXPECT_EQ(s_.counters().blocking_restores_sent, 0u);
}

TEST_F(SchedulerBlockingTest, TheShareBoundsBlockingOnesWhileBulkOnesWait) {
  s_.SetRestoreBlockingShare(75);
  for (uint64_t c = 1; c <= 100; ++c) ASSERT_TRUE(s_.Enqueue(Bulk(c)));
  for (uint64_t c = 101; c <= 200; ++c) ASSERT_TRUE(s_.Enqueue(Blocking(c)));
  // Three blocking for one bulk, blocking first.
  EXPECT_EQ(Serve(s_, 12), "BBBbBBBbBBBb");
}

TEST_F(SchedulerBlockingTest, HalfAndHalf) {
  s_.SetRestoreBlockingShare(50);
  for (uint64_t c = 1; c <= 10; ++c) ASSERT_TRUE(s_.Enqueue(Bulk(c)));
  for (uint64_t c = 11; c <= 20; ++c) ASSERT_TRUE(s_.Enqueue(Blocking(c)));
  EXPECT_EQ(Serve(s_, 6), "BbBbBb");
}

TEST_F(SchedulerBlockingTest, AClassAloneSavesNoCredit) {
  s_.SetRestoreBlockingShare(50);
  // A long run of blocking restores alone...
  for (uint64_t c = 1; c <= 50; ++c) ASSERT_TRUE(s_.Enqueue(Blocking(c)));
  EXPECT_EQ(Serve(s_, 50), std::string(50, 'B'));
  // ...gives bulk ones no burst when they come: they alternate at once.
  for (uint64_t c = 101; c <= 110; ++c) ASSERT_TRUE(s_.Enqueue(Bulk(c)));
  for (uint64_t c = 201; c <= 210; ++c) ASSERT_TRUE(s_.Enqueue(Blocking(c)));
  EXPECT_EQ(Serve(s_, 6), "BbBbBb");
  // The other way round.
  Scheduler t;
  t.SetRestoreBlockingShare(50);
  for (uint64_t c = 1; c <= 50; ++c) ASSERT_TRUE(t.Enqueue(Bulk(c)));
  EXPECT_EQ(Serve(t, 40), std::string(40, 'b'));
  for (uint64_t c = 201; c <= 210; ++c) ASSERT_TRUE(t.Enqueue(Blocking(c)));
  EXPECT_EQ(Serve(t, 4), "BbBb");
}

TEST_F(SchedulerBlockingTest, AReplyNeverMixesBlockingAndBulkRestores) {
  s_.SetRestoreBlockingShare(50);
  for (uint64_t c = 1; c <= 4; ++c) ASSERT_TRUE(s_.Enqueue(Bulk(c)));
  for (uint64_t c = 5; c <= 8; ++c) ASSERT_TRUE(s_.Enqueue(Blocking(c)));
  DispatchReply first = s_.Dispatch("m1", {}, MoverLimits{});
  EXPECT_EQ(Cookies(first), (std::vector<uint64_t>{5, 6, 7, 8}));
  EXPECT_EQ(first.hal_flags, uint64_t{HSM_REQ_BLOCKING});
  DispatchReply second = s_.Dispatch("m1", {}, MoverLimits{});
  EXPECT_EQ(Cookies(second), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(second.hal_flags, 0u);
}

TEST_F(SchedulerBlockingTest, OnlyArchiveIdsTheMoverServesAndItsOwnQueue) {
  s_.SetRestoreBlockingShare(90);
  ASSERT_TRUE(s_.Enqueue(Bulk(1, 2)));
  ASSERT_TRUE(s_.Enqueue(Blocking(2, 3)));        // archive id 3
  ASSERT_TRUE(s_.Enqueue(Blocking(3, 2), "m9"));  // m9's own queue
  ASSERT_TRUE(s_.Enqueue(Blocking(4, 2)));
  EXPECT_EQ(Cookies(s_.Dispatch("m1", {2}, OneRestore())),
            (std::vector<uint64_t>{4}));
  EXPECT_EQ(Cookies(s_.Dispatch("m9", {2}, OneRestore())),
            (std::vector<uint64_t>{3}));
  EXPECT_EQ(Cookies(s_.Dispatch("m2", {2}, OneRestore())),
            (std::vector<uint64_t>{1}));
  EXPECT_EQ(Cookies(s_.Dispatch("m3", {3}, OneRestore())),
            (std::vector<uint64_t>{2}));
}

TEST_F(SchedulerBlockingTest, ComposesWithFairShare) {
  ShareByUser();
  s_.SetRestoreBlockingShare(50);
  // alice's bulk recall came first; bob's bulk and carol's blocking later.
  for (uint64_t c = 1; c <= 10; ++c)
    ASSERT_TRUE(s_.Enqueue(Bulk(c, 1, "user=alice")));
  for (uint64_t c = 11; c <= 20; ++c)
    ASSERT_TRUE(s_.Enqueue(Bulk(c, 1, "user=bob")));
  for (uint64_t c = 21; c <= 30; ++c)
    ASSERT_TRUE(s_.Enqueue(Blocking(c, 1, "user=carol")));
  std::vector<uint64_t> sent;
  for (int i = 0; i < 6; ++i) {
    DispatchReply reply = s_.Dispatch("m1", {}, OneRestore());
    ASSERT_EQ(reply.items.size(), 1u);
    sent.push_back(reply.items[0]->hai.hai_cookie);
    ASSERT_TRUE(s_.Done(test::IdOf(reply.items[0])));
  }
  // Blocking and bulk alternate; the bulk turns share alice and bob.
  EXPECT_EQ(sent, (std::vector<uint64_t>{21, 1, 22, 11, 23, 2}));
}

TEST_F(SchedulerBlockingTest, AReloadChangesTheShareAtOnce) {
  s_.SetRestoreBlockingShare(50);
  for (uint64_t c = 1; c <= 20; ++c) ASSERT_TRUE(s_.Enqueue(Bulk(c)));
  for (uint64_t c = 21; c <= 40; ++c) ASSERT_TRUE(s_.Enqueue(Blocking(c)));
  EXPECT_EQ(Serve(s_, 2), "Bb");
  s_.SetRestoreBlockingShare(0);
  EXPECT_EQ(Serve(s_, 2), "bb");  // arrival order: bulk ones are older
  s_.SetRestoreBlockingShare(99);
  EXPECT_EQ(s_.restore_blocking_share(), 99u);
  EXPECT_EQ(Serve(s_, 3), "BBB");
  s_.SetRestoreBlockingShare(500);  // clamped
  EXPECT_EQ(s_.restore_blocking_share(), 99u);
}

TEST_F(SchedulerBlockingTest, HeldBlockingRestoreStartsInTheBlockingStage) {
  s_.SetRestoreBlockingShare(90);
  protocol::WireItem archive = MakeItem(HSMA_ARCHIVE, 1);
  protocol::WireItem restore = Blocking(2);
  restore.item.hai.hai_fid = archive.item.hai.hai_fid;  // the same file
  ASSERT_TRUE(s_.Enqueue(archive));
  ASSERT_TRUE(s_.Enqueue(restore));
  for (uint64_t c = 3; c <= 5; ++c) ASSERT_TRUE(s_.Enqueue(Bulk(c)));
  EXPECT_EQ(s_.counters().held_same_fid[0], 1u);
  MoverLimits limits = OneRestore();
  limits.max_running[2] = 1;
  EXPECT_EQ(Send("m1", limits), (std::vector<uint64_t>{3, 1}));
  ASSERT_TRUE(s_.Done(test::IdOf(archive)));
  ASSERT_TRUE(s_.Done(test::IdOf(Bulk(3))));
  EXPECT_EQ(Send("m1", OneRestore()), (std::vector<uint64_t>{2}));
}

#else

TEST(SchedulerBlockingTest, InertWithoutTheFlag) {
  EXPECT_EQ(kBlockingRestoreFlag, 0u);
  Scheduler s;
  s.SetRestoreBlockingShare(90);
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_RESTORE, 1)));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_RESTORE, 2, 1, "", 0x4)));
  MoverLimits limits;
  limits.max_running = {1, 0, 0};
  DispatchReply reply = s.Dispatch("m1", {}, limits);
  ASSERT_EQ(reply.items.size(), 1u);
  EXPECT_EQ(reply.items[0]->hai.hai_cookie, 1u);  // arrival order
}

#endif

}  // namespace
}  // namespace server
