// store_bench: requests per second through the coordinatool server with
// each store (none, the embedded journal, Redis; Redis with a replica,
// without and with WAIT for it), and the store's share of the cost. For each
// store it starts sim-mdt (the server needs a mount to register on),
// redis-server when needed, and coordinatool; K in-process movers ehlo, recv
// and answer `done` at once for every item; one client injects N archive items
// with `queue` commands of 1,000. The time runs from the first `queue` to the
// server counting N done. Every item is thus persisted (Put), assigned (Assign,
// durable before the recv reply) and forgotten (Forget) once.
//
// A benchmark, not a test: figures go in the notes, nothing is asserted.
#include <fmt/format.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <regex>
#include <thread>
#include <vector>

#include "bench/support/queue_item.h"
#include "client/session.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/sim_daemon.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using testing_support::Process;

struct Config {
  int items = 50000;
  int movers = 4;
  int batch = 1000;
  std::vector<std::string> stores = {"none",          "embedded",
                                     "redis",         "redis-everysec",
                                     "redis-replica", "redis-wait1"};
  std::string json_path;
};

// A mover that finishes everything it gets at once.
void MoverLoop(const std::string& port, const std::string& id,
               std::atomic<bool>* stop) {
  client::Session s;
  std::string error;
  json::object reply;
  if (!s.Connect("127.0.0.1", port, &error) ||
      !s.Call({{"command", "ehlo"}, {"id", id}}, &reply, 10'000, &error)) {
    fmt::print(stderr, "{}: {}\n", id, error);
    return;
  }
  while (!stop->load()) {
    if (!s.Send({{"command", "recv"}, {"max_bytes", 1 << 20}}, &error)) return;
    for (;;) {
      if (!s.Receive(&reply, 200, &error)) {
        if (stop->load() || error != "timed out") return;
        continue;
      }
      if (reply["command"] == "recv") break;  // skips done replies
    }
    const json::value* hal = reply.if_contains("hsm_action_list");
    if (!hal) return;
    for (const json::value& item : hal->at("list").as_array()) {
      const json::object& o = item.as_object();
      if (!s.Send({{"command", "done"},
                   {"hai_cookie", o.at("hai_cookie")},
                   {"hai_dfid", o.at("hai_dfid")}},
                  &error))
        return;
    }
  }
}

int64_t DoneArchive(client::Session& status) {
  json::object reply;
  std::string error;
  if (!status.Call({{"command", "status"}}, &reply, 10'000, &error)) return -1;
  const json::value* v = reply.if_contains("done_archive");
  return v && v->is_int64() ? v->get_int64() : 0;
}

struct Result {
  std::string store;
  double seconds = 0;
  double rate = 0;
};

// Runs one store; returns the seconds for N items, or a negative value.
double Run(const Config& config, const std::string& store) {
  testing_support::TempDir dir("store-bench");
  std::string mount = dir.Join("mnt"), logs = dir.Join("logs");
  mkdir(mount.c_str(), 0755);
  mkdir(logs.c_str(), 0755);
  testing_support::SimDaemon mdt(SIM_MDT_BIN, mount, "lustre", logs);
  if (std::string e = mdt.Start({}); !e.empty()) {
    fmt::print(stderr, "sim-mdt: {}\n", e);
    return -1;
  }
  std::unique_ptr<testing_support::RedisServer> redis, replica;
  std::vector<std::string> argv = {COORDINATOOL_BIN, "-H", "127.0.0.1", "-p",
                                   "0"};
  if (store == "none") {
    argv.push_back("--no-store");
  } else if (store == "embedded") {
    argv.insert(argv.end(),
                {"--store", "embedded", "--state-dir", dir.Join("state")});
  } else {
    std::vector<std::string> extra;
    if (store == "redis-everysec") extra = {"--appendfsync", "everysec"};
    std::string redis_dir = dir.Join("redis");
    mkdir(redis_dir.c_str(), 0755);
    redis = std::make_unique<testing_support::RedisServer>(redis_dir, extra);
    if (std::string e = redis->Start(); !e.empty()) {
      fmt::print(stderr, "redis: {}\n", e);
      return -1;
    }
    argv.insert(argv.end(), {"--redis-host", "127.0.0.1", "--redis-port",
                             std::to_string(redis->port())});
    // A replica on the same host: its cost to the master alone, then with
    // each batch waiting until the replica has it (issue 17).
    const bool ha = store.starts_with("redis-ha");
    if (store == "redis-replica" || store == "redis-wait1" ||
        store == "redis-ha-wait1") {
      std::string replica_dir = dir.Join("replica");
      mkdir(replica_dir.c_str(), 0755);
      replica = std::make_unique<testing_support::RedisServer>(
          replica_dir, std::vector<std::string>{"--replicaof", "127.0.0.1",
                                                std::to_string(redis->port())});
      if (std::string e = replica->Start(); !e.empty()) {
        fmt::print(stderr, "redis replica: {}\n", e);
        return -1;
      }
      if (!testing_support::WaitFor(
              [&] {
                auto info = replica->Call({"INFO", "replication"});
                return !info.empty() && info[0].find("master_link_status:up") !=
                                            std::string::npos;
              },
              std::chrono::seconds(60))) {
        fmt::print(stderr, "redis replica: not in sync\n");
        return -1;
      }
    }
    if (store == "redis-wait1" || store == "redis-ha-wait1")
      argv.insert(argv.end(), {"--redis-wait-replicas", "1"});
    // A leader of high availability (issue 17): every batch one fenced
    // script; it starts as a standby and takes the lease at once.
    if (ha) argv.insert(argv.end(), {"--ha-lease", "5000"});
  }
  argv.push_back(mount);
  testing_support::SpawnOptions options;
  std::string log = logs + "/coordinatool.log";
  options.stdout_path = options.stderr_path = log;
  // The injected requests are made up: Lustre does not hold them.
  options.env = {{"COORDINATOOL_CONF", "/dev/null"},
                 {"COORDINATOOL_REDIS_HOST", ""},
                 {"COORDINATOOL_QUEUE_CHECK_LUSTRE", "false"}};
  std::string error;
  Process server = Process::Spawn(argv, options, &error);
  std::regex serving(R"((serving|listening for) .* on 127\.0\.0\.1:(\d+))");
  std::smatch match;
  std::string port;
  testing_support::WaitFor(
      [&] {
        std::string text = testing_support::ReadWholeFile(log);
        if (!std::regex_search(text, match, serving)) return !server.Running();
        // A leader of high availability serves once it took the lease.
        if (match[1] == "listening for" &&
            text.find("took over") == std::string::npos)
          return !server.Running();
        port = match[2];
        return true;
      },
      std::chrono::seconds(30));
  if (port.empty()) {
    fmt::print(stderr, "coordinatool did not start:\n{}\n",
               testing_support::ReadWholeFile(log));
    return -1;
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> movers;
  for (int m = 0; m < config.movers; ++m)
    movers.emplace_back(MoverLoop, port, fmt::format("m{}", m), &stop);
  client::Session injector, status;
  if (!injector.Connect("127.0.0.1", port, &error) ||
      !status.Connect("127.0.0.1", port, &error)) {
    fmt::print(stderr, "connect: {}\n", error);
    return -1;
  }
  auto start = Clock::now();
  for (int first = 0; first < config.items; first += config.batch) {
    json::array items;
    for (int i = first; i < std::min(config.items, first + config.batch); ++i)
      items.push_back(bench::ArchiveQueueItem(i));
    json::object reply;
    if (!injector.Call(
            {{"command", "queue"}, {"hsm_action_items", std::move(items)}},
            &reply, 60'000, &error)) {
      fmt::print(stderr, "queue: {}\n", error);
      return -1;
    }
  }
  bool all = testing_support::WaitFor(
      [&] { return DoneArchive(status) >= config.items; },
      std::chrono::seconds(600), std::chrono::milliseconds(5));
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  for (auto& t : movers) t.join();
  server.Terminate(std::chrono::seconds(10));
  return all ? seconds : -1;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app{"requests/s through coordinatool with each store"};
  app.add_option("--items", config.items, "archive items per run");
  app.add_option("--movers", config.movers, "movers");
  app.add_option("--stores", config.stores,
                 "none, embedded, redis, redis-everysec, redis-replica (a "
                 "replica, no WAIT), redis-wait1 (WAIT 1 replica), redis-ha "
                 "(a leader: fenced writes), redis-ha-wait1 (fenced, WAIT 1 "
                 "replica)");
  app.add_option("--json", config.json_path, "write the results here");
  CLI11_PARSE(app, argc, argv);

  std::vector<Result> results;
  double none_seconds = 0;
  for (const std::string& store : config.stores) {
    double seconds = Run(config, store);
    if (seconds < 0) {
      fmt::print(stderr, "{}: run failed\n", store);
      return 1;
    }
    if (store == "none") none_seconds = seconds;
    results.push_back({store, seconds, config.items / seconds});
  }
  fmt::print("{} items, {} movers\n", config.items, config.movers);
  fmt::print("{:<16} {:>10} {:>12} {:>12}\n", "store", "seconds", "requests/s",
             "store share");
  json::array out;
  for (const Result& r : results) {
    double share = none_seconds > 0 && r.store != "none"
                       ? (r.seconds - none_seconds) / r.seconds
                       : 0;
    fmt::print("{:<16} {:>10.2f} {:>12.0f} {:>11.0f}%\n", r.store, r.seconds,
               r.rate, 100 * share);
    out.push_back({{"store", r.store},
                   {"seconds", r.seconds},
                   {"requests_per_s", r.rate},
                   {"store_share", share}});
  }
  if (!config.json_path.empty())
    std::ofstream(config.json_path) << json::serialize(out) << "\n";
  return 0;
}
