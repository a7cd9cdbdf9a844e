// Upcalled items (docs/upcall.md) in the Scheduler and their cookies.
#include <gtest/gtest.h>

#include "protocol/upcall.h"
#include "server/scheduler.h"
#include "server/test_items.h"
#include "server/upcall_cookies.h"

namespace server {
namespace {

using protocol::kUpcallArchiveBit;
using protocol::kUpcallCookieBit;
using test::MakeItem;

TEST(UpcallSchedulingTest, OnlyUpcallWorkersTakeUpcalledItems) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(
      MakeItem(HSMA_ARCHIVE, kUpcallCookieBit | 7, kUpcallArchiveBit | 1)));
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 8, 1)));
  // An ordinary mover of every archive, or of archive 1: the Lustre item.
  DispatchReply reply = s.Dispatch("copytool", {}, MoverLimits{});
  ASSERT_EQ(reply.items.size(), 1u);
  EXPECT_EQ(reply.items[0]->hai.hai_cookie, 8u);
  EXPECT_TRUE(s.Dispatch("copytool2", {1}, MoverLimits{}).empty());
  // A worker of another archive: nothing.
  EXPECT_TRUE(
      s.Dispatch("worker2", {kUpcallArchiveBit | 2}, MoverLimits{}).empty());
  // A worker of archive 1 (or of all, kUpcallArchiveBit alone).
  reply = s.Dispatch("worker", {kUpcallArchiveBit | 1}, MoverLimits{});
  ASSERT_EQ(reply.items.size(), 1u);
  EXPECT_EQ(reply.items[0]->hai.hai_cookie, kUpcallCookieBit | 7);
  EXPECT_EQ(reply.archive_id, kUpcallArchiveBit | 1);
}

TEST(UpcallSchedulingTest, AWorkerOfEveryArchiveTakesNoLustreItem) {
  Scheduler s;
  ASSERT_TRUE(s.Enqueue(MakeItem(HSMA_ARCHIVE, 8, 1)));
  ASSERT_TRUE(s.Enqueue(
      MakeItem(HSMA_REMOVE, kUpcallCookieBit | 9, kUpcallArchiveBit | 3)));
  DispatchReply reply =
      s.Dispatch("worker", {kUpcallArchiveBit}, MoverLimits{});
  ASSERT_EQ(reply.items.size(), 1u);
  EXPECT_EQ(reply.items[0]->hai.hai_cookie, kUpcallCookieBit | 9);
  EXPECT_TRUE(s.Dispatch("worker", {kUpcallArchiveBit}, MoverLimits{}).empty());
}

TEST(UpcallCookiesTest, CountUpFromTheTimeAndNeverGoBack) {
  UpcallCookies cookies;
  EXPECT_EQ(cookies.Take(3, 1000), 1000u);
  EXPECT_EQ(cookies.Take(1, 1000), 1003u);  // same instant: past the last
  EXPECT_EQ(cookies.Take(2, 500), 1004u);   // the clock went back
  EXPECT_EQ(cookies.Take(1, 5000), 5000u);
}

}  // namespace
}  // namespace server
