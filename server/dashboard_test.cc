// The dashboard's data: the backlog ring on a manual clock, restore wait
// percentiles, the JSON the page reads.
#include "server/dashboard.h"

#include <gtest/gtest.h>

#include <iostream>

namespace server {
namespace {

using std::chrono::seconds;

TEST(BacklogHistoryTest, SamplesEveryPeriodFromTheFirst) {
  common::ManualClock clock;
  BacklogHistory history;
  EXPECT_TRUE(history.MaybeSample(clock.Now(), 100, {1, 2, 3}, {0, 0, 1}));
  EXPECT_EQ(history.next_due(), clock.Now() + seconds(10));
  clock.Advance(seconds(5));
  EXPECT_FALSE(history.MaybeSample(clock.Now(), 105, {9, 9, 9}, {}));
  clock.Advance(seconds(5));
  EXPECT_TRUE(history.MaybeSample(clock.Now(), 110, {4, 5, 6}, {}));
  // A late tick keeps the grid: due at +20, taken at +23, next at +30.
  clock.Advance(seconds(13));
  EXPECT_TRUE(history.MaybeSample(clock.Now(), 123, {7, 8, 9}, {}));
  EXPECT_EQ(history.next_due(), clock.Now() + seconds(7));
  std::vector<BacklogSample> samples = history.Samples();
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].unix_s, 100);
  EXPECT_EQ(samples[0].waiting[2], 3u);
  EXPECT_EQ(samples[0].running[2], 1u);
  EXPECT_EQ(samples[1].unix_s, 110);
  EXPECT_EQ(samples[2].waiting[0], 7u);
}

TEST(BacklogHistoryTest, KeepsTheLastHourOnly) {
  common::ManualClock clock;
  BacklogHistory history;
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(history.MaybeSample(clock.Now(), i,
                                    {static_cast<uint64_t>(i), 0, 0}, {}));
    clock.Advance(BacklogHistory::kPeriod);
  }
  std::vector<BacklogSample> samples = history.Samples();
  ASSERT_EQ(samples.size(), BacklogHistory::kSamples);
  EXPECT_EQ(samples.front().unix_s, 40);
  EXPECT_EQ(samples.back().unix_s, 399);
  for (size_t i = 1; i < samples.size(); ++i)
    EXPECT_EQ(samples[i].unix_s, samples[i - 1].unix_s + 1);
}

TEST(RestoreWaitsTest, NearestRankPercentiles) {
  RestoreWaits waits;
  EXPECT_EQ(waits.Compute().count, 0u);
  for (int s = 100; s >= 1; --s) waits.Record(seconds(s));
  RestoreWaits::Percentiles p = waits.Compute();
  EXPECT_EQ(p.count, 100u);
  EXPECT_DOUBLE_EQ(p.p50_s, 50);
  EXPECT_DOUBLE_EQ(p.p90_s, 90);
  EXPECT_DOUBLE_EQ(p.p99_s, 99);
  RestoreWaits one;
  one.Record(std::chrono::milliseconds(1500));
  EXPECT_DOUBLE_EQ(one.Compute().p99_s, 1.5);
  EXPECT_DOUBLE_EQ(one.Compute().p50_s, 1.5);
}

TEST(RestoreWaitsTest, RecentOnesOnly) {
  RestoreWaits waits;
  for (size_t i = 0; i < RestoreWaits::kCapacity; ++i)
    waits.Record(seconds(1000));
  // As many short waits again: the long ones are forgotten.
  for (size_t i = 0; i < RestoreWaits::kCapacity; ++i) waits.Record(seconds(1));
  RestoreWaits::Percentiles p = waits.Compute();
  EXPECT_EQ(p.count, RestoreWaits::kCapacity);
  EXPECT_DOUBLE_EQ(p.p99_s, 1);
  // A negative wait (clock stepped back) counts as 0.
  RestoreWaits negative;
  negative.Record(seconds(-5));
  EXPECT_DOUBLE_EQ(negative.Compute().p50_s, 0);
}

TEST(DashboardJsonTest, Fields) {
  common::ManualClock clock;
  BacklogHistory history;
  history.MaybeSample(clock.Now(), 1000, {3, 0, 7}, {1, 0, 2});
  RestoreWaits waits;
  waits.Record(seconds(2));
  DashboardView view;
  view.version = "1.2.3";
  view.unix_s = 1005;
  view.locked = 1;
  view.store = "journal /var/lib/x";
  view.store_writable = false;
  view.waiting = {3, 0, 7};
  view.running = {1, 0, 2};
  view.done = {10, 1, 20};
  view.movers.push_back({"m1", "ready", true, {1, 0, 2}, {10, 1, 20}});
  view.oldest[static_cast<size_t>(ItemType::kRestore)].push_back(
      {"[0x200000401:0x1:0x0]", 42, 1});
  boost::json::object o = DashboardJson(view, history, waits);
  EXPECT_EQ(o.at("version").as_string(), "1.2.3");
  EXPECT_EQ(o.at("now").as_int64(), 1005);
  EXPECT_EQ(o.at("lock").at("name").as_string(), "locked");
  EXPECT_EQ(o.at("store").at("writable").as_bool(), false);
  EXPECT_EQ(o.at("totals").at("archive").at("waiting").as_uint64(), 7u);
  EXPECT_EQ(o.at("totals").at("restore").at("done").as_uint64(), 10u);
  const auto& backlog = o.at("backlog").as_object();
  EXPECT_EQ(backlog.at("period_s").as_int64(), 10);
  EXPECT_EQ(backlog.at("t").as_array().size(), 1u);
  EXPECT_EQ(backlog.at("waiting").at("archive").as_array()[0].as_uint64(), 7u);
  EXPECT_EQ(backlog.at("running").at("restore").as_array()[0].as_uint64(), 1u);
  const auto& mover = o.at("movers").as_array()[0].as_object();
  EXPECT_EQ(mover.at("id").as_string(), "m1");
  EXPECT_EQ(mover.at("draining").as_bool(), true);
  EXPECT_EQ(mover.at("running").at("archive").as_uint64(), 2u);
  const auto& oldest = o.at("oldest").at("restore").as_array()[0].as_object();
  EXPECT_EQ(oldest.at("fid").as_string(), "[0x200000401:0x1:0x0]");
  EXPECT_EQ(oldest.at("age_s").as_int64(), 42);
  EXPECT_TRUE(o.at("oldest").at("archive").as_array().empty());
  EXPECT_EQ(o.at("restore_wait").at("count").as_uint64(), 1u);
  EXPECT_DOUBLE_EQ(o.at("restore_wait").at("p90_s").as_double(), 2);
}

}  // namespace
}  // namespace server

namespace server {
namespace {

// The answer's size is bounded whatever the backlog: a full hour of
// samples with six-digit counts, five oldest requests per type, 50 movers.
TEST(DashboardJsonTest, FullHourStaysSmall) {
  common::ManualClock clock;
  BacklogHistory history;
  for (size_t i = 0; i < BacklogHistory::kSamples; ++i) {
    history.MaybeSample(clock.Now(), clock.UnixSeconds(),
                        {999'999, 999'999, 999'999}, {100, 100, 100});
    clock.Advance(BacklogHistory::kPeriod);
  }
  RestoreWaits waits;
  for (int i = 0; i < 5000; ++i) waits.Record(std::chrono::seconds(i));
  DashboardView view;
  for (int i = 0; i < 50; ++i)
    view.movers.push_back({"mover-" + std::to_string(i),
                           "ready",
                           false,
                           {1, 2, 3},
                           {1000, 1000, 1000}});
  for (auto& oldest : view.oldest)
    for (size_t i = 0; i < kDashboardOldest; ++i)
      oldest.push_back({"[0x200000401:0x1234:0x0]", 86400, 1});
  const std::string text =
      boost::json::serialize(DashboardJson(view, history, waits));
  std::cout << "full-hour /api/dashboard: " << text.size() << " bytes\n";
  EXPECT_LT(text.size(), 48u * 1024);
}

}  // namespace
}  // namespace server
