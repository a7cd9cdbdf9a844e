// The Prometheus metrics of a real server on the simulator, scraped over
// its HTTP listener (http_port) after a scripted workload run by ct-posix
// movers: every count must match what was done (docs/monitoring.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/http_client.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

using namespace std::chrono_literals;

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.StartDaemon());
    cdt_.EnableHttp();
    ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000"}));
  }

  // One scrape; the test fails if it is not a 200.
  std::string Scrape() {
    HttpResult result = HttpGet(cdt_.http_port(), "/metrics");
    EXPECT_EQ(result.status, 200) << result.error;
    EXPECT_EQ(
        result.header("content-type").rfind("text/plain; version=0.0.4", 0),
        0u);
    return result.body;
  }

  // The value of series `series` (name and labels exactly as rendered) in
  // `text`; -1 if absent.
  static double Value(const std::string& text, const std::string& series) {
    size_t at = 0;
    while ((at = text.find(series + " ", at)) != std::string::npos) {
      if (at == 0 || text[at - 1] == '\n')
        return std::stod(text.substr(at + series.size() + 1));
      at += series.size();
    }
    return -1;
  }
  // The sum of every sample of `name` whose labels contain all of
  // `labels` (each `key="value"`).
  static double Sum(const std::string& text, const std::string& name,
                    const std::vector<std::string>& labels = {}) {
    double sum = 0;
    std::regex line("^" + name + "(\\{[^}]*\\})? (\\S+)$");
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
      std::smatch m;
      if (!std::regex_match(l, m, line)) continue;
      bool all = true;
      for (const std::string& label : labels)
        all = all && m[1].str().find(label) != std::string::npos;
      if (all) sum += std::stod(m[2].str());
    }
    return sum;
  }

  std::vector<std::string> MakeFiles(const std::string& name, int count) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      std::string path = sim_.Path(name + std::to_string(i));
      EXPECT_TRUE(WriteTestFile(path, 4096 + i, 77 + i).has_value()) << path;
      paths.push_back(path);
    }
    return paths;
  }
  void Lfs(const std::string& command, const std::vector<std::string>& paths) {
    RunLfs(sim_, command, paths);
  }
  ::testing::AssertionResult WaitForCount(const std::string& action,
                                          const std::string& status,
                                          size_t count) {
    if (WaitFor([&] { return sim_.CountActions(action, status) >= count; },
                120s))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << action << " " << status << ": "
                                         << sim_.CountActions(action, status)
                                         << " of " << count << "; logs:\n"
                                         << cdt_.Logs();
  }
  // Deletes the archived copy of `path` (ct-posix names it by the FID
  // without brackets): its restore fails.
  void LoseArchivedCopy(const std::string& path) {
    std::string fid = FidOf(path);
    fid = fid.substr(1, fid.size() - 2);
    size_t removed = 0;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(sim_.archive()))
      if (entry.is_regular_file() &&
          entry.path().filename().string().rfind(fid, 0) == 0)
        removed += std::filesystem::remove(entry.path());
    ASSERT_GE(removed, 1u) << fid;
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
};

// Issue 14: after 7 archives, 4 restores (one of them failing: its archived
// copy is gone) and 2 removes through two movers, each metric says exactly
// that.
TEST_F(MetricsTest, CountsMatchAScriptedWorkload) {
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_NE(cdt_.StartMover("m2"), nullptr);
  auto files = MakeFiles("f", 7);
  Lfs("hsm_archive", files);
  ASSERT_TRUE(WaitForCount("ARCHIVE", "SUCCEED", 7));
  std::vector<std::string> restored(files.begin(), files.begin() + 4);
  LoseArchivedCopy(files[3]);
  Lfs("hsm_release", restored);
  Lfs("hsm_restore", restored);
  ASSERT_TRUE(WaitForCount("RESTORE", "SUCCEED", 3));
  ASSERT_TRUE(WaitForCount("RESTORE", "FAILED", 1));
  Lfs("hsm_remove", {files[5], files[6]});
  ASSERT_TRUE(WaitForCount("REMOVE", "SUCCEED", 2));
  // The server counts a request done once its mover's done is read, which
  // may follow Lustre's record by a moment.
  std::string text;
  ASSERT_TRUE(WaitFor(
      [&] {
        text = Scrape();
        return Sum(text, "coordinatool_requests_completed_total") == 13;
      },
      30s))
      << text;

  auto v = [&](const std::string& series) { return Value(text, series); };
  EXPECT_EQ(v("coordinatool_requests_received_total{type=\"archive\",source="
              "\"lustre\"}"),
            7);
  EXPECT_EQ(v("coordinatool_requests_received_total{type=\"restore\",source="
              "\"lustre\"}"),
            4);
  EXPECT_EQ(v("coordinatool_requests_received_total{type=\"remove\",source="
              "\"lustre\"}"),
            2);
  EXPECT_EQ(
      Sum(text, "coordinatool_requests_received_total", {"source=\"queue\""}),
      0);
  EXPECT_EQ(v("coordinatool_requests_completed_total{type=\"archive\",result="
              "\"succeeded\"}"),
            7);
  EXPECT_EQ(v("coordinatool_requests_completed_total{type=\"restore\",result="
              "\"succeeded\"}"),
            3);
  EXPECT_EQ(v("coordinatool_requests_completed_total{type=\"restore\",result="
              "\"failed\"}"),
            1);
  EXPECT_EQ(v("coordinatool_requests_completed_total{type=\"remove\",result="
              "\"succeeded\"}"),
            2);
  EXPECT_EQ(
      Sum(text, "coordinatool_requests_completed_total", {"result=\"failed\""}),
      1);
  // The movers' shares add up to the totals, and each did some work.
  for (const char* type : {"archive", "restore", "remove"}) {
    for (const char* result : {"succeeded", "failed"}) {
      const std::string t = std::string("type=\"") + type + "\"";
      const std::string r = std::string("result=\"") + result + "\"";
      EXPECT_EQ(Sum(text, "coordinatool_mover_completed_total", {t, r}),
                Sum(text, "coordinatool_requests_completed_total", {t, r}))
          << type << " " << result;
    }
  }
  EXPECT_EQ(Sum(text, "coordinatool_mover_completed_total"), 13);
  // Nothing waits or runs any more.
  EXPECT_EQ(Sum(text, "coordinatool_requests_waiting"), 0);
  EXPECT_EQ(v("coordinatool_requests_waiting{type=\"archive\",archive_id="
              "\"1\"}"),
            0);
  EXPECT_EQ(Sum(text, "coordinatool_requests_running"), 0);
  for (const char* type : {"archive", "restore", "remove"})
    EXPECT_EQ(v(std::string("coordinatool_oldest_waiting_age_seconds{type=\"") +
                type + "\"}"),
              0);
  // Each request was sent once and ran once: the histograms count them.
  EXPECT_EQ(v("coordinatool_dispatch_wait_seconds_count{type=\"archive\"}"), 7);
  EXPECT_EQ(v("coordinatool_dispatch_wait_seconds_count{type=\"restore\"}"), 4);
  EXPECT_EQ(v("coordinatool_dispatch_wait_seconds_count{type=\"remove\"}"), 2);
  EXPECT_EQ(v("coordinatool_dispatch_wait_seconds_bucket{type=\"restore\","
              "le=\"+Inf\"}"),
            4);
  EXPECT_EQ(v("coordinatool_run_seconds_count{type=\"archive\"}"), 7);
  EXPECT_EQ(v("coordinatool_run_seconds_count{type=\"restore\"}"), 4);
  EXPECT_EQ(v("coordinatool_run_seconds_count{type=\"remove\"}"), 2);
  EXPECT_GT(v("coordinatool_run_seconds_sum{type=\"archive\"}"), 0);
  // The store (the embedded journal) kept up, and was timed.
  EXPECT_EQ(v("coordinatool_store_writable"), 1);
  EXPECT_GT(v("coordinatool_store_write_seconds_count"), 0);
  EXPECT_EQ(v("coordinatool_dispatch_locked"), 0);
  EXPECT_EQ(v("coordinatool_mover_connected{mover=\"m1\"}"), 1);
  EXPECT_EQ(v("coordinatool_mover_connected{mover=\"m2\"}"), 1);
  EXPECT_EQ(v("coordinatool_mover_draining{mover=\"m1\"}"), 0);
  EXPECT_EQ(v("coordinatool_connections{kind=\"mover\"}"), 2);
  EXPECT_EQ(v("coordinatool_report_errors_total"), 0);
  EXPECT_EQ(v("coordinatool_locality_errors_total"), 0);
  EXPECT_GT(v("process_open_fds"), 0);
  EXPECT_GT(v("process_resident_memory_bytes"), 0);
  EXPECT_GE(v("process_max_fds"), v("process_open_fds"));
  EXPECT_GT(v("process_start_time_seconds"), 1.5e9);
}

// Issue 14: a backlog behind the lock: waiting by type and archive id, the
// lock state, and the oldest request's age growing until it is sent.
TEST_F(MetricsTest, BacklogWhileLocked) {
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  auto files = MakeFiles("b", 5);
  Lfs("hsm_archive", {files[0], files[1], files[2]});
  ASSERT_TRUE(
      sim_.Lfs({"hsm_archive", "--archive", "2", files[3], files[4]}).ok());
  std::string text;
  ASSERT_TRUE(WaitFor([&] {
    text = Scrape();
    return Sum(text, "coordinatool_requests_waiting") == 5;
  })) << text;
  EXPECT_EQ(Value(text, "coordinatool_dispatch_locked"), 1);
  EXPECT_EQ(Value(text,
                  "coordinatool_requests_waiting{type=\"archive\","
                  "archive_id=\"1\"}"),
            3);
  EXPECT_EQ(Value(text,
                  "coordinatool_requests_waiting{type=\"archive\","
                  "archive_id=\"2\"}"),
            2);
  EXPECT_EQ(Value(text,
                  "coordinatool_requests_waiting{type=\"restore\","
                  "archive_id=\"2\"}"),
            0);
  EXPECT_EQ(Sum(text, "coordinatool_requests_running"), 0);
  // The oldest archive's age grows with real time (read twice, bounded).
  const std::string age =
      "coordinatool_oldest_waiting_age_seconds{type=\"archive\"}";
  const double first = Value(text, age);
  EXPECT_GE(first, 0);
  double later = first;
  ASSERT_TRUE(WaitFor(
      [&] {
        later = Value(Scrape(), age);
        return later >= first + 1;
      },
      30s))
      << later;
  EXPECT_EQ(Value(text,
                  "coordinatool_oldest_waiting_age_seconds{type="
                  "\"restore\"}"),
            0);
  // Unlocked: all sent and done; the backlog is gone.
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  ASSERT_TRUE(WaitForCount("ARCHIVE", "SUCCEED", 5));
  ASSERT_TRUE(WaitFor([&] {
    text = Scrape();
    return Sum(text, "coordinatool_requests_completed_total") == 5;
  })) << text;
  EXPECT_EQ(Value(text, "coordinatool_dispatch_locked"), 0);
  EXPECT_EQ(Sum(text, "coordinatool_requests_waiting"), 0);
  EXPECT_EQ(Value(text, age), 0);
  // Each waited at least as long as the lock held it.
  EXPECT_GE(Value(text,
                  "coordinatool_dispatch_wait_seconds_sum{type="
                  "\"archive\"}"),
            5 * (later - 1));
  EXPECT_EQ(Value(text,
                  "coordinatool_mover_completed_total{mover=\"m1\","
                  "type=\"archive\",result=\"succeeded\"}"),
            5);
}

}  // namespace
}  // namespace testing_support
