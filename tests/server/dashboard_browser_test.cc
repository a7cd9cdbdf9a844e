// The web dashboard in a real browser: headless Chromium loads the page of
// a server on the simulator after a scripted workload and must show the
// live numbers (asserted on the DOM it renders); a screenshot is kept as
// a CI artefact (ARTEFACT_DIR/dashboard.png, its path in the test log).
//
// The workload: mover m1 archives 5 files and restores 2 of them (2
// restore waits recorded), then stops; 3 restores and 4 archives are asked
// for with no mover to run them: they wait, and m1 stays listed as
// disconnected within its grace time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

constexpr const char* kChromium = "/usr/bin/chromium";

// chromium --headless with the flags a root CI runner and a machine
// without network need, a fresh profile each time.
std::vector<std::string> Chromium(const std::string& profile) {
  return {kChromium,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--disable-dev-shm-usage",
          "--user-data-dir=" + profile};
}

// The text of the element with id `id` in `dom` ("" when absent).
std::string TextOf(const std::string& dom, const std::string& id) {
  std::smatch match;
  std::regex re("id=\"" + id + "\"[^>]*>([^<]*)<");
  return std::regex_search(dom, match, re) ? match[1].str() : "";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

json::object Dashboard(int port) {
  HttpResult result = HttpGet(port, "/api/dashboard");
  if (result.status != 200) return {};
  boost::system::error_code ec;
  json::value value = json::parse(result.body, ec);
  return ec || !value.is_object() ? json::object() : value.as_object();
}

uint64_t Waiting(const json::object& d, const char* type) {
  if (!d.contains("totals")) return 0;
  return d.at("totals").at(type).at("waiting").to_number<uint64_t>();
}

TEST(DashboardBrowserTest, PageShowsTheLiveNumbers) {
  ASSERT_TRUE(std::filesystem::exists(kChromium))
      << kChromium
      << " is missing: the dashboard's browser test needs Chromium "
         "(Debian package chromium; scripts/setup installs it)";
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon());
  CoordinatoolSetup cdt(sim);
  cdt.EnableHttp();
  ASSERT_TRUE(cdt.StartServer());
  Process* mover = cdt.StartMover("m1");
  ASSERT_NE(mover, nullptr);
  std::vector<std::string> done = sim.ArchiveNewFiles("done", 5, "");
  for (const std::string& path : done)
    ASSERT_TRUE(sim.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"));
  RunLfs(sim, "hsm_release", done);
  std::vector<std::string> restored(done.begin(), done.begin() + 2);
  std::vector<std::string> waiting(done.begin() + 2, done.end());
  RunLfs(sim, "hsm_restore", restored);
  for (const std::string& path : restored)
    ASSERT_TRUE(sim.WaitForStatus(FidOf(path), "RESTORE", "SUCCEED"));
  mover->Kill();
  ASSERT_TRUE(WaitFor([&] {
    json::object d = Dashboard(cdt.http_port());
    return d.contains("movers") && !d.at("movers").as_array().empty() &&
           d.at("movers").as_array()[0].at("state") == "disconnected";
  }));
  RunLfs(sim, "hsm_restore", waiting);
  sim.ArchiveNewFiles("queued", 4, "");
  ASSERT_TRUE(WaitFor([&] {
    json::object d = Dashboard(cdt.http_port());
    return Waiting(d, "restore") == 3 && Waiting(d, "archive") == 4;
  })) << json::serialize(Dashboard(cdt.http_port()));

  // The page as the browser renders it, until it shows what the server
  // holds (the first poll may race the page's start): a bounded number of
  // loads.
  const std::string url =
      "http://127.0.0.1:" + std::to_string(cdt.http_port()) + "/";
  TempDir profiles;
  std::string dom;
  bool shown = false;
  for (int attempt = 0; attempt < 10 && !shown; ++attempt) {
    std::vector<std::string> argv =
        Chromium(profiles.Join("dom" + std::to_string(attempt)));
    argv.insert(argv.end(), {"--virtual-time-budget=5000", "--dump-dom", url});
    CommandResult r = RunCommand(argv, std::chrono::seconds(60));
    ASSERT_TRUE(r.ok()) << r.Describe();
    dom = r.out;
    shown = dom.find("data-loaded=\"1\"") != std::string::npos &&
            TextOf(dom, "waiting-restore") == "3" &&
            TextOf(dom, "waiting-archive") == "4";
  }
  ASSERT_TRUE(shown) << dom;
  EXPECT_EQ(TextOf(dom, "waiting-remove"), "0");
  EXPECT_EQ(TextOf(dom, "done-archive"), "5");
  EXPECT_EQ(TextOf(dom, "done-restore"), "2");
  EXPECT_EQ(TextOf(dom, "running-restore"), "0");
  EXPECT_EQ(TextOf(dom, "restore-count"), "2");
  EXPECT_NE(TextOf(dom, "restore-p50"), "–");
  EXPECT_EQ(TextOf(dom, "lock-state"), "unlocked");
  EXPECT_NE(dom.find("data-writable=\"true\""), std::string::npos);
  EXPECT_EQ(TextOf(dom, "mover-count"), "1");
  EXPECT_NE(dom.find("data-mover=\"m1\" data-state=\"disconnected\""),
            std::string::npos)
      << dom;
  // The three waiting restores, oldest first, by their FIDs.
  for (const std::string& path : waiting)
    EXPECT_NE(dom.find("data-fid=\"" + FidOf(path) + "\""), std::string::npos)
        << FidOf(path);
  EXPECT_NE(dom.find("id=\"oldest-restore\" data-count=\"3\""),
            std::string::npos);
  EXPECT_NE(dom.find("id=\"oldest-archive\" data-count=\"4\""),
            std::string::npos);
  // The chart: a line per type over the samples taken so far.
  EXPECT_EQ(Count(dom, "<polyline"), 3u);
  EXPECT_NE(dom.find("id=\"backlog-chart\""), std::string::npos);

  // The screenshot, kept for CI.
  std::filesystem::create_directories(ARTEFACT_DIR);
  const std::string png = std::string(ARTEFACT_DIR) + "/dashboard.png";
  std::filesystem::remove(png);
  std::vector<std::string> argv = Chromium(profiles.Join("shot"));
  argv.insert(argv.end(),
              {"--virtual-time-budget=5000", "--window-size=1280,1000",
               "--screenshot=" + png, url});
  CommandResult shot = RunCommand(argv, std::chrono::seconds(60));
  ASSERT_TRUE(shot.ok()) << shot.Describe();
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 10000u);
  std::cout << "dashboard screenshot: " << png << std::endl;
}

}  // namespace
}  // namespace testing_support
