#include "server/dispatch_rate.h"

#include <gtest/gtest.h>

namespace server {
namespace {

using std::chrono::seconds;

TEST(DispatchRateTest, NothingHandedOutGivesNoEstimate) {
  common::ManualClock clock;
  DispatchRate rate(clock);
  EXPECT_EQ(rate.PerSecond(ItemType::kRestore), 0);
  EXPECT_FALSE(rate.SecondsFor(ItemType::kRestore, 10).has_value());
}

TEST(DispatchRateTest, RateOverTheWindowPerType) {
  common::ManualClock clock;
  DispatchRate rate(clock, seconds(60), seconds(10));
  // 2 restores a second for 60 s, no archive.
  for (int s = 0; s < 60; ++s) {
    rate.Note(ItemType::kRestore, 2);
    clock.Advance(seconds(1));
  }
  EXPECT_NEAR(rate.PerSecond(ItemType::kRestore), 2.0, 0.01);
  EXPECT_EQ(rate.PerSecond(ItemType::kArchive), 0);
  ASSERT_TRUE(rate.SecondsFor(ItemType::kRestore, 100).has_value());
  EXPECT_NEAR(*rate.SecondsFor(ItemType::kRestore, 100), 50.0, 0.5);
}

TEST(DispatchRateTest, OldBucketsLeaveTheWindow) {
  common::ManualClock clock;
  DispatchRate rate(clock, seconds(60), seconds(10));
  rate.Note(ItemType::kArchive, 600);
  clock.Advance(seconds(30));
  EXPECT_GT(rate.PerSecond(ItemType::kArchive), 0);
  // Past the window (and a whole ring turn later): nothing left.
  clock.Advance(seconds(75));
  EXPECT_EQ(rate.PerSecond(ItemType::kArchive), 0);
  clock.Advance(seconds(1000));
  rate.Note(ItemType::kArchive, 1);
  EXPECT_GT(rate.PerSecond(ItemType::kArchive), 0);
  EXPECT_LT(rate.PerSecond(ItemType::kArchive), 0.1);  // not 600 again
}

TEST(DispatchRateTest, ASlowerRecentPastLowersTheRate) {
  common::ManualClock clock;
  DispatchRate rate(clock, seconds(60), seconds(10));
  for (int s = 0; s < 60; ++s) {
    rate.Note(ItemType::kRemove, 10);
    clock.Advance(seconds(1));
  }
  const double fast = rate.PerSecond(ItemType::kRemove);
  for (int s = 0; s < 60; ++s) {
    rate.Note(ItemType::kRemove, 1);
    clock.Advance(seconds(1));
  }
  EXPECT_LT(rate.PerSecond(ItemType::kRemove), fast / 5);
}

}  // namespace
}  // namespace server
