// blocking_wait_bench: how long an interactive restore (a process blocked
// on a released file: HSM_REQ_BLOCKING) waits behind a real backlog, end
// to end (issue 16's goal: p99 under 1 s), through sim-mdt, the coordinatool
// server and movers.
//
// The run: sim-mdt on a temp mount and `coordinatool` registered on it with
// `restore_blocking_share` (--share); a backlog of --archives archives and
// --bulk bulk restores queued with the `queue` command (made-up requests,
// as coordinatool_bench's queue injection; Lustre is not asked about
// them); then --movers movers that each run up to --mover-restores
// restores and --mover-archives archives at once and take --service-ms for
// every reply they get (a copy's time; then `done` for all of it and the
// next `recv`). Once they run, --blocking real files (archived, released)
// get a restore each from sim-mdt with HSM_REQ_BLOCKING, --rate per
// second, as a reader's open would make.
//
// Measured for each blocking restore: from its llapi_hsm_request call
// (sim-mdt hands a new request to the coordinator at once) to the moment a
// mover reads it in a `recv` reply: Lustre's send to dispatch, both
// clocks read in this process. The backlog left at the end shows it was
// still there. A benchmark, not a test: nothing is asserted.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/support/percentiles.h"
#include "bench/support/sim_files.h"
#include "client/session.h"
#include "hsm/fid.h"
#include "hsm/lustreapi.h"
#include "protocol/action_item.h"
#include "protocol/messages.h"
#include "tests/support/process.h"
#include "tests/support/sim_daemon.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace {

namespace json = boost::json;
using testing_support::Process;

struct Config {
  int64_t archives = 1'000'000;
  int64_t bulk = 100'000;
  int movers = 16;
  int mover_restores = 4;
  int mover_archives = 16;
  int service_ms = 300;
  int blocking = 400;
  double rate = 40;  // blocking restores per second
  int share = 90;
  int batch = 1000;
  int timeout_s = 600;
  std::string json_path = "blocking_wait_bench.json";
  std::string mdt = SIM_MDT_BIN;
  std::string server = COORDINATOOL_BIN;
};

int64_t RealtimeNanos() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The server's status counter `key`, or -1.
int64_t StatusCounter(int port, const std::string& key) {
  client::Session session;
  json::object reply;
  std::string error;
  if (!session.Connect("127.0.0.1", std::to_string(port), &error) ||
      !session.Call({{"command", "status"}}, &reply, 30'000, &error))
    return -1;
  const json::value* v = reply.if_contains(key);
  return v && v->is_number() ? v->to_number<int64_t>() : -1;
}

// Made-up requests with the `queue` command: `count` items of `action`
// (HSMA_*), FIDs [0x300000401:first..]. "" or the error.
std::string Queue(const Config& config, int port, int action, int64_t first,
                  int64_t count) {
  client::Session session;
  std::string error;
  if (!session.Connect("127.0.0.1", std::to_string(port), &error)) return error;
  for (int64_t next = first; next < first + count;) {
    const int64_t end = std::min(first + count, next + config.batch);
    std::string text = R"({"command":"queue","hsm_action_items":[)";
    for (int64_t i = next; i < end; ++i) {
      if (i != next) text += ',';
      text += fmt::format(
          R"({{"hai_action":{},"hai_fid":{{"f_seq":{},"f_oid":{},"f_ver":0}},)"
          R"("hai_dfid":{{"f_seq":{},"f_oid":{},"f_ver":0}},)"
          R"("hai_extent_offset":0,"hai_extent_length":-1,"hai_cookie":{},)"
          R"("hai_gid":0,"hai_data":"","hal_archive_id":1,"hal_flags":0}})",
          action, 0x300000401, i + 1, 0x300000401, i + 1, (1LL << 40) + i);
    }
    text += "]}";
    json::object reply;
    if (!session.SendText(text, &error) ||
        !session.Receive(&reply, config.timeout_s * 1000, &error))
      return error;
    if (client::ReplyStatus(reply) != 0)
      return "queue refused: " + json::serialize(reply);
    next = end;
  }
  return "";
}

// Movers that hold each reply for the service time, then report it done.
class SlowMovers {
 public:
  SlowMovers(const Config& config, int port) : config_(config), port_(port) {}
  ~SlowMovers() { Stop(); }

  std::string Start() {
    for (int i = 0; i < config_.movers; ++i) {
      auto session = std::make_unique<client::Session>();
      std::string error;
      json::object reply;
      protocol::EhloRequest ehlo;
      ehlo.id = fmt::format("slow-{}", i);
      if (!session->Connect("127.0.0.1", std::to_string(port_), &error) ||
          !session->Call(protocol::ToJson(ehlo), &reply, 10'000, &error))
        return error;
      sessions_.push_back(std::move(session));
    }
    for (auto& session : sessions_)
      threads_.emplace_back([this, s = session.get()] { Run(s); });
    return "";
  }

  void Stop() {
    stop_ = true;
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

  // A blocking restore of `fid` was sent to Lustre at `sent_ns`.
  void Sent(const lu_fid& fid, int64_t sent_ns) {
    std::lock_guard lock(mu_);
    sent_[hsm::FormatFid(fid)] = sent_ns;
  }
  // Waits of the blocking restores read so far (ns).
  std::vector<int64_t> Waits() const {
    std::lock_guard lock(mu_);
    return waits_;
  }
  uint64_t items() const { return items_.load(); }
  std::string error() const {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  void Fail(const std::string& why) {
    std::lock_guard lock(mu_);
    if (error_.empty()) error_ = why;
  }

  void Run(client::Session* session) {
    const std::string recv = json::serialize(protocol::ToJson(
        protocol::RecvRequest{config_.mover_archives, config_.mover_restores, 0,
                              hsm::kHalMaxSize}));
    std::string error;
    if (!session->SendText(recv, &error)) return Fail(error);
    while (!stop_) {
      json::object m;
      if (!session->Receive(&m, 50, &error)) {
        if (error == "timed out") continue;
        if (!stop_) Fail(error);
        return;
      }
      protocol::Command command;
      std::string name;
      if (client::ReplyStatus(m) != 0 ||
          protocol::ReadCommand(m, &command, &name, &error) ==
              protocol::CommandRead::kMissing)
        return Fail("server replied " + json::serialize(m));
      if (name != protocol::CommandName(protocol::Command::kRecv)) continue;
      const int64_t now = RealtimeNanos();
      protocol::RecvReply reply;
      if (!protocol::Parse(m, &reply, &error)) return Fail(error);
      std::string out;
      for (const protocol::ListEntry& entry : reply.list) {
        if (!entry.ok()) return Fail(entry.error);
        const protocol::WireItem& item = entry.item;
        ++items_;
        if (item.hal_flags & HSM_REQ_BLOCKING) {
          std::lock_guard lock(mu_);
          auto it = sent_.find(hsm::FormatFid(item.item.hai.hai_fid));
          if (it != sent_.end()) {
            waits_.push_back(now - it->second);
            sent_.erase(it);
          }
        }
        protocol::DoneRequest done;
        done.id = protocol::ItemId::Of(item.item.hai);
        out += json::serialize(protocol::ToJson(done));
      }
      // The copies' time, then their ends and the next recv in one write.
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(config_.service_ms);
      while (!stop_ && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      out += recv;
      if (!session->SendText(out, &error)) {
        if (!stop_) Fail(error);
        return;
      }
    }
  }

  const Config& config_;
  const int port_;
  std::vector<std::unique_ptr<client::Session>> sessions_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> items_{0};
  mutable std::mutex mu_;
  std::map<std::string, int64_t> sent_;  // GUARDED_BY(mu_)
  std::vector<int64_t> waits_;           // GUARDED_BY(mu_)
  std::string error_;                    // GUARDED_BY(mu_)
};

// Marks the files archived (archive 1) and releases them, so that Lustre
// takes restores of them. "" or the error.
std::string ArchivedAndReleased(const std::string& mount,
                                const std::vector<lu_fid>& fids) {
  for (const lu_fid& fid : fids) {
    const std::string path =
        mount + "/.lustre/fid/" + hsm::FormatFidNoBrace(fid);
    int rc = llapi_hsm_state_set(path.c_str(), HS_EXISTS | HS_ARCHIVED, 0, 1);
    if (rc < 0) return fmt::format("hsm_state_set: {}", strerror(-rc));
    hsm_user_request* hur = llapi_hsm_user_request_alloc(1, 0);
    hur->hur_request = {HUA_RELEASE, 1, 0, 1, 0};
    hur->hur_user_item[0] = {fid, {0, LUSTRE_EOF}};
    rc = llapi_hsm_request(path.c_str(), hur);
    std::free(hur);
    if (rc < 0) return fmt::format("release: {}", strerror(-rc));
  }
  return "";
}

std::string Run(const Config& config, json::object* result) {
  testing_support::TempDir dir("blocking-wait-bench");
  const std::string mount = dir.Join("mnt");
  mkdir(mount.c_str(), 0755);
  testing_support::SimDaemon mdt(config.mdt, mount, "lustre", dir.path());
  std::string error =
      mdt.Start({fmt::format("hsm.max_requests={}", config.blocking + 1000),
                 "hsm.min_scan_interval_ms=1", "hsm.loop_period=10",
                 "hsm.active_request_timeout=86400"});
  if (!error.empty()) return "sim-mdt: " + error;
  const std::vector<lu_fid> files = bench::CreateFiles(mount, config.blocking);
  if (static_cast<int>(files.size()) != config.blocking)
    return "cannot create the files";
  if (error = ArchivedAndReleased(mount, files); !error.empty()) return error;

  const std::string conf = dir.Join("coordinatool.conf");
  std::ofstream(conf) << "restore_blocking_share " << config.share << "\n";
  const std::string log = dir.Join("coordinatool.log");
  testing_support::SpawnOptions options;
  options.stdout_path = options.stderr_path = log;
  options.env = {{"COORDINATOOL_REDIS_HOST", ""},
                 {"COORDINATOOL_QUEUE_CHECK_LUSTRE", "false"}};
  Process server =
      Process::Spawn({config.server, "-H", "127.0.0.1", "-p", "0", "-c", conf,
                      "--store", "none", "--handshake-timeout", "0", mount},
                     options, &error);
  if (server.pid() < 0) return error;
  std::smatch match;
  const std::regex serving(R"(serving .* on 127\.0\.0\.1:(\d+))");
  if (!testing_support::WaitFor(
          [&] {
            const std::string text = ReadFile(log);
            return std::regex_search(text, match, serving);
          },
          std::chrono::seconds(60), std::chrono::milliseconds(10)))
    return "coordinatool did not start: " + ReadFile(log);
  const int port = std::stoi(match[1]);

  const auto t0 = std::chrono::steady_clock::now();
  if (error = Queue(config, port, HSMA_ARCHIVE, 0, config.archives);
      !error.empty())
    return error;
  if (error = Queue(config, port, HSMA_RESTORE, config.archives, config.bulk);
      !error.empty())
    return error;
  (*result)["queue_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();

  SlowMovers movers(config, port);
  if (error = movers.Start(); !error.empty()) return error;
  // The movers busy first: every one has had a reply.
  testing_support::WaitFor(
      [&] {
        return movers.items() >=
               static_cast<uint64_t>(config.movers) *
                   (config.mover_restores + config.mover_archives);
      },
      std::chrono::seconds(60), std::chrono::milliseconds(10));
  const auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(1.0 / config.rate));
  auto next = std::chrono::steady_clock::now();
  for (const lu_fid& fid : files) {
    std::this_thread::sleep_until(next);
    next += period;
    hsm_user_request* hur = llapi_hsm_user_request_alloc(1, 0);
    hur->hur_request = {HUA_RESTORE, 1, HSM_REQ_BLOCKING, 1, 0};
    hur->hur_user_item[0] = {fid, {0, LUSTRE_EOF}};
    movers.Sent(fid, RealtimeNanos());
    const int rc = llapi_hsm_request(mount.c_str(), hur);
    std::free(hur);
    if (rc < 0) return fmt::format("restore request: {}", strerror(-rc));
  }
  // The last ones get their turn (or the run says how many did not).
  testing_support::WaitFor(
      [&] {
        return static_cast<int>(movers.Waits().size()) >= config.blocking;
      },
      std::chrono::seconds(std::max(10, config.service_ms / 100)),
      std::chrono::milliseconds(10));
  const std::vector<int64_t> waits = movers.Waits();
  const int64_t pending_restore = StatusCounter(port, "pending_restore");
  const int64_t pending_archive = StatusCounter(port, "pending_archive");
  movers.Stop();
  server.Kill();
  if (!movers.error().empty()) return "mover: " + movers.error();

  // -1: no blocking restore was dispatched.
  auto ms = [&](int64_t ns) { return waits.empty() ? -1.0 : ns / 1e6; };
  const bench::Percentiles wait = bench::Summarize(waits);
  (*result)["blocking_sent"] = config.blocking;
  (*result)["blocking_dispatched"] = waits.size();
  (*result)["wait_ms"] = {
      {"p50", ms(wait.p50)}, {"p99", ms(wait.p99)}, {"max", ms(wait.max)}};
  (*result)["pending_restore_at_end"] = pending_restore;
  (*result)["pending_archive_at_end"] = pending_archive;
  (*result)["items_dispatched"] = movers.items();
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app{"coordinatool: wait of blocking restores behind a backlog"};
  app.add_option("--archives", config.archives, "archives queued first");
  app.add_option("--bulk", config.bulk, "bulk restores queued first");
  app.add_option("--movers", config.movers, "movers");
  app.add_option("--mover-restores", config.mover_restores,
                 "restores a mover runs at once");
  app.add_option("--mover-archives", config.mover_archives,
                 "archives a mover runs at once");
  app.add_option("--service-ms", config.service_ms,
                 "time a mover takes for each reply");
  app.add_option("--blocking", config.blocking, "blocking restores sent");
  app.add_option("--rate", config.rate, "blocking restores per second");
  app.add_option("--share", config.share, "restore_blocking_share");
  app.add_option("--timeout", config.timeout_s, "seconds for each step");
  app.add_option("--json", config.json_path, "result file");
  app.add_option("--mdt", config.mdt, "sim-mdt binary");
  app.add_option("--server", config.server, "coordinatool binary");
  CLI11_PARSE(app, argc, argv);
  json::object result{{"benchmark", "blocking_wait_e2e"},
                      {"archives", config.archives},
                      {"bulk_restores", config.bulk},
                      {"movers", config.movers},
                      {"mover_restores", config.mover_restores},
                      {"mover_archives", config.mover_archives},
                      {"service_ms", config.service_ms},
                      {"rate_per_s", config.rate},
                      {"share", config.share}};
  const std::string error = Run(config, &result);
  if (!error.empty()) {
    fmt::print(stderr, "blocking_wait_bench: {}\n", error);
    return 1;
  }
  std::ofstream(config.json_path) << json::serialize(result) << "\n";
  const json::object& w = result.at("wait_ms").as_object();
  fmt::print(
      "blocking restores dispatched {} of {}; wait p50 {} ms, p99 {} ms, max "
      "{} ms; left queued: {} restores, {} archives\n",
      json::serialize(result.at("blocking_dispatched")), config.blocking,
      json::serialize(w.at("p50")), json::serialize(w.at("p99")),
      json::serialize(w.at("max")),
      json::serialize(result.at("pending_restore_at_end")),
      json::serialize(result.at("pending_archive_at_end")));
  return 0;
}
