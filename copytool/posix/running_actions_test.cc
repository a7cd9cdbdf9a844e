#include "copytool/posix/running_actions.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ct {
namespace {

using ItemBytes = RunningActions::ItemBytes;

ItemBytes MakeItem(uint32_t oid, uint64_t cookie) {
  hsm_action_item hai{};
  hai.hai_len = sizeof(hai);
  hai.hai_action = HSMA_ARCHIVE;
  hai.hai_fid = {0x200000401, oid, 0};
  hai.hai_cookie = cookie;
  std::vector<char> bytes(sizeof(hai));
  std::memcpy(bytes.data(), &hai, sizeof(hai));
  return std::make_shared<const std::vector<char>>(std::move(bytes));
}

uint64_t CookieOf(const ItemBytes& item) {
  return item == nullptr ? 0 : RunningActions::Item(item).hai_cookie;
}

TEST(RunningActionsTest, ItemsOfDifferentFilesRunTogether) {
  RunningActions r;
  EXPECT_TRUE(r.Admit(MakeItem(1, 10)));
  EXPECT_TRUE(r.Admit(MakeItem(2, 11)));
}

TEST(RunningActionsTest, ResendIsDroppedWhenTheEndWasAccepted) {
  RunningActions r;
  const ItemBytes first = MakeItem(1, 10);
  ASSERT_TRUE(r.Admit(first));
  EXPECT_FALSE(r.Admit(MakeItem(1, 10)));
  EXPECT_EQ(r.Finish(first, /*end_accepted=*/true), nullptr);
  EXPECT_TRUE(r.Admit(MakeItem(1, 12)));  // the FID is free again
}

TEST(RunningActionsTest, ResendRunsWhenTheEndWasNotAccepted) {
  RunningActions r;
  const ItemBytes first = MakeItem(1, 10);
  ASSERT_TRUE(r.Admit(first));
  EXPECT_FALSE(r.Admit(MakeItem(1, 10)));
  const ItemBytes next = r.Finish(first, /*end_accepted=*/false);
  EXPECT_EQ(CookieOf(next), 10u);
  EXPECT_EQ(r.Finish(next, true), nullptr);
}

TEST(RunningActionsTest, NoResendMeansNothingToRunAfterAFailedEnd) {
  RunningActions r;
  const ItemBytes first = MakeItem(1, 10);
  ASSERT_TRUE(r.Admit(first));
  EXPECT_EQ(r.Finish(first, false), nullptr);
}

TEST(RunningActionsTest, OtherRequestsForTheFileWaitInOrder) {
  RunningActions r;
  const ItemBytes first = MakeItem(1, 10);
  ASSERT_TRUE(r.Admit(first));
  EXPECT_FALSE(r.Admit(MakeItem(1, 20)));
  EXPECT_FALSE(r.Admit(MakeItem(1, 30)));
  EXPECT_FALSE(r.Admit(MakeItem(1, 20)));  // a re-send of a waiting one
  const ItemBytes second = r.Finish(first, true);
  EXPECT_EQ(CookieOf(second), 20u);
  const ItemBytes third = r.Finish(second, true);
  EXPECT_EQ(CookieOf(third), 30u);
  EXPECT_EQ(r.Finish(third, true), nullptr);
}

TEST(RunningActionsTest, PokeReachesOnlyARunningCopy) {
  RunningActions r;
  EXPECT_FALSE(r.Poke(10));
  RunningActions::Entry entry(&r, 10);
  EXPECT_FALSE(entry.TakeReportRequest());
  EXPECT_TRUE(r.Poke(10));
  EXPECT_TRUE(entry.TakeReportRequest());
  EXPECT_FALSE(entry.TakeReportRequest());  // once per poke
  EXPECT_FALSE(r.Poke(11));
}

}  // namespace
}  // namespace ct
