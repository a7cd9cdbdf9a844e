// sim_throughput: end-to-end request throughput of the simulator. Starts
// sim-mdt on a temp mount, creates N files, registers an in-process no-op
// copytool (begin + end for each item), sends N ARCHIVE requests with
// llapi_hsm_request in batches of up to 52 items as fast as possible, and
// measures the time until the copytool has ended all N. Prints requests/s
// and writes a JSON result. A benchmark, not a test: nothing is asserted
// about the figure.
#include <fmt/format.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "bench/sim/noop_copytool.h"
#include "bench/support/sim_files.h"
#include "hsm/lustreapi.h"
#include "tests/support/sim_daemon.h"
#include "tests/support/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;
using bench::CreateFiles;

struct Config {
  int files = 20000;
  int batch = 52;
  int workers = 4;
  int timeout_s = 300;
  std::string json = "sim_throughput.json";
  std::string mdt = SIM_MDT_BIN;
};

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Sends ARCHIVE requests for `fids`, `batch` items each. Returns the number
// of failed llapi_hsm_request calls.
int SendRequests(const std::string& mount, const std::vector<lu_fid>& fids,
                 int batch) {
  int errors = 0;
  for (size_t i = 0; i < fids.size(); i += batch) {
    const int count =
        static_cast<int>(std::min<size_t>(batch, fids.size() - i));
    hsm_user_request* hur = llapi_hsm_user_request_alloc(count, 0);
    hur->hur_request.hr_action = HUA_ARCHIVE;
    hur->hur_request.hr_itemcount = count;
    for (int j = 0; j < count; ++j) {
      hur->hur_user_item[j].hui_fid = fids[i + j];
      hur->hur_user_item[j].hui_extent = {0, LUSTRE_EOF};
    }
    if (llapi_hsm_request(mount.c_str(), hur) < 0) ++errors;
    std::free(hur);
  }
  return errors;
}

// Checks that the coordinator recorded the work: every 100th file (and the
// last) is archived. Returns how many of those are not.
int CountUnarchived(const std::string& mount, int n) {
  std::vector<int> sample;
  for (int i = 0; i < n; i += 100) sample.push_back(i);
  sample.push_back(n - 1);
  int missing = 0;
  for (int i : sample) {
    const std::string path = fmt::format("{}/d{}/f{}", mount, i / 1000, i);
    hsm_user_state hus{};
    if (llapi_hsm_state_get(path.c_str(), &hus) < 0 ||
        (hus.hus_states & HS_ARCHIVED) == 0) {
      ++missing;
    }
  }
  return missing;
}

int Run(const Config& config) {
  testing_support::TempDir dir("sim-throughput");
  const std::string mount = dir.Join("mnt");
  const std::string logs = dir.Join("logs");
  mkdir(mount.c_str(), 0755);
  mkdir(logs.c_str(), 0755);
  testing_support::SimDaemon daemon(config.mdt, mount, "lustre", logs);
  const std::string error =
      daemon.Start({"hsm.max_requests=1000000", "hsm.min_scan_interval_ms=1",
                    "hsm.loop_period=10", "hsm.grace_delay=3600"});
  if (!error.empty()) {
    std::fprintf(stderr, "sim_throughput: %s\n", error.c_str());
    return 1;
  }
  const std::vector<lu_fid> fids = CreateFiles(mount, config.files);
  if (fids.size() != static_cast<size_t>(config.files)) {
    std::fprintf(stderr, "sim_throughput: cannot create the files\n");
    return 1;
  }
  bench::NoopCopytool copytool;
  if (int rc = copytool.Start(mount, config.workers); rc < 0) {
    std::fprintf(stderr, "sim_throughput: register: %d\n", rc);
    return 1;
  }

  const Clock::time_point start = Clock::now();
  const int request_errors = SendRequests(mount, fids, config.batch);
  const Clock::time_point sent = Clock::now();
  const bool done = copytool.WaitForCompletions(
      fids.size(), std::chrono::seconds(config.timeout_s));
  const Clock::time_point end = Clock::now();
  copytool.Stop();
  const int unarchived = CountUnarchived(mount, config.files);

  const double seconds = Seconds(end - start);
  const double rate = copytool.Completed() / seconds;
  std::printf(
      "sim_throughput: %d requests (batches of %d, %d copytool workers): "
      "sent in %.3f s, all ended in %.3f s: %.0f requests/s "
      "(completed %llu, failed %llu, request errors %d, sampled files not "
      "archived %d)\n",
      config.files, config.batch, config.workers, Seconds(sent - start),
      seconds, rate, static_cast<unsigned long long>(copytool.Completed()),
      static_cast<unsigned long long>(copytool.Failed()), request_errors,
      unarchived);
  std::ofstream json(config.json);
  json << fmt::format(
      "{{\"benchmark\": \"sim_throughput\", \"requests\": {}, "
      "\"batch\": {}, \"copytool_workers\": {}, \"send_seconds\": {:.6f}, "
      "\"total_seconds\": {:.6f}, \"requests_per_second\": {:.1f}, "
      "\"completed\": {}, \"failed\": {}, \"request_errors\": {}}}\n",
      config.files, config.batch, config.workers, Seconds(sent - start),
      seconds, rate, copytool.Completed(), copytool.Failed(), request_errors);
  return done && copytool.Completed() == fids.size() && unarchived == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app("sim_throughput: end-to-end HSM request throughput of sim-mdt");
  app.add_option("-n,--files", config.files, "requests (one file each)")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("-b,--batch", config.batch, "items per llapi_hsm_request")
      ->check(CLI::Range(1, 52));
  app.add_option("-w,--workers", config.workers, "copytool worker threads")
      ->check(CLI::Range(1, 256));
  app.add_option("--timeout", config.timeout_s, "seconds to wait for the end");
  app.add_option("--json", config.json, "result file");
  app.add_option("--mdt", config.mdt, "sim-mdt binary");
  CLI11_PARSE(app, argc, argv);
  llapi_msg_set_level(LLAPI_MSG_ERROR);
  return Run(config);
}
