// coordinatool_bench: end-to-end figures of the coordinatool server, bound
// by the coordinator (movers are NullMovers, which complete work at once).
//
// Starts sim-mdt on a temp mount and `coordinatool` registered on it, then
// one of three scenarios:
//
//   concurrent  the movers connect, then N ARCHIVE requests are injected at
//               full speed; measured from the first injection to the last
//               `done` acknowledged.
//   backlog     N requests are injected with no mover connected (RSS per
//               queued request), then the movers connect and drain them;
//               throughput is measured over the drain, at queue size N.
//   restart     N requests are queued, the server is killed (SIGKILL) and
//               started again on the same store; measured: time until its
//               status shows the N requests again. Needs a store.
//   status-dump N requests are queued with no mover connected, then the
//               full status dump (every queue) is asked for while another
//               connection sends small status requests: their round trips
//               show how long the dump stalls the server's event loop.
//   scrape      N requests are queued with no mover connected, then
//               /metrics is scraped over HTTP (http_port) --scrapes times
//               while another connection sends small status requests: the
//               scrape's time and how long it stalls the event loop.
//
// Injection: `--inject queue` sends the server's `queue` command (batches of
// --batch items, a window of --window batches in flight); `--inject sim`
// creates N files and sends llapi_hsm_request calls to sim-mdt, which hands
// the requests to coordinatool as Lustre does. With `sim`, a null mover's
// `done` does not reach Lustre unless --end-on-sim (then each item is also
// begun and ended on the mount: that measures the simulator's RPCs too).
//
// `--store NAME` is passed to the server as `--store NAME` when it has that
// option (and `--state-dir` a directory kept for the whole run, restarts
// included); a server without stores runs only as `none`. `--server-arg`
// passes anything else ("{dir}" in it is replaced by that directory), e.g.
// a Redis address or a policy configuration file.
//
// `--tls`: certificates are made at start in the run's directory (the
// openssl command), the server is given them (tls_cert, tls_key) and every
// client of the run (null movers, injector, status) speaks TLS and checks
// the server's certificate; `--tls-client-cert` adds mutual TLS (tls_ca,
// tls_client_cert required; each client shows a certificate).
//
// Output: one JSON object (--json) and a summary line. A benchmark, not a
// test: nothing is asserted about the figures.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
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
#include <fstream>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/e2e/null_mover.h"
#include "bench/e2e/proc_stats.h"
#include "bench/support/percentiles.h"
#include "bench/support/sim_files.h"
#include "client/session.h"
#include "hsm/lustreapi.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/sim_daemon.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using bench::CreateFiles;
using bench::Percentiles;
using bench::Summarize;
using testing_support::Process;

struct Config {
  std::string mode = "concurrent";
  std::string inject = "queue";
  int64_t requests = 100'000;
  int movers = 8;
  int batch = 1000;
  int window = 4;
  int data_bytes = 64;
  // Distinct hsm data strings: request i carries "tape=T<h>,user=u<h %
  // 100>," (h = i % hints) padded to data_bytes, so that batching (whose
  // hint is the whole data), host rules and fair share have something to
  // work on. 0: every request "xxx...".
  int hints = 0;
  int64_t max_bytes = 1 << 20;
  int64_t max_running = -1;
  bool end_on_sim = false;
  bool single_dones = false;  // never many dones per message
  // Movers through the real preload library: each a process running a
  // no-op copytool (noop_mover) under LD_PRELOAD, with this many workers.
  bool preload_movers = false;
  int preload_workers = 4;
#ifdef PRELOAD_LIB
  // The preload library the movers load (another build's, to compare).
  std::string preload_lib = PRELOAD_LIB;
#endif
  bool tls = false;
  bool tls_client_cert = false;  // implies tls
  std::string store = "none";
  std::vector<std::string> server_args;
  int timeout_s = 600;
  int scrapes = 50;
  std::string json_path = "coordinatool_bench.json";
  std::string mdt = SIM_MDT_BIN;
  std::string server = COORDINATOOL_BIN;
};

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Replace(std::string text, const std::string& from,
                    const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// True if the server binary lists `option` in its help.
// A loopback port free now (the kernel's pick), or 0.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

bool ServerHelpHas(const std::string& server, const std::string& option) {
  static const std::string help =
      testing_support::RunCommand({server, "--help"}).out;
  return help.find(option) != std::string::npos;
}

// The coordinatool server under test: its process, port and log.
class ServerUnderTest {
 public:
  ServerUnderTest(const Config& config, std::string mount, std::string dir)
      : config_(config), mount_(std::move(mount)), dir_(std::move(dir)) {}

  // TLS on the port from the next Start(): the server's certificate, and
  // the CA its clients' certificates must chain to ("": none asked).
  void set_tls(testing_support::CertAndKey cert, std::string client_ca) {
    tls_cert_ = std::move(cert);
    tls_client_ca_ = std::move(client_ca);
  }
  // How this run's clients connect (Known() included).
  void set_client_tls(client::TlsOptions tls) { client_tls_ = std::move(tls); }
  const client::TlsOptions& client_tls() const { return client_tls_; }
  // The HTTP listener on `port` from the next Start() (0: off).
  void set_http_port(int port) { http_port_ = port; }
  int http_port() const { return http_port_; }

  // Starts the server (again) and waits until it serves. "" or the error.
  std::string Start() {
    const std::string log =
        fmt::format("{}/coordinatool-{}.log", dir_, ++starts_);
    // A port chosen here, not read from the server's log: a server run
    // quieter than info (--server-arg -q) does not log it.
    if (port_ == 0) port_ = FreePort();
    std::vector<std::string> argv = {config_.server, "-H", "127.0.0.1", "-p",
                                     std::to_string(port_)};
    // A server without stores gets no store option at all; one with stores
    // is always told which (its default may be a store in /var/lib).
    if (ServerHelpHas(config_.server, "--store")) {
      argv.push_back("--store");
      argv.push_back(config_.store);
    }
    if (ServerHelpHas(config_.server, "--state-dir")) {
      argv.push_back("--state-dir");
      argv.push_back(dir_ + "/store");
    }
    // The `queue` injector never says ehlo: the server's bound on a silent
    // newcomer (30 s) would cut long runs.
    if (ServerHelpHas(config_.server, "--handshake-timeout")) {
      argv.push_back("--handshake-timeout");
      argv.push_back("0");
    }
    if (http_port_ != 0) {
      argv.push_back("--http-port");
      argv.push_back(std::to_string(http_port_));
    }
    for (const std::string& arg : config_.server_args)
      argv.push_back(Replace(arg, "{dir}", dir_ + "/store"));
    argv.push_back(mount_);
    testing_support::SpawnOptions options;
    options.stdout_path = options.stderr_path = log;
    options.env = {{"COORDINATOOL_REDIS_HOST", ""},
                   {"COORDINATOOL_CONF", "/dev/null"}};
    if (!tls_cert_.cert.empty()) {
      options.env.push_back({"COORDINATOOL_TLS_CERT", tls_cert_.cert});
      options.env.push_back({"COORDINATOOL_TLS_KEY", tls_cert_.key});
    }
    if (!tls_client_ca_.empty()) {
      options.env.push_back({"COORDINATOOL_TLS_CA", tls_client_ca_});
      options.env.push_back({"COORDINATOOL_TLS_CLIENT_CERT", "required"});
    }
    // Requests injected with `queue` are made up: Lustre does not hold them
    // (a server that checks would refuse them all; an older one ignores
    // the variable).
    if (config_.inject == "queue")
      options.env.emplace_back("COORDINATOOL_QUEUE_CHECK_LUSTRE", "false");
    std::string error;
    process_ = Process::Spawn(argv, options, &error);
    if (process_.pid() < 0) return error;
    std::regex serving(R"(serving .* on 127\.0\.0\.1:(\d+))");
    std::smatch match;
    bool up = testing_support::WaitFor(
        [&] {
          std::string text = ReadFile(log);
          if (std::regex_search(text, match, serving)) {
            port_ = std::stoi(match[1]);
            return true;
          }
          // Quiet: up once it answers a status.
          return Known() >= 0;
        },
        std::chrono::seconds(config_.timeout_s), std::chrono::milliseconds(2));
    if (!up) return "coordinatool did not start: " + ReadFile(log);
    return "";
  }

  pid_t pid() const { return process_.pid(); }
  Process& process() { return process_; }
  int port() const { return port_; }

  bench::ProcStats Stats() const {
    bench::ProcStats stats;
    bench::ReadProcStats(process_.pid(), &stats);
    return stats;
  }

  // Items the server knows (pending + running + done), or -1.
  int64_t Known() const { return Count({"pending", "running", "done"}); }
  // Items done, or -1.
  int64_t Done() const { return Count({"done"}); }

  // The sum of the status counters STATE_TYPE, or -1.
  int64_t Count(std::initializer_list<const char*> states) const {
    client::Session session;
    json::object reply;
    std::string error;
    session.set_tls(client_tls_);
    if (!session.Connect("127.0.0.1", std::to_string(port_), &error) ||
        !session.Call({{"command", "status"}}, &reply, 10'000, &error))
      return -1;
    int64_t total = 0;
    for (const char* type : {"archive", "restore", "remove"})
      for (const char* state : states)
        if (const json::value* v =
                reply.if_contains(fmt::format("{}_{}", state, type));
            v && v->is_number())
          total += v->to_number<int64_t>();
    return total;
  }

 private:
  const Config& config_;
  const std::string mount_;
  const std::string dir_;
  Process process_;
  int port_ = 0;
  int starts_ = 0;
  int http_port_ = 0;
  testing_support::CertAndKey tls_cert_;
  std::string tls_client_ca_;
  client::TlsOptions client_tls_;
};

// The hsm data of request `i` (see Config::hints).
std::string DataOf(const Config& config, int64_t i) {
  const auto size = static_cast<size_t>(config.data_bytes);
  if (config.hints <= 0) return std::string(size, 'x');
  std::string data = fmt::format("tape=T{:05},user=u{},", i % config.hints,
                                 (i % config.hints) % 100);
  data.resize(std::max(size, data.size()), 'x');
  return data;
}

// Sends N ARCHIVE items with the `queue` command. "" or the error.
std::string InjectByQueue(const Config& config, int port,
                          const client::TlsOptions& tls) {
  client::Session session;
  std::string error;
  session.set_tls(tls);
  if (!session.Connect("127.0.0.1", std::to_string(port), &error)) return error;
  int64_t next = 0, in_flight = 0;
  auto send_batch = [&] {
    std::string text = R"({"command":"queue","hsm_action_items":[)";
    int64_t end = std::min(config.requests, next + config.batch);
    for (int64_t i = next; i < end; ++i) {
      if (i != next) text += ',';
      text += fmt::format(
          R"({{"hai_action":20,"hai_fid":{{"f_seq":{},"f_oid":{},"f_ver":0}},)"
          R"("hai_dfid":{{"f_seq":{},"f_oid":{},"f_ver":0}},)"
          R"("hai_extent_offset":0,"hai_extent_length":-1,"hai_cookie":{},)"
          R"("hai_gid":0,"hai_data":"{}","hal_archive_id":1,"hal_flags":0}})",
          0x200000401, i + 1, 0x200000401, i + 1, i + 1, DataOf(config, i));
    }
    text += "]}";
    next = end;
    ++in_flight;
    return session.SendText(text, &error);
  };
  while (next < config.requests || in_flight > 0) {
    while (next < config.requests && in_flight < config.window)
      if (!send_batch()) return error;
    json::object reply;
    if (!session.Receive(&reply, config.timeout_s * 1000, &error)) return error;
    if (client::ReplyStatus(reply) != 0)
      return "queue refused: " + json::serialize(reply);
    --in_flight;
  }
  return "";
}

// Sends ARCHIVE requests for `fids` to sim-mdt, as many per call as fit in
// one action list. "" or the error.
std::string InjectBySim(const Config& config, const std::string& mount,
                        const std::vector<lu_fid>& fids) {
  const size_t per_call = std::clamp<size_t>(
      5000 / (72 + static_cast<size_t>(config.data_bytes) + 8), 1,
      static_cast<size_t>(config.batch));
  for (size_t i = 0; i < fids.size(); i += per_call) {
    // One data per call: Lustre's requests carry one data for all items.
    const std::string data = DataOf(config, static_cast<int64_t>(i / per_call));
    const int count = static_cast<int>(std::min(per_call, fids.size() - i));
    hsm_user_request* hur =
        llapi_hsm_user_request_alloc(count, static_cast<int>(data.size()));
    hur->hur_request.hr_action = HUA_ARCHIVE;
    hur->hur_request.hr_archive_id = 1;
    hur->hur_request.hr_itemcount = count;
    hur->hur_request.hr_data_len = static_cast<uint32_t>(data.size());
    for (int j = 0; j < count; ++j) {
      hur->hur_user_item[j].hui_fid = fids[i + j];
      hur->hur_user_item[j].hui_extent = {0, LUSTRE_EOF};
    }
    std::memcpy(hur_data(hur), data.data(), data.size());
    int rc = llapi_hsm_request(mount.c_str(), hur);
    std::free(hur);
    if (rc < 0) return fmt::format("llapi_hsm_request: {}", strerror(-rc));
  }
  return "";
}

class Bench {
 public:
  explicit Bench(const Config& config)
      : config_(config),
        dir_("coordinatool-bench"),
        mount_(dir_.Join("mnt")),
        server_(config, mount_, dir_.path()) {
    result_["benchmark"] = "coordinatool_e2e";
    result_["mode"] = config.mode;
    result_["inject"] = config.inject;
    result_["store"] = config.store;
    result_["requests"] = config.requests;
    result_["movers"] = config.movers;
    result_["data_bytes"] = config.data_bytes;
    result_["hints"] = config.hints;
    result_["batch"] = config.batch;
    result_["max_bytes"] = config.max_bytes;
    result_["max_running"] = config.max_running;
    result_["end_on_sim"] = config.end_on_sim;
    result_["single_dones"] = config.single_dones;
    result_["preload_movers"] = config.preload_movers;
    result_["tls"] = config.tls || config.tls_client_cert;
    result_["tls_client_cert"] = config.tls_client_cert;
    json::array args;
    for (const auto& arg : config.server_args)
      args.push_back(json::string(arg));
    result_["server_args"] = std::move(args);
  }

  // Runs the scenario; "" or what went wrong.
  std::string Run() {
    if (std::string error = Setup(); !error.empty()) return error;
    if (config_.mode == "concurrent") return Concurrent();
    if (config_.mode == "backlog") return Backlog();
    if (config_.mode == "restart") return Restart();
    if (config_.mode == "status-dump") return StatusDump();
    if (config_.mode == "scrape") return Scrape();
    return "unknown mode " + config_.mode;
  }

  json::object& result() { return result_; }

 private:
  std::string Setup() {
    mkdir(mount_.c_str(), 0755);
    mkdir(dir_.Join("store").c_str(), 0755);
    mdt_ = std::make_unique<testing_support::SimDaemon>(config_.mdt, mount_,
                                                        "lustre", dir_.path());
    std::string error = mdt_->Start(
        {fmt::format("hsm.max_requests={}", config_.requests + 1000),
         "hsm.min_scan_interval_ms=1", "hsm.loop_period=10",
         "hsm.grace_delay=3600", "hsm.active_request_timeout=86400"});
    if (!error.empty()) return "sim-mdt: " + error;
    if (config_.inject == "sim") {
      fids_ = CreateFiles(mount_, config_.requests);
      if (static_cast<int64_t>(fids_.size()) != config_.requests)
        return "cannot create the files";
    }
    if (config_.tls || config_.tls_client_cert) {
      mkdir(dir_.Join("pki").c_str(), 0700);
      pki_ = std::make_unique<testing_support::TestPki>(dir_.Join("pki"));
      if (!pki_->ok()) return "certificates: " + pki_->error();
      server_.set_tls(pki_->server(),
                      config_.tls_client_cert ? pki_->ca() : "");
      client::TlsOptions tls;
      tls.enabled = true;
      tls.ca_file = pki_->ca();
      if (config_.tls_client_cert) {
        tls.cert_file = pki_->client().cert;
        tls.key_file = pki_->client().key;
      }
      server_.set_client_tls(tls);
    }
    if (config_.mode == "scrape") server_.set_http_port(FreePort());
    return server_.Start();
  }

  std::string Inject() {
    if (config_.inject == "queue")
      return InjectByQueue(config_, server_.port(), server_.client_tls());
    return InjectBySim(config_, mount_, fids_);
  }

  // Waits until the server knows all N requests (they may still be in
  // sim-mdt's hands after llapi_hsm_request returned).
  bool WaitUntilKnown() {
    return testing_support::WaitFor(
        [&] { return server_.Known() >= config_.requests; },
        std::chrono::seconds(config_.timeout_s), std::chrono::milliseconds(2));
  }

  std::string StartMovers() {
    if (config_.preload_movers) return StartPreloadMovers();
    bench::NullMoverOptions options;
    options.port = std::to_string(server_.port());
    options.tls = server_.client_tls();
    options.max_bytes = config_.max_bytes;
    options.max_running = config_.max_running;
    if (config_.end_on_sim) options.end_on_mount = mount_;
    options.done_items = !config_.single_dones;
    movers_ = std::make_unique<bench::NullMovers>(options);
    std::string error;
    movers_->Start(config_.movers, &error);
    return error;
  }

#ifdef NOOP_MOVER_BIN
  // K processes, each a no-op copytool under the preload library.
  std::string StartPreloadMovers() {
    if (config_.inject != "sim")
      return "--preload-movers needs --inject sim: the copytool begins and "
             "ends each item at (simulated) Lustre";
    if (config_.tls || config_.tls_client_cert)
      return "--preload-movers runs without TLS";
    done_before_ = server_.Done();
    for (int i = 0; i < config_.movers; ++i) {
      testing_support::SpawnOptions options;
      options.stdout_path = options.stderr_path =
          dir_.Join(fmt::format("noop-{}.log", i));
      options.env = {{"LD_PRELOAD", config_.preload_lib},
                     {"COORDINATOOL_HOST", "127.0.0.1"},
                     {"COORDINATOOL_PORT", std::to_string(server_.port())},
                     {"COORDINATOOL_CLIENT_ID", fmt::format("noop-{}", i)}};
      std::string error;
      Process mover = Process::Spawn(
          {NOOP_MOVER_BIN, mount_, std::to_string(config_.preload_workers)},
          options, &error);
      if (mover.pid() < 0) return "noop_mover: " + error;
      preload_movers_.push_back(std::move(mover));
    }
    return "";
  }
#else
  std::string StartPreloadMovers() {
    return "built without the preload library";
  }
#endif

  // Completed items seen by the server since the movers started.
  int64_t PreloadCompleted() const {
    const int64_t done = server_.Done();
    return done < 0 ? 0 : done - done_before_;
  }

  std::string WaitForMovers() {
    if (config_.preload_movers) {
      if (!testing_support::WaitFor(
              [&] { return PreloadCompleted() >= config_.requests; },
              std::chrono::seconds(config_.timeout_s),
              std::chrono::milliseconds(20)))
        return fmt::format("preload movers completed {} of {}",
                           PreloadCompleted(), config_.requests);
      return "";
    }
    if (!movers_->WaitForCompleted(static_cast<uint64_t>(config_.requests),
                                   std::chrono::seconds(config_.timeout_s)))
      return fmt::format("movers completed {} of {}: {}", movers_->completed(),
                         config_.requests, movers_->error());
    return "";
  }

  // Throughput, CPU and latency over [start, end] and stats s0 -> s1.
  void Record(Clock::duration elapsed, const bench::ProcStats& s0,
              const bench::ProcStats& s1) {
    const double n = static_cast<double>(config_.requests);
    const double seconds = Seconds(elapsed);
    result_["seconds"] = seconds;
    result_["requests_per_second"] = n / seconds;
    result_["server_cpu_seconds"] = s1.cpu_seconds - s0.cpu_seconds;
    result_["server_cpu_seconds_per_1000"] =
        (s1.cpu_seconds - s0.cpu_seconds) / n * 1000;
    result_["server_cpu_utilisation"] =
        (s1.cpu_seconds - s0.cpu_seconds) / seconds;
    result_["server_write_bytes_per_request"] =
        static_cast<double>(s1.write_bytes - s0.write_bytes) / n;
    result_["server_peak_rss_bytes"] = s1.hwm_bytes;
    if (config_.preload_movers) {
      // Their whole life's CPU: start (registration) included.
      double mover_cpu = 0;
      for (Process& mover : preload_movers_) {
        bench::ProcStats stats;
        if (bench::ReadProcStats(mover.pid(), &stats))
          mover_cpu += stats.cpu_seconds;
        mover.Terminate(std::chrono::seconds(10));
      }
      result_["mover_cpu_seconds_per_1000"] = mover_cpu / n * 1000;
      result_["completed"] = PreloadCompleted();
      return;
    }
    movers_->Stop();
    Percentiles p = Summarize(movers_->Latencies());
    result_["dispatch_latency_ns"] = {
        {"p50", p.p50}, {"p99", p.p99}, {"max", p.max}};
    result_["completed"] = movers_->completed();
    result_["end_failures"] = movers_->end_failures();
  }

  std::string Concurrent() {
    if (std::string error = StartMovers(); !error.empty()) return error;
    const bench::ProcStats s0 = server_.Stats();
    const Clock::time_point start = Clock::now();
    if (std::string error = Inject(); !error.empty()) return error;
    result_["inject_seconds"] = Seconds(Clock::now() - start);
    if (std::string error = WaitForMovers(); !error.empty()) return error;
    const Clock::time_point end = Clock::now();
    Record(end - start, s0, server_.Stats());
    return "";
  }

  // Fills the queue with no mover: inject seconds, RSS per queued request.
  std::string Fill(bench::ProcStats* queued) {
    const bench::ProcStats s0 = server_.Stats();
    const Clock::time_point start = Clock::now();
    if (std::string error = Inject(); !error.empty()) return error;
    if (!WaitUntilKnown()) return "the server did not receive every request";
    const double seconds = Seconds(Clock::now() - start);
    *queued = server_.Stats();
    const double n = static_cast<double>(config_.requests);
    result_["inject_seconds"] = seconds;
    result_["inject_requests_per_second"] = n / seconds;
    result_["inject_server_cpu_seconds_per_1000"] =
        (queued->cpu_seconds - s0.cpu_seconds) / n * 1000;
    result_["bytes_per_queued_request"] =
        (static_cast<double>(queued->rss_bytes) -
         static_cast<double>(s0.rss_bytes)) /
        n;
    result_["queued_rss_bytes"] = queued->rss_bytes;
    return "";
  }

  std::string Backlog() {
    bench::ProcStats queued;
    if (std::string error = Fill(&queued); !error.empty()) return error;
    const Clock::time_point start = Clock::now();
    if (std::string error = StartMovers(); !error.empty()) return error;
    if (std::string error = WaitForMovers(); !error.empty()) return error;
    Record(Clock::now() - start, queued, server_.Stats());
    return "";
  }

  std::string Restart() {
    if (config_.store == "none") {
      result_["skipped"] = "no store: a restarted server recovers nothing";
      return "";
    }
    bench::ProcStats queued;
    if (std::string error = Fill(&queued); !error.empty()) return error;
    server_.process().Kill();
    const Clock::time_point start = Clock::now();
    if (std::string error = server_.Start(); !error.empty()) return error;
    result_["listen_seconds"] = Seconds(Clock::now() - start);
    if (!WaitUntilKnown()) return "the restarted server did not recover them";
    result_["recovery_seconds"] = Seconds(Clock::now() - start);
    // The new process's CPU so far: the recovery's cost, which a busy
    // machine stretches in wall-clock time but not on the CPU.
    const bench::ProcStats recovered = server_.Stats();
    result_["recovery_server_cpu_seconds"] = recovered.cpu_seconds;
    result_["recovered_rss_bytes"] = recovered.rss_bytes;
    result_["recovered_peak_rss_bytes"] = recovered.hwm_bytes;
    return "";
  }

  // Round trips of small status requests on one connection while another
  // reads the whole dump (verbose 6, as `coordinatool-client -vv`).
  std::string StatusDump() {
    bench::ProcStats queued;
    if (std::string error = Fill(&queued); !error.empty()) return error;
    const std::string port = std::to_string(server_.port());
    const int timeout_ms = config_.timeout_s * 1000;
    client::Session probe, dumper;
    dumper.set_max_reply_bytes(SIZE_MAX);
    probe.set_tls(server_.client_tls());
    dumper.set_tls(server_.client_tls());
    std::string error, probe_error;
    if (!probe.Connect("127.0.0.1", port, &error) ||
        !dumper.Connect("127.0.0.1", port, &error))
      return error;
    std::atomic<bool> stop = false;
    std::vector<int64_t> round_trips_ns;
    std::thread sampler([&] {
      json::object reply;
      while (!stop) {
        const Clock::time_point start = Clock::now();
        if (!probe.Call({{"command", "status"}, {"verbose", 0}}, &reply,
                        timeout_ms, &probe_error))
          return;
        round_trips_ns.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                                 start)
                .count());
      }
    });
    json::object dump;
    const Clock::time_point start = Clock::now();
    const bool dumped = dumper.Call({{"command", "status"}, {"verbose", 6}},
                                    &dump, timeout_ms, &error);
    result_["dump_seconds"] = Seconds(Clock::now() - start);
    stop = true;
    sampler.join();
    if (!dumped) return "status dump: " + error;
    if (!probe_error.empty()) return "probe: " + probe_error;
    const json::value* waiting = dump.if_contains("waiting_archive");
    result_["dump_entries"] =
        waiting && waiting->is_array() ? waiting->get_array().size() : 0;
    result_["probe_round_trips"] = round_trips_ns.size();
    Percentiles p = Summarize(std::move(round_trips_ns));
    result_["probe_round_trip_ns"] = {
        {"p50", p.p50}, {"p99", p.p99}, {"max", p.max}};
    result_["server_peak_rss_bytes"] = server_.Stats().hwm_bytes;
    return "";
  }

  // Round trips of small status requests on one connection while /metrics
  // is scraped --scrapes times, one after the other (plain HTTP).
  std::string Scrape() {
    bench::ProcStats queued;
    if (std::string error = Fill(&queued); !error.empty()) return error;
    if (config_.tls || config_.tls_client_cert)
      return "scrape: plain HTTP only in this bench";
    const std::string port = std::to_string(server_.port());
    const int timeout_ms = config_.timeout_s * 1000;
    client::Session probe;
    std::string error, probe_error;
    if (!probe.Connect("127.0.0.1", port, &error)) return error;
    // The loop's round trip alone first, then during the scrapes.
    auto sample = [&](std::atomic<bool>& stop, std::vector<int64_t>& out) {
      json::object reply;
      while (!stop) {
        const Clock::time_point start = Clock::now();
        if (!probe.Call({{"command", "status"}, {"verbose", 0}}, &reply,
                        timeout_ms, &probe_error))
          return;
        out.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                          Clock::now() - start)
                          .count());
      }
    };
    std::vector<int64_t> idle_ns, busy_ns, scrape_ns;
    {
      std::atomic<bool> stop = false;
      std::thread sampler([&] { sample(stop, idle_ns); });
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      stop = true;
      sampler.join();
    }
    std::atomic<bool> stop = false;
    std::thread sampler([&] { sample(stop, busy_ns); });
    size_t bytes = 0;
    for (int i = 0; i < config_.scrapes; ++i) {
      const Clock::time_point start = Clock::now();
      testing_support::HttpResult r =
          testing_support::HttpGet(server_.http_port(), "/metrics");
      scrape_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              Clock::now() - start)
                              .count());
      if (r.status != 200) {
        error = fmt::format("scrape: {} {}", r.status, r.error);
        break;
      }
      bytes = r.body.size();
    }
    stop = true;
    sampler.join();
    if (!error.empty()) return error;
    if (!probe_error.empty()) return "probe: " + probe_error;
    result_["scrapes"] = scrape_ns.size();
    result_["scrape_bytes"] = bytes;
    Percentiles s = Summarize(std::move(scrape_ns));
    result_["scrape_ns"] = {{"p50", s.p50}, {"p99", s.p99}, {"max", s.max}};
    Percentiles idle = Summarize(std::move(idle_ns));
    result_["probe_idle_round_trip_ns"] = {
        {"p50", idle.p50}, {"p99", idle.p99}, {"max", idle.max}};
    result_["probe_round_trips"] = busy_ns.size();
    Percentiles busy = Summarize(std::move(busy_ns));
    result_["probe_round_trip_ns"] = {
        {"p50", busy.p50}, {"p99", busy.p99}, {"max", busy.max}};
    result_["server_peak_rss_bytes"] = server_.Stats().hwm_bytes;
    return "";
  }

  const Config& config_;
  testing_support::TempDir dir_;
  const std::string mount_;
  std::unique_ptr<testing_support::SimDaemon> mdt_;
  std::unique_ptr<testing_support::TestPki> pki_;
  ServerUnderTest server_;
  std::unique_ptr<bench::NullMovers> movers_;
  std::vector<Process> preload_movers_;  // --preload-movers
  int64_t done_before_ = 0;              // done when they started
  std::vector<lu_fid> fids_;
  json::object result_;
};

int Main(const Config& config) {
  json::object result;
  std::string error;
  if (config.store != "none" && !ServerHelpHas(config.server, "--store")) {
    result = {{"benchmark", "coordinatool_e2e"},
              {"mode", config.mode},
              {"store", config.store},
              {"skipped", "this coordinatool has no --store option"}};
  } else {
    Bench bench(config);
    error = bench.Run();
    result = std::move(bench.result());
  }
  result["ok"] = error.empty();
  if (!error.empty()) result["error"] = error;
  std::ofstream(config.json_path) << json::serialize(result) << "\n";
  std::printf("%s\n", json::serialize(result).c_str());
  if (!error.empty())
    std::fprintf(stderr, "coordinatool_bench: %s\n", error.c_str());
  return error.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Config config;
  CLI::App app("coordinatool_bench: end-to-end figures of coordinatool");
  app.add_option("--mode", config.mode,
                 "concurrent, backlog, restart, status-dump or scrape")
      ->check(CLI::IsMember(
          {"concurrent", "backlog", "restart", "status-dump", "scrape"}));
  app.add_option("--inject", config.inject, "queue (the command) or sim")
      ->check(CLI::IsMember({"queue", "sim"}));
  app.add_option("-n,--requests", config.requests, "requests to inject")
      ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  app.add_option("-m,--movers", config.movers, "null movers")
      ->check(CLI::Range(1, 1024));
  app.add_option("--batch", config.batch, "items per queue command");
  app.add_option("--window", config.window, "queue commands in flight");
  app.add_option("--data-bytes", config.data_bytes, "hsm data per request")
      ->check(CLI::Range(0, 4096));
  app.add_option("--hints", config.hints,
                 "distinct hsm data strings (tape=,user= tags); 0: one")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--max-bytes", config.max_bytes, "movers' recv max_bytes");
  app.add_option("--max-running", config.max_running,
                 "movers' max_archive/restore/remove (-1: unlimited)");
  app.add_flag("--tls", config.tls,
               "TLS on every connection (certificates made at start)");
  app.add_flag("--tls-client-cert", config.tls_client_cert,
               "mutual TLS: the server requires client certificates");
  app.add_flag("--preload-movers", config.preload_movers,
               "movers through the preload library: noop_mover processes "
               "(needs --inject sim)");
  app.add_option("--preload-workers", config.preload_workers,
                 "worker threads of each preload mover's copytool");
#ifdef PRELOAD_LIB
  app.add_option("--preload-lib", config.preload_lib,
                 "preload library of the preload movers");
#endif
  app.add_flag("--single-dones", config.single_dones,
               "one `done` per message even when the server takes many");
  app.add_flag("--end-on-sim", config.end_on_sim,
               "movers also begin and end each item on the simulator");
  app.add_option("--store", config.store,
                 "store passed to the server: none, embedded, redis...");
  app.add_option("--server-arg", config.server_args,
                 "extra server argument (repeatable; {dir} replaced)")
      ->allow_extra_args(false);
  app.add_option("--timeout", config.timeout_s, "seconds to wait at most");
  app.add_option("--scrapes", config.scrapes, "scrape mode: /metrics reads")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--json", config.json_path, "result file");
  app.add_option("--mdt", config.mdt, "sim-mdt binary");
  app.add_option("--server", config.server, "coordinatool binary");
  CLI11_PARSE(app, argc, argv);
  llapi_msg_set_level(LLAPI_MSG_ERROR);
  return Main(config);
}
