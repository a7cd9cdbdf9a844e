// takeover_bench: how long a standby takes to lead (issue 17,
// docs/high-availability.md) with N requests queued. For each N: sim-mdt,
// redis-server, a leader (ha_lease_ms) given N archive requests with
// `queue` (no mover: they all wait), a standby; the leader is SIGKILLed and
// the clock runs until
//   - the standby answers `status` as leader (the lease's lapse, its next
//     try, loading the N requests from Redis, registering with Lustre);
//   - a mover that asks the new leader for work (connecting again every
//     10 ms until it leads) gets its first request.
// The new leader's own figure (last_takeover_ms: loading and registering)
// is printed too.
//
// A benchmark, not a test: nothing is asserted.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
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

json::object Status(int port) {
  client::Session s;
  std::string error;
  json::object reply;
  s.set_connect_timeout_ms(1000);
  if (!s.Connect("127.0.0.1", std::to_string(port), &error) ||
      !s.Call({{"command", "status"}}, &reply, 600'000, &error))
    return {};
  return reply;
}

int64_t Number(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : -1;
}

struct Figures {
  int queued = 0;
  double to_leader_ms = 0;
  double takeover_ms = 0;  // the new leader's load and register
  double to_dispatch_ms = 0;
};

struct Server {
  Process process;
  int port = 0;
  std::string log;
};

// A loopback port free now: the kernel's choice for port 0.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

bool StartServer(Server* server, const std::vector<std::string>& args,
                 const std::string& log) {
  server->port = FreePort();
  server->log = log;
  std::vector<std::string> argv = {COORDINATOOL_BIN, "-H", "127.0.0.1", "-p",
                                   std::to_string(server->port)};
  argv.insert(argv.end(), args.begin(), args.end());
  testing_support::SpawnOptions options;
  options.stdout_path = options.stderr_path = log;
  // The injected requests are made up: Lustre does not hold them.
  options.env = {{"COORDINATOOL_CONF", "/dev/null"},
                 {"COORDINATOOL_QUEUE_CHECK_LUSTRE", "false"}};
  std::string error;
  server->process = Process::Spawn(argv, options, &error);
  return testing_support::WaitFor(
             [&] {
               return testing_support::ReadWholeFile(log).find(
                          "listening for") != std::string::npos ||
                      !server->process.Running();
             },
             std::chrono::seconds(30)) &&
         server->process.Running();
}

bool Run(int queued, int lease_ms, Figures* out) {
  testing_support::TempDir dir("takeover-bench");
  std::string mount = dir.Join("mnt"), logs = dir.Join("logs"),
              redis_dir = dir.Join("redis");
  for (const std::string& d : {mount, logs, redis_dir}) mkdir(d.c_str(), 0755);
  testing_support::SimDaemon mdt(SIM_MDT_BIN, mount, "lustre", logs);
  if (std::string e = mdt.Start({}); !e.empty()) {
    fmt::print(stderr, "sim-mdt: {}\n", e);
    return false;
  }
  testing_support::RedisServer redis(redis_dir);
  if (std::string e = redis.Start(); !e.empty()) {
    fmt::print(stderr, "redis: {}\n", e);
    return false;
  }
  const std::vector<std::string> args = {"--store",
                                         "redis",
                                         "--redis-host",
                                         "127.0.0.1",
                                         "--redis-port",
                                         std::to_string(redis.port()),
                                         "--ha-lease",
                                         std::to_string(lease_ms),
                                         "--client-grace",
                                         "600000",
                                         mount};
  Server leader, standby;
  if (!StartServer(&leader, args, logs + "/a.log")) {
    fmt::print(stderr, "leader did not start:\n{}\n",
               testing_support::ReadWholeFile(logs + "/a.log"));
    return false;
  }
  testing_support::WaitFor(
      [&] {
        json::object s = Status(leader.port);
        const json::value* role = s.if_contains("role");
        return role && *role == "leader";
      },
      std::chrono::seconds(30));
  client::Session injector;
  std::string error;
  if (!injector.Connect("127.0.0.1", std::to_string(leader.port), &error)) {
    fmt::print(stderr, "connect: {}\n", error);
    return false;
  }
  for (int first = 0; first < queued; first += 1000) {
    json::array items;
    for (int i = first; i < std::min(queued, first + 1000); ++i)
      items.push_back(bench::ArchiveQueueItem(i));
    json::object reply;
    if (!injector.Call(
            {{"command", "queue"}, {"hsm_action_items", std::move(items)}},
            &reply, 600'000, &error)) {
      fmt::print(stderr, "queue: {}\n", error);
      return false;
    }
  }
  if (Number(Status(leader.port), "pending_archive") != queued) {
    fmt::print(stderr, "the leader does not hold {} requests\n", queued);
    return false;
  }
  if (!StartServer(&standby, args, logs + "/b.log")) {
    fmt::print(stderr, "standby did not start\n");
    return false;
  }
  leader.process.Kill();
  const auto killed = Clock::now();
  // A mover: connects again every 10 ms until the new leader gives it work.
  double to_leader = -1, to_dispatch = -1;
  const auto deadline = killed + std::chrono::minutes(10);
  while (Clock::now() < deadline && to_dispatch < 0) {
    client::Session mover;
    json::object reply;
    if (!mover.Connect("127.0.0.1", std::to_string(standby.port), &error) ||
        !mover.Call({{"command", "ehlo"}, {"id", "m0"}}, &reply, 600'000,
                    &error) ||
        Number(reply, "status") > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (to_leader < 0)
      to_leader =
          std::chrono::duration<double, std::milli>(Clock::now() - killed)
              .count();
    if (!mover.Call({{"command", "recv"}, {"max_bytes", 1 << 20}}, &reply,
                    600'000, &error))
      continue;
    to_dispatch =
        std::chrono::duration<double, std::milli>(Clock::now() - killed)
            .count();
  }
  json::object status = Status(standby.port);
  out->queued = queued;
  out->to_leader_ms = to_leader;
  out->to_dispatch_ms = to_dispatch;
  out->takeover_ms = static_cast<double>(Number(status, "last_takeover_ms"));
  standby.process.Terminate(std::chrono::seconds(30));
  return to_dispatch >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> queued = {10'000, 100'000};
  int lease_ms = 1000;
  std::string json_path;
  CLI::App app{"takeover time of a coordinatool standby with N queued"};
  app.add_option("--queued", queued, "requests queued (one run each)");
  app.add_option("--lease", lease_ms, "ha_lease_ms");
  app.add_option("--json", json_path, "write the results here");
  CLI11_PARSE(app, argc, argv);
  std::vector<Figures> results;
  for (int n : queued) {
    Figures f;
    if (!Run(n, lease_ms, &f)) {
      fmt::print(stderr, "{} queued: run failed\n", n);
      return 1;
    }
    results.push_back(f);
  }
  fmt::print("lease {} ms\n{:>10} {:>16} {:>18} {:>20}\n", lease_ms, "queued",
             "kill->leader ms", "load+register ms", "kill->1st dispatch ms");
  json::array out;
  for (const Figures& f : results) {
    fmt::print("{:>10} {:>16.0f} {:>18.0f} {:>20.0f}\n", f.queued,
               f.to_leader_ms, f.takeover_ms, f.to_dispatch_ms);
    out.push_back({{"queued", f.queued},
                   {"kill_to_leader_ms", f.to_leader_ms},
                   {"load_register_ms", f.takeover_ms},
                   {"kill_to_dispatch_ms", f.to_dispatch_ms}});
  }
  if (!json_path.empty())
    std::ofstream(json_path) << json::serialize(out) << "\n";
  return 0;
}
