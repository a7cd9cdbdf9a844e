// Issue 10 (data safety), end to end: hsm data that is not UTF-8 travels
// losslessly through the server, its stores, report files, status and -Q;
// a mover never drops its connection for one item and never reconnects in
// a storm; only the owner's `done` counts and malformed fields are errors.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/session.h"
#include "common/unique_fd.h"
#include "hsm/fid.h"
#include "protocol/action_item.h"
#include "protocol/byte_string.h"
#include "protocol/json_stream.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/redis_server.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

// Not UTF-8: a byte that never starts a sequence, one that only ends one
// (a lone continuation byte), and a truncated sequence.
const std::string kBinary = "r=bin,\xff\xfe\x80z\xe2\x82";

std::string Hex(std::string_view bytes) {
  std::string hex;
  for (char c : bytes) hex += fmt::format("{:02X}", static_cast<uint8_t>(c));
  return hex;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Contains(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// The server with report files on (hint r=), with the embedded store or a
// redis-server of its own.
class BinaryDataTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.StartDaemon());
    if (GetParam() == "redis") {
      redis_ = std::make_unique<RedisServer>(redis_dir_.path());
      ASSERT_EQ(redis_->Start(), "");
    }
    config_ = sim_.archive() + "/../coordinatool.conf";
    std::ofstream(config_) << "reporting_dir reports\nreporting_hint r\n"
                              "reporting_schedule_interval_ms 3600000\n";
  }

  std::vector<std::string> ServerArgs() const {
    std::vector<std::string> args = {"-v", "-c", config_, "--client-grace",
                                     "3000"};
    if (redis_)
      args.insert(args.end(), {"--redis-host", "127.0.0.1", "--redis-port",
                               std::to_string(redis_->port())});
    return args;
  }

  std::string MakeFile(const std::string& name) {
    std::string path = sim_.Path(name);
    EXPECT_TRUE(WriteTestFile(path, 30000, 7).has_value());
    return path;
  }

  // The waiting_archive entry of `fid` in the server's status, or {}.
  json::object WaitingEntry(const std::string& fid) {
    json::object status = cdt_.Status();
    const json::value* waiting = status.if_contains("waiting_archive");
    if (!waiting || !waiting->is_array()) return {};
    for (const json::value& entry : waiting->get_array()) {
      lu_fid f{};
      std::string ignored;
      protocol::FidFromJson(entry.at("hai_fid"), &f, &ignored);
      if (hsm::FormatFid(f) == fid) return entry.get_object();
    }
    return {};
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  TempDir redis_dir_{"redis"};
  std::unique_ptr<RedisServer> redis_;
  std::string config_;
};

// Binary data is queued, shown in status, kept across a server restart,
// handed to a real ct-posix with every byte, and reported in its file.
TEST_P(BinaryDataTest, ServedExactlyAcrossARestart) {
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  const std::string path = MakeFile("bin");
  const std::string fid = FidOf(path);
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", "--data", kBinary, path}).ok());
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 1; }))
      << cdt_.Logs();

  // Status: the data as a byte string, and printable in the CLI's table.
  json::object entry = WaitingEntry(fid);
  std::string data, error;
  ASSERT_TRUE(protocol::GetBytes(entry, "hai_data", &data, &error))
      << error << json::serialize(entry);
  EXPECT_EQ(data, kBinary);
  EXPECT_FALSE(entry.contains("hai_data"));
  CommandResult table = cdt_.Client({"-vv"});
  ASSERT_TRUE(table.ok()) << table.Describe();
  EXPECT_NE(table.out.find("data=r=bin,\\xff\\xfe\\x80z\\xe2\\x82"),
            std::string::npos)
      << table.out;

  // The store kept it: a restart finds it again.
  cdt_.KillServer();
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  EXPECT_EQ(cdt_.Counter("pending_archive"), 1) << cdt_.Logs();
  EXPECT_TRUE(cdt_.ServerLogLines("dropped").empty()) << cdt_.Logs();
  entry = WaitingEntry(fid);
  ASSERT_TRUE(protocol::GetBytes(entry, "hai_data", &data, &error)) << error;
  EXPECT_EQ(data, kBinary);

  ASSERT_NE(cdt_.StartMover("m1", {}, {"-v"}), nullptr);
  ASSERT_TRUE(sim_.WaitForStatus(fid, "ARCHIVE", "SUCCEED")) << cdt_.Logs();
  EXPECT_NE(cdt_.MoverLog("m1").find("data=[" + Hex(kBinary) + "]"),
            std::string::npos)
      << cdt_.MoverLog("m1");
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 1; }));

  auto lines = Lines(sim_.Path("reports/bin"));
  EXPECT_TRUE(Contains(lines, "new " + fid));
  EXPECT_TRUE(Contains(lines, "sent " + fid + " m1"));
  EXPECT_TRUE(Contains(lines, "done " + fid + " 0"));
}

// `coordinatool-client -Q` of Lustre's active_requests text (data as hex)
// with a non-UTF-8 request among good ones queues every one of them.
TEST_P(BinaryDataTest, QueueBatchWithBinaryDataQueuesAll) {
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  std::vector<std::string> fids;
  const std::string datas[] = {"r=ok", "\xff\xfe\x80", "r=\xc3\xa9", "x"};
  for (int i = 0; i < 4; ++i) {
    std::string path = MakeFile("q" + std::to_string(i));
    fids.push_back(FidOf(path));
    ASSERT_TRUE(sim_.Lfs({"hsm_archive", "--data", datas[i], path}).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 4; }));
  std::string active = sim_.GetParam("hsm.active_requests");
  ASSERT_NE(active.find("data=[FFFE80]"), std::string::npos) << active;

  // A server that lost them (a crash before the store write): -Q again.
  cdt_.KillServer();
  if (redis_)
    redis_->Call({"FLUSHALL"});
  else
    std::filesystem::remove_all(cdt_.state_dir());
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  ASSERT_EQ(cdt_.Counter("pending_archive"), 0);
  CommandResult queued = cdt_.Client({"-Q"}, active);
  ASSERT_TRUE(queued.ok()) << queued.Describe();
  EXPECT_EQ(queued.out, "queued 4 new requests, 0 already known\n");
  ASSERT_NE(cdt_.StartMover("m1", {}, {"-v"}), nullptr);
  for (const std::string& fid : fids)
    EXPECT_TRUE(sim_.WaitForStatus(fid, "ARCHIVE", "SUCCEED")) << cdt_.Logs();
  EXPECT_NE(cdt_.MoverLog("m1").find("data=[FFFE80]"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Stores, BinaryDataTest,
                         ::testing::Values("embedded", "redis"));

// A queue request with one bad item among good ones: the good ones are
// queued, the reply says which one failed and why.
TEST(QueueItemsTest, OneBadItemIsReportedAlone) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon());
  CoordinatoolSetup cdt(sim);
  // Made-up requests: Lustre holds none of them.
  ASSERT_TRUE(cdt.StartServer({"--no-store", "--queue-check-lustre", "false"}));
  auto item = [](int oid) {
    return json::object{
        {"hai_action", 20},
        {"hai_fid", {{"f_seq", 0x200000401}, {"f_oid", oid}, {"f_ver", 0}}},
        {"hai_dfid", {{"f_seq", 0x200000401}, {"f_oid", oid}, {"f_ver", 0}}},
        {"hai_extent_offset", 0},
        {"hai_extent_length", -1},
        {"hai_cookie", 100 + oid},
        {"hai_gid", 0},
        {"hai_data_base64", protocol::Base64Encode("\xff")},
        {"hal_archive_id", 1}};
  };
  json::object both = item(2);
  both["hai_data"] = "x";
  client::Session session;
  std::string error;
  ASSERT_TRUE(session.Connect("127.0.0.1", std::to_string(cdt.port()), &error));
  json::object reply;
  ASSERT_TRUE(session.Call(
      {{"command", "queue"}, {"hsm_action_items", {item(1), both, item(3)}}},
      &reply, 10'000, &error))
      << error;
  EXPECT_EQ(reply.at("enqueued").as_int64(), 2) << json::serialize(reply);
  EXPECT_EQ(client::ReplyStatus(reply), EINVAL);
  const json::array& failed = reply.at("failed").as_array();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].at("index").as_int64(), 1);
  EXPECT_EQ(failed[0].at("error").as_string(),
            "'hai_data' and 'hai_data_base64' are both present");
  EXPECT_EQ(cdt.Counter("pending_archive"), 2);

  ASSERT_TRUE(
      session.Call({{"command", "queue"}, {"hsm_action_items", {item(4)}}},
                   &reply, 10'000, &error));
  EXPECT_EQ(json::serialize(reply), R"({"enqueued":1,"command":"queue"})");
}

// A fake coordinatool server of the test's own, to see what a real mover
// (ct-posix under the preload library) does with what it is sent.
class FakeServer {
 public:
  // `on_message(fd, message)` answers each object a connection sends.
  using Handler = std::function<void(int fd, const json::object& message)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    listen_.Reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_.get(), 128);
    socklen_t len = sizeof(addr);
    getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
  }

  int port() const { return port_; }
  int connections() const { return connections_; }
  std::vector<json::object> Received() const {
    std::lock_guard lock(mu_);
    return received_;
  }

  static void Send(int fd, const std::string& bytes) {
    ssize_t ignored = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    (void)ignored;
  }

 private:
  struct Peer {
    common::UniqueFd fd;
    protocol::JsonStreamReader reader;
  };

  void Run() {
    std::vector<std::unique_ptr<Peer>> peers;
    while (!stop_) {
      std::vector<pollfd> fds{{listen_.get(), POLLIN, 0}};
      for (auto& p : peers) fds.push_back({p->fd.get(), POLLIN, 0});
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents) {
        auto peer = std::make_unique<Peer>();
        peer->fd.Reset(accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        ++connections_;
        peers.push_back(std::move(peer));
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        Peer& p = *peers[i - 1];
        char buf[65536];
        ssize_t n = recv(p.fd.get(), buf, sizeof(buf), 0);
        if (n <= 0 || !p.reader.Feed(std::string_view(buf, n))) {
          p.fd.Reset();
          continue;
        }
        json::object message;
        while (p.reader.Next(&message)) {
          {
            std::lock_guard lock(mu_);
            received_.push_back(message);
          }
          handler_(p.fd.get(), message);
        }
      }
      std::erase_if(peers, [](const auto& p) { return !p->fd.valid(); });
    }
  }

  Handler handler_;
  common::UniqueFd listen_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<json::object> received_;
  std::thread thread_;
};

Process StartMoverOn(SimMount& sim, int port, const std::string& log) {
  SpawnOptions options;
  options.stdout_path = options.stderr_path = log;
  options.env = {{"COORDINATOOL_HOST", "127.0.0.1"},
                 {"COORDINATOOL_PORT", std::to_string(port)},
                 {"COORDINATOOL_CLIENT_ID", "m1"},
                 {"LD_PRELOAD", PreloadLibrary()}};
  // Under AddressSanitizer the preloaded library comes before its runtime.
  const char* asan = getenv("ASAN_OPTIONS");
  options.env.emplace_back("ASAN_OPTIONS", std::string(asan ? asan : "") +
                                               (asan && *asan ? ":" : "") +
                                               "verify_asan_link_order=0");
  std::string error;
  Process p = Process::Spawn(
      {CtPosixBinary(), "-p", sim.archive(), "-u", "1", sim.mount()}, options,
      &error);
  EXPECT_GT(p.pid(), 0) << error;
  return p;
}

std::string Command(const json::object& m) {
  const json::value* c = m.if_contains("command");
  return c && c->is_string() ? std::string(c->get_string()) : "";
}

// A server that accepts the mover, then answers its recv with bytes that
// are not JSON: the mover reconnects with backoff, not in a loop.
TEST(MoverReconnectTest, NoReconnectStormAgainstAServerThatDropsIt) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon());
  FakeServer server([](int fd, const json::object& m) {
    if (Command(m) == "ehlo") FakeServer::Send(fd, R"({"command":"ehlo"})");
    if (Command(m) == "recv")
      FakeServer::Send(fd, "{\"command\":\"recv\",\"x\":\"\xff\"}");
  });
  Process mover = StartMoverOn(sim, server.port(), sim.archive() + "/../m.log");
  ASSERT_TRUE(WaitFor([&] { return server.connections() >= 2; }))
      << "the mover never reconnected";
  const int start = server.connections();
  // Backoff from 100 ms doubling, full jitter: a handful in 4 s (the
  // expected count is about 6; the old library reconnected thousands of
  // times a second).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  while (std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const int in_window = server.connections() - start;
  RecordProperty("connections_in_4s", in_window);
  EXPECT_LE(in_window, 25);
  EXPECT_TRUE(mover.Running());
}

// One item the mover cannot decode (both data keys) is ended for itself:
// done with EPROTO over the same connection; the other item of the list
// reaches the copytool.
TEST(MoverReconnectTest, UndecodableItemIsReportedNotADisconnect) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon());
  std::atomic<int> recvs{0};
  auto item = [](int oid, bool bad) {
    json::object o{
        {"hai_action", 20},
        {"hai_fid", {{"f_seq", 0x200000401}, {"f_oid", oid}, {"f_ver", 0}}},
        {"hai_dfid", {{"f_seq", 0x200000401}, {"f_oid", oid}, {"f_ver", 0}}},
        {"hai_extent_offset", 0},
        {"hai_extent_length", -1},
        {"hai_cookie", 500 + oid},
        {"hai_gid", 0},
        {"hai_data", "ok"},
        {"hal_archive_id", 1}};
    if (bad) o["hai_data_base64"] = "b2s=";
    return o;
  };
  FakeServer server([&](int fd, const json::object& m) {
    if (Command(m) == "ehlo") FakeServer::Send(fd, R"({"command":"ehlo"})");
    if (Command(m) == "recv" && recvs++ == 0) {
      json::object hal{{"hal_version", 1},
                       {"hal_archive_id", 1},
                       {"hal_fsname", "lustre"},
                       {"list", {item(1, true), item(2, false)}}};
      FakeServer::Send(fd, json::serialize(json::object{
                               {"command", "recv"}, {"hsm_action_list", hal}}));
    }
    if (Command(m) == "done") FakeServer::Send(fd, R"({"command":"done"})");
  });
  const std::string log = sim.archive() + "/../m.log";
  Process mover = StartMoverOn(sim, server.port(), log);
  auto done_of = [&](int64_t cookie) -> std::optional<int64_t> {
    for (const json::object& m : server.Received())
      if (Command(m) == "done" && m.at("hai_cookie").as_int64() == cookie)
        return m.at("status").as_int64();
    return std::nullopt;
  };
  ASSERT_TRUE(WaitFor([&] { return done_of(501) && done_of(502); }))
      << ReadAll(log);
  EXPECT_EQ(*done_of(501), EPROTO);
  EXPECT_NE(*done_of(502), EPROTO);  // the copytool's own result
  EXPECT_EQ(server.connections(), 1) << ReadAll(log);
}

// Only the mover running an item may end it; a malformed status is an
// error naming it.
TEST(DoneOwnershipTest, DoneFromAnotherConnectionChangesNothing) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon());
  CoordinatoolSetup cdt(sim);
  ASSERT_TRUE(cdt.StartServer({"--client-grace", "3000"}));
  // 3 MiB at 1 MiB/s: running long enough to be ended by someone else.
  ASSERT_NE(cdt.StartMover("m1", {}, {"--bandwidth", "1"}), nullptr);
  const std::string path = sim.Path("slow");
  ASSERT_TRUE(WriteTestFile(path, 3 << 20, 3).has_value());
  ASSERT_TRUE(sim.Lfs({"hsm_archive", path}).ok());
  ASSERT_TRUE(WaitFor([&] {
    return cdt.ClientNumber("m1", "current_archive") == 1;
  })) << cdt.Logs();
  json::object running = json::parse(cdt.ClientField("m1", "active_requests"))
                             .as_array()[0]
                             .as_object();

  client::Session intruder;
  std::string error;
  ASSERT_TRUE(
      intruder.Connect("127.0.0.1", std::to_string(cdt.port()), &error));
  json::object reply;
  ASSERT_TRUE(intruder.Call({{"command", "ehlo"}, {"id", "intruder"}}, &reply,
                            10'000, &error));
  ASSERT_TRUE(intruder.Call({{"command", "done"},
                             {"hai_cookie", running.at("hai_cookie")},
                             {"hai_dfid", running.at("hai_fid")},
                             {"status", 0}},
                            &reply, 10'000, &error))
      << error;
  EXPECT_EQ(client::ReplyStatus(reply), EPERM) << json::serialize(reply);
  EXPECT_EQ(reply.at("error").as_string(), "item runs on another client");
  EXPECT_EQ(cdt.ClientNumber("m1", "current_archive"), 1);
  EXPECT_EQ(cdt.Counter("running_archive"), 1);

  ASSERT_TRUE(intruder.Call({{"command", "done"},
                             {"hai_cookie", 1},
                             {"hai_dfid", running.at("hai_fid")},
                             {"status", "x"}},
                            &reply, 10'000, &error));
  EXPECT_EQ(client::ReplyStatus(reply), EINVAL);
  EXPECT_EQ(reply.at("error").as_string(), "'status' must be an integer");
  ASSERT_TRUE(intruder.Call({{"command", "done"},
                             {"hai_cookie", "1"},
                             {"hai_dfid", running.at("hai_fid")}},
                            &reply, 10'000, &error));
  EXPECT_EQ(reply.at("error").as_string(), "'hai_cookie' must be an integer");

  // The owner's own done ends it.
  ASSERT_TRUE(sim.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED",
                                std::chrono::seconds(60)));
  EXPECT_TRUE(WaitFor([&] {
    return cdt.ClientNumber("m1", "done_archive") == 1;
  })) << cdt.Logs();
  EXPECT_EQ(cdt.Counter("running_archive"), 0);
}

}  // namespace
}  // namespace testing_support
