// ServerMetrics: the counters kept as events happen and the text a scrape
// renders, with an injected clock.
#include "server/server_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "server/test_items.h"

namespace server {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kSecondNs = 1'000'000'000;

// The value of the one sample line that starts with `series` followed by a
// space, or -1 if none (or several).
double ValueOf(const std::string& text, const std::string& series) {
  double value = -1;
  int found = 0;
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      ++found;
      value = std::stod(text.substr(at + series.size() + 1));
    }
    at += series.size();
  }
  return found == 1 ? value : -1;
}

class ServerMetricsTest : public ::testing::Test {
 protected:
  common::ManualClock clock_;
  ServerMetrics metrics_{clock_, "1.2.3"};
};

TEST_F(ServerMetricsTest, CountsReceivedCompletedCancelledDropped) {
  metrics_.Received(ItemType::kArchive, RequestSource::kLustre, 1);
  metrics_.Received(ItemType::kArchive, RequestSource::kLustre, 1);
  metrics_.Received(ItemType::kRestore, RequestSource::kQueue, 2);
  metrics_.Received(ItemType::kRemove, RequestSource::kReconcile, 1);
  metrics_.Completed(ItemType::kArchive, "m1", 0, 0);
  metrics_.Completed(ItemType::kArchive, "m1", EIO, 0);
  metrics_.Completed(ItemType::kRestore, "m2", 0, 0);
  metrics_.FailedByServer(ItemType::kRemove);
  metrics_.Cancelled(ItemType::kRestore);
  metrics_.Dropped(ItemType::kArchive);
  MetricsView view;
  view.movers["m1"] = {.known = true, .connected = true};
  view.movers["m2"] = {.known = true};
  const std::string text = metrics_.Render(view);
  auto v = [&](const std::string& series) { return ValueOf(text, series); };
  EXPECT_EQ(v("coordinatool_requests_received_total{type=\"archive\",source="
              "\"lustre\"}"),
            2);
  EXPECT_EQ(v("coordinatool_requests_received_total{type=\"restore\",source="
              "\"queue\"}"),
            1);
  EXPECT_EQ(v("coordinatool_requests_received_total{type=\"remove\",source="
              "\"reconcile\"}"),
            1);
  EXPECT_EQ(v("coordinatool_requests_received_total{type=\"remove\",source="
              "\"lustre\"}"),
            0);
  EXPECT_EQ(v("coordinatool_requests_completed_total{type=\"archive\",result="
              "\"succeeded\"}"),
            1);
  EXPECT_EQ(v("coordinatool_requests_completed_total{type=\"archive\",result="
              "\"failed\"}"),
            1);
  EXPECT_EQ(v("coordinatool_requests_completed_total{type=\"remove\",result="
              "\"failed\"}"),
            1);
  EXPECT_EQ(v("coordinatool_requests_cancelled_total{type=\"restore\"}"), 1);
  EXPECT_EQ(v("coordinatool_requests_dropped_total{type=\"archive\"}"), 1);
  EXPECT_EQ(v("coordinatool_mover_completed_total{mover=\"m1\",type="
              "\"archive\",result=\"failed\"}"),
            1);
  EXPECT_EQ(v("coordinatool_mover_completed_total{mover=\"m2\",type="
              "\"restore\",result=\"succeeded\"}"),
            1);
  EXPECT_EQ(v("coordinatool_mover_connected{mover=\"m1\"}"), 1);
  EXPECT_EQ(v("coordinatool_mover_connected{mover=\"m2\"}"), 0);
  EXPECT_EQ(v("coordinatool_build_info{version=\"1.2.3\"}"), 1);
}

TEST_F(ServerMetricsTest, WaitAndRunTimesFromTheClock) {
  const int64_t arrival = clock_.UnixNanos();
  clock_.Advance(7s);
  metrics_.Sent(ItemType::kRestore, arrival);
  const int64_t sent = clock_.UnixNanos();
  clock_.Advance(90s);
  metrics_.Completed(ItemType::kRestore, "m1", 0, sent);
  // Sent time unknown (re-announced): counted, not timed.
  metrics_.Completed(ItemType::kRestore, "m1", 0, 0);
  EXPECT_EQ(metrics_.wait(ItemType::kRestore).count(), 1u);
  EXPECT_DOUBLE_EQ(metrics_.wait(ItemType::kRestore).sum(), 7.0);
  EXPECT_EQ(metrics_.run(ItemType::kRestore).count(), 1u);
  EXPECT_DOUBLE_EQ(metrics_.run(ItemType::kRestore).sum(), 90.0);
  EXPECT_EQ(metrics_.completed(ItemType::kRestore, true), 2u);
  const std::string text = metrics_.Render(MetricsView{});
  EXPECT_EQ(ValueOf(text,
                    "coordinatool_dispatch_wait_seconds_bucket{type="
                    "\"restore\",le=\"5\"}"),
            0);
  EXPECT_EQ(ValueOf(text,
                    "coordinatool_dispatch_wait_seconds_bucket{type="
                    "\"restore\",le=\"10\"}"),
            1);
  EXPECT_EQ(ValueOf(text,
                    "coordinatool_run_seconds_bucket{type=\"restore\","
                    "le=\"+Inf\"}"),
            1);
  EXPECT_EQ(ValueOf(text, "coordinatool_run_seconds_sum{type=\"restore\"}"),
            90);
  EXPECT_EQ(ValueOf(text, "coordinatool_run_seconds_count{type=\"archive\"}"),
            0);
}

TEST_F(ServerMetricsTest, GaugesFromTheView) {
  metrics_.Received(ItemType::kArchive, RequestSource::kLustre, 3);
  MetricsView view;
  view.waiting_by_archive[1] = {4, 0, 2};  // restore, remove, archive
  view.oldest_waiting_ns[static_cast<size_t>(ItemType::kRestore)] =
      clock_.UnixNanos() - 42 * kSecondNs;
  view.movers["m\"1\n"] = {
      .known = true, .connected = true, .draining = true, .running = {1, 0, 5}};
  view.connections = {2, 1, 0, 3};
  view.store_writable = false;
  view.lock = 2;
  view.report_errors = 4;
  view.locality_errors = 5;
  view.counters.oversized = 1;
  const std::string text = metrics_.Render(view);
  auto v = [&](const std::string& series) { return ValueOf(text, series); };
  EXPECT_EQ(v("coordinatool_requests_waiting{type=\"restore\",archive_id="
              "\"1\"}"),
            4);
  EXPECT_EQ(v("coordinatool_requests_waiting{type=\"archive\",archive_id="
              "\"1\"}"),
            2);
  // Archive id 3 was seen: reported, 0.
  EXPECT_EQ(v("coordinatool_requests_waiting{type=\"archive\",archive_id="
              "\"3\"}"),
            0);
  EXPECT_EQ(v("coordinatool_oldest_waiting_age_seconds{type=\"restore\"}"), 42);
  EXPECT_EQ(v("coordinatool_oldest_waiting_age_seconds{type=\"archive\"}"), 0);
  // Peer-given ids are escaped.
  EXPECT_EQ(v("coordinatool_requests_running{type=\"archive\",mover="
              "\"m\\\"1\\n\"}"),
            5);
  EXPECT_EQ(v("coordinatool_mover_draining{mover=\"m\\\"1\\n\"}"), 1);
  EXPECT_EQ(v("coordinatool_connections{kind=\"mover\"}"), 2);
  EXPECT_EQ(v("coordinatool_connections{kind=\"admin\"}"), 1);
  EXPECT_EQ(v("coordinatool_connections{kind=\"anonymous\"}"), 3);
  EXPECT_EQ(v("coordinatool_store_writable"), 0);
  EXPECT_EQ(v("coordinatool_dispatch_locked"), 2);
  EXPECT_EQ(v("coordinatool_report_errors_total"), 4);
  EXPECT_EQ(v("coordinatool_locality_errors_total"), 5);
  EXPECT_EQ(v("coordinatool_requests_oversized"), 1);
  // No process figures in the view: none rendered.
  EXPECT_EQ(text.find("process_"), std::string::npos);
}

TEST_F(ServerMetricsTest, EveryFamilyHasHelpAndTypeOnce) {
  MetricsView view;
  view.process = metrics::ProcessStats{};
  const std::string text = metrics_.Render(view);
  for (const char* family : {"coordinatool_requests_waiting",
                             "coordinatool_requests_running",
                             "coordinatool_requests_completed_total",
                             "coordinatool_requests_received_total",
                             "coordinatool_oldest_waiting_age_seconds",
                             "coordinatool_dispatch_wait_seconds",
                             "coordinatool_run_seconds",
                             "coordinatool_mover_connected",
                             "coordinatool_mover_draining",
                             "coordinatool_mover_completed_total",
                             "coordinatool_store_writable",
                             "coordinatool_store_write_seconds",
                             "coordinatool_dispatch_locked",
                             "coordinatool_report_errors_total",
                             "coordinatool_locality_errors_total",
                             "coordinatool_connections",
                             "coordinatool_build_info",
                             "process_cpu_seconds_total",
                             "process_resident_memory_bytes",
                             "process_open_fds",
                             "process_max_fds",
                             "process_start_time_seconds"}) {
    const std::string type = std::string("# TYPE ") + family + " ";
    const std::string help = std::string("# HELP ") + family + " ";
    EXPECT_NE(text.find(type), std::string::npos) << family;
    EXPECT_EQ(text.find(type), text.rfind(type)) << family;
    EXPECT_NE(text.find(help), std::string::npos) << family;
  }
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(ServerMetricsTest, ForgetsCountsOfMoversGone) {
  metrics_.Completed(ItemType::kArchive, "gone", 0, 0);
  MetricsView with;
  with.movers["gone"] = {.known = true};
  EXPECT_EQ(ValueOf(metrics_.Render(with),
                    "coordinatool_mover_completed_total{mover=\"gone\",type="
                    "\"archive\",result=\"succeeded\"}"),
            1);
  const std::string without = metrics_.Render(MetricsView{});
  EXPECT_EQ(without.find("mover=\"gone\""), std::string::npos);
  // Back later: starts again from 0 (a counter reset for Prometheus).
  EXPECT_EQ(ValueOf(metrics_.Render(with),
                    "coordinatool_mover_completed_total{mover=\"gone\",type="
                    "\"archive\",result=\"succeeded\"}"),
            0);
  // The totals keep it.
  EXPECT_EQ(metrics_.completed(ItemType::kArchive, true), 1u);
}

TEST_F(ServerMetricsTest, StoreWriteLatencyHistogram) {
  metrics_.StoreWrite(0.0004);
  metrics_.StoreWrite(0.02);
  const std::string text = metrics_.Render(MetricsView{});
  EXPECT_EQ(ValueOf(text,
                    "coordinatool_store_write_seconds_bucket{le="
                    "\"0.0005\"}"),
            1);
  EXPECT_EQ(
      ValueOf(text, "coordinatool_store_write_seconds_bucket{le=\"0.025\"}"),
      2);
  EXPECT_EQ(ValueOf(text, "coordinatool_store_write_seconds_count"), 2);
}

TEST_F(ServerMetricsTest, SchedulerStateInTheView) {
  Scheduler s;
  protocol::WireItem old = test::MakeItem(HSMA_RESTORE, 1, 2);
  old.timestamp_ns = clock_.UnixNanos();
  ASSERT_TRUE(s.Enqueue(old));
  protocol::WireItem young = test::MakeItem(HSMA_RESTORE, 2, 2);
  young.timestamp_ns = clock_.UnixNanos() + 5 * kSecondNs;
  ASSERT_TRUE(s.Enqueue(young));
  ASSERT_TRUE(s.Enqueue(test::MakeItem(HSMA_ARCHIVE, 3, 1)));
  MoverLimits one;
  one.max_running = {0, 0, 1};
  ASSERT_EQ(s.Dispatch("m1", {}, one, 1, clock_.UnixNanos()).items.size(), 1u);
  clock_.Advance(30s);
  MetricsView view;
  AddSchedulerState(s, &view);
  // Nothing waits with archive id 1: reported as 0 once received.
  EXPECT_EQ(ValueOf(metrics_.Render(view),
                    "coordinatool_requests_waiting{type=\"archive\","
                    "archive_id=\"1\"}"),
            -1);
  metrics_.Received(ItemType::kArchive, RequestSource::kLustre, 1);
  const std::string text = metrics_.Render(view);
  auto v = [&](const std::string& series) { return ValueOf(text, series); };
  EXPECT_EQ(v("coordinatool_requests_waiting{type=\"restore\",archive_id="
              "\"2\"}"),
            2);
  EXPECT_EQ(v("coordinatool_requests_waiting{type=\"archive\",archive_id="
              "\"1\"}"),
            0);
  EXPECT_EQ(v("coordinatool_requests_running{type=\"archive\",mover="
              "\"m1\"}"),
            1);
  EXPECT_EQ(v("coordinatool_oldest_waiting_age_seconds{type=\"restore\"}"), 30);
  // In the Scheduler only (no mover table here): not listed as connected.
  EXPECT_EQ(text.find("coordinatool_mover_connected{"), std::string::npos);
}

}  // namespace
}  // namespace server

namespace server {
namespace {

TEST(ServerMetricsHaTest, HaFamiliesOnlyWithHighAvailability) {
  common::ManualClock clock;
  ServerMetrics metrics(clock, "1.0");
  EXPECT_EQ(metrics.Render(MetricsView{}).find("coordinatool_ha_"),
            std::string::npos);
  MetricsView view;
  view.ha = HaStatusView{
      "leader", 7, 2500, "cdt1:5123", 1'700'000'000'000'000'000, 1250};
  const std::string text = metrics.Render(view);
  EXPECT_EQ(ValueOf(text, "coordinatool_ha_leader"), 1);
  EXPECT_EQ(ValueOf(text, "coordinatool_ha_epoch"), 7);
  EXPECT_EQ(ValueOf(text, "coordinatool_ha_lease_remaining_seconds"), 2.5);
  EXPECT_EQ(ValueOf(text, "coordinatool_ha_last_takeover_timestamp_seconds"),
            1.7e9);
  EXPECT_EQ(ValueOf(text, "coordinatool_ha_last_takeover_seconds"), 1.25);
  view.ha->role = "standby";
  EXPECT_EQ(ValueOf(metrics.Render(view), "coordinatool_ha_leader"), 0);
}

}  // namespace
}  // namespace server
