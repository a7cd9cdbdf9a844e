// Issue 10, connections: what one peer does (an item too big for its
// buffer, silence, too many connections or descriptors, a huge unfinished
// message, a huge status dump) never stops the server from serving the
// others. Real server, movers and sockets.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/server/raw_peer.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

class ConnectionSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }
  void TearDown() override {
    for (const std::string& name : env_) unsetenv(name.c_str());
  }

  // Starts the server with COORDINATOOL_* settings in its environment (a
  // server that does not know a setting ignores it: the same test runs
  // against an older build, where it shows the defect).
  ::testing::AssertionResult StartServer(
      const std::vector<std::pair<std::string, std::string>>& env,
      const std::vector<std::string>& args = {}) {
    for (const auto& [name, value] : env) {
      setenv(name.c_str(), value.c_str(), 1);
      env_.push_back(name);
    }
    return cdt_.StartServer(args);
  }

  common::UniqueFd Connect() { return ConnectTo(cdt_.port()); }

  std::string NewFile(const std::string& name, size_t size = 10000) {
    std::string path = sim_.Path(name);
    EXPECT_TRUE(WriteTestFile(path, size, ++files_).has_value());
    return path;
  }

  // The movers still work: one more archive completes.
  void ExpectServiceContinues() {
    std::string path = NewFile("after" + std::to_string(files_));
    ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
    EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
        << cdt_.Logs();
  }

  // A line of /proc/PID/status, in kB.
  static int64_t ProcStatusKb(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(key + ":", 0) == 0)
        return std::stoll(line.substr(key.size() + 1));
    return -1;
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  int files_ = 0;
  std::vector<std::string> env_;
};

// Defect 9: an archive whose data exceeds the mover's buffer used to stay at
// the head of its queue and block every archive behind it.
TEST_F(ConnectionSafetyTest,
       OversizedItemDoesNotBlockOthersAndGoesToABigBuffer) {
  ASSERT_TRUE(cdt_.StartServer({"-v"}));
  ASSERT_NE(cdt_.StartMover("small", {{"COORDINATOOL_HAL_SIZE", "1024"}}),
            nullptr);
  std::string big = NewFile("big");
  ASSERT_TRUE(
      sim_.Lfs({"hsm_archive", "--data", std::string(1500, 'x'), big}).ok());
  std::vector<std::string> others;
  for (int i = 0; i < 3; ++i) {
    others.push_back(NewFile("small" + std::to_string(i)));
    ASSERT_TRUE(sim_.Lfs({"hsm_archive", others.back()}).ok());
  }
  for (const std::string& path : others)
    EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
        << cdt_.Logs();
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("oversized") == 1; }));
  EXPECT_FALSE(cdt_.ServerLogLines("needs 1644 bytes, more than the buffer of "
                                   "mover small \\(1024 bytes\\): set aside")
                   .empty())
      << cdt_.Logs();
  // A mover with a buffer that fits takes it.
  ASSERT_NE(cdt_.StartMover("large"), nullptr);
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(big), "ARCHIVE", "SUCCEED"))
      << cdt_.Logs();
  EXPECT_EQ(cdt_.Counter("oversized"), 0);
}

TEST_F(ConnectionSafetyTest, OversizedItemNobodyFitsIsFailedAtLustre) {
  ASSERT_TRUE(StartServer({{"COORDINATOOL_OVERSIZED_TIMEOUT_MS", "1000"}}));
  ASSERT_NE(cdt_.StartMover("small", {{"COORDINATOOL_HAL_SIZE", "1024"}}),
            nullptr);
  std::string big = NewFile("big");
  ASSERT_TRUE(
      sim_.Lfs({"hsm_archive", "--data", std::string(1500, 'x'), big}).ok());
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(big), "ARCHIVE", "FAILED"))
      << cdt_.Logs();
  EXPECT_FALSE(cdt_.ServerLogLines("failing it at Lustre \\(E2BIG\\)").empty());
  EXPECT_EQ(cdt_.Counter("pending_archive"), 0);
  ExpectServiceContinues();
}

// Defect 10: a peer that says ehlo and then nothing kept its id for ever,
// and the restarted mover with that id was refused.
TEST_F(ConnectionSafetyTest, SilentPeerLosesItsIdToARestartedMover) {
  ASSERT_TRUE(StartServer({{"COORDINATOOL_LIVENESS_TIMEOUT_MS", "1500"}}));
  common::UniqueFd silent = Connect();
  ASSERT_TRUE(SendAll(silent.get(), R"({"command":"ehlo","id":"m9"})"));
  ASSERT_NE(ReadObject(silent.get()).find("\"command\":\"ehlo\""),
            std::string::npos);
  ASSERT_TRUE(SendAll(silent.get(), R"({"command":"recv"})"));
  std::string path = NewFile("held");
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
  // The silent peer got the archive, and says nothing more.
  ASSERT_NE(ReadObject(silent.get()).find("hsm_action_list"),
            std::string::npos);
  // The server heard it last before it sent that list: once the bound has
  // passed from now, it has passed for the server too.
  const auto heard_before = std::chrono::steady_clock::now();
  EXPECT_EQ(cdt_.ClientNumber("m9", "current_archive"), 1);
  // The restarted mover takes the id over once the old connection was
  // silent for the bound, and runs the item.
  std::this_thread::sleep_until(heard_before + std::chrono::milliseconds(1600));
  ASSERT_NE(cdt_.StartMover("m9"), nullptr);
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
      << cdt_.Logs();
  EXPECT_FALSE(cdt_.ServerLogLines("takes mover id m9 over").empty())
      << cdt_.Logs();
  EXPECT_TRUE(ClosedAfterDraining(silent.get()));
}

TEST_F(ConnectionSafetyTest, ConnectionWithoutEhloIsClosed) {
  ASSERT_TRUE(StartServer({{"COORDINATOOL_HANDSHAKE_TIMEOUT_MS", "500"}}));
  common::UniqueFd mute = Connect();
  EXPECT_TRUE(ClosedAfterDraining(mute.get()));
  EXPECT_FALSE(cdt_.ServerLogLines("no ehlo within 500 ms").empty());
}

TEST_F(ConnectionSafetyTest,
       StoppedMoverLosesItsIdAndTheRestartedOneGetsItsItems) {
  ASSERT_TRUE(StartServer({{"COORDINATOOL_LIVENESS_TIMEOUT_MS", "2000"}},
                          {"--client-grace", "60000"}));
  // A slow copy, so that the mover holds the item when it stops.
  Process* stopped = cdt_.StartMover("m1", {}, {"--bandwidth", "100K"});
  ASSERT_NE(stopped, nullptr);
  std::string path = NewFile("slow", 2'000'000);
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
  ASSERT_TRUE(
      WaitFor([&] { return cdt_.ClientNumber("m1", "current_archive") == 1; }));
  ASSERT_EQ(stopped->Signal(SIGSTOP), 0);
  // Its heartbeats stop: the server closes it within the bound (and a
  // margin for the check period), keeping its work for the grace time.
  EXPECT_TRUE(WaitFor(
      [&] { return cdt_.ClientField("m1", "status") == "disconnected"; },
      std::chrono::seconds(10)))
      << cdt_.Logs();
  EXPECT_FALSE(cdt_.ServerLogLines("mover m1 silent for").empty());
  stopped->Kill();
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
      << cdt_.Logs();
}

TEST_F(ConnectionSafetyTest, HeartbeatsKeepAnIdleMoverConnected) {
  ASSERT_TRUE(StartServer({{"COORDINATOOL_LIVENESS_TIMEOUT_MS", "900"}}));
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  // Three bounds without work: heartbeats only.
  std::string path = NewFile("late");
  EXPECT_FALSE(
      WaitFor([&] { return !cdt_.ServerLogLines("silent for").empty(); },
              std::chrono::milliseconds(2700)));
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"));
  EXPECT_TRUE(cdt_.ServerLogLines("disconnected").empty()) << cdt_.Logs();
}

// Defect 11: out of descriptors, accept failed at once again and again (a
// core and a log line each time).
TEST_F(ConnectionSafetyTest, AcceptBacksOffWhenOutOfDescriptorsAndRecovers) {
  ASSERT_TRUE(StartServer({{"COORDINATOOL_MAX_CONNECTIONS", "100000"}}));
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  rlimit low{64, 64};
  ASSERT_EQ(prlimit(cdt_.server().pid(), RLIMIT_NOFILE, &low, nullptr), 0);
  std::vector<common::UniqueFd> flood;
  for (int i = 0; i < 100; ++i) flood.push_back(Connect());
  ASSERT_TRUE(WaitFor([&] {
    return !cdt_.ServerLogLines("accept: Too many open files").empty();
  }));
  ExpectServiceContinues();
  // Bounded: one line, not one per failure.
  EXPECT_LE(cdt_.ServerLogLines("accept: ").size(), 2u);
  flood.clear();
  EXPECT_TRUE(WaitFor(
      [&] { return !cdt_.ServerLogLines("accept works again").empty(); }));
  CommandResult status = cdt_.Client({});
  EXPECT_TRUE(status.ok()) << status.Describe();
  ExpectServiceContinues();
}

TEST_F(ConnectionSafetyTest, ConnectionsOverTheCapAreRefusedWithAnError) {
  ASSERT_TRUE(StartServer({{"COORDINATOOL_MAX_CONNECTIONS", "3"}}));
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  common::UniqueFd a = Connect(), b = Connect();
  for (int fd : {a.get(), b.get()}) {  // both served: 3 connections
    ASSERT_TRUE(SendAll(fd, R"({"command":"ehlo"})"));
    ASSERT_NE(ReadObject(fd).find("\"command\":\"ehlo\""), std::string::npos);
  }
  common::UniqueFd refused = Connect();
  std::string reply = ReadObject(refused.get());
  EXPECT_NE(reply.find("too many connections (max_connections 3)"),
            std::string::npos)
      << reply;
  EXPECT_TRUE(ClosedAfterDraining(refused.get()));
  CommandResult client = cdt_.Client({});
  EXPECT_FALSE(client.ok());
  EXPECT_NE(client.err.find("too many connections"), std::string::npos)
      << client.Describe();
  ExpectServiceContinues();
  a.Reset();
  EXPECT_TRUE(WaitFor([&] { return cdt_.Client({}).ok(); }));
}

// An unfinished 30 MiB array of small numbers cost 360 MiB of server memory.
TEST_F(ConnectionSafetyTest, HalfSentHugeArrayStaysWithinTheMemoryBound) {
  ASSERT_TRUE(cdt_.StartServer());  // connection_memory_mb 64 by default
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  const pid_t pid = cdt_.server().pid();
  const int64_t before_kb = ProcStatusKb(pid, "VmRSS");
  common::UniqueFd fd = Connect();
  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"queue","hsm_action_items":[)"));
  std::string chunk;
  for (int i = 0; i < (1 << 19); ++i) chunk += "0,";  // 1 MiB
  for (int mib = 0; mib < 30 && SendAll(fd.get(), chunk); ++mib) {
  }
  EXPECT_TRUE(ClosedAfterDraining(fd.get()));
  const int64_t peak_kb = ProcStatusKb(pid, "VmHWM");
  RecordProperty("rss_before_kb", std::to_string(before_kb));
  RecordProperty("rss_peak_kb", std::to_string(peak_kb));
  std::cout << "server RSS before " << before_kb << " kB, peak " << peak_kb
            << " kB\n";
  // 64 MiB for the parse, and a margin for buffers and the allocator.
  EXPECT_LT(peak_kb - before_kb, 96 * 1024)
      << "before " << before_kb << " kB, peak " << peak_kb << " kB";
  EXPECT_FALSE(
      cdt_.ServerLogLines("JSON value needs more than 67108864 bytes").empty())
      << cdt_.Logs();
  ExpectServiceContinues();
}

// Defect 12: a status dump larger than the output cap got a closed
// connection, and building it stalled the loop.
TEST_F(ConnectionSafetyTest, HugeStatusDumpStreamsEverythingWhileMoversWork) {
  // The 100,000 requests queued below are made up: Lustre holds none.
  ASSERT_TRUE(
      cdt_.StartServer({"--no-store", "--queue-check-lustre", "false"}));
  ASSERT_NE(cdt_.StartMover("m1", {}, {"-A", "1"}), nullptr);
  // 100,000 archives of an archive id no mover serves, with 700 bytes of
  // data each: a dump of ~80 MB.
  constexpr int kItems = 100'000;
  const std::string data(700, 'a');
  std::string hex;
  for (char c : data) hex += fmt::format("{:02X}", static_cast<unsigned>(c));
  for (int batch = 0; batch < kItems / 10'000; ++batch) {
    std::string lines;
    for (int i = 0; i < 10'000; ++i) {
      int n = batch * 10'000 + i + 1;
      lines += fmt::format(
          "fid=[0x300000401:{:#x}:0x0] dfid=[0x300000401:{:#x}:0x0] "
          "compound/cookie=0x1/{:#x} action=ARCHIVE archive#=7 flags=0x0 "
          "extent=0x0-0xffffffffffffffff gid=0x0 data=[{}] canceled=0 "
          "uuid=0b1c2d3e-0000-4000-8000-000000000001 done=0\n",
          n, n, n, hex);
    }
    CommandResult q = cdt_.Client({"-Q"}, lines);
    ASSERT_TRUE(q.ok()) << q.Describe();
    ASSERT_EQ(q.out, "queued 10000 new requests, 0 already known\n");
  }
  // The dump and an archive at the same time.
  std::string path = NewFile("during");
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
  CommandResult dump = cdt_.Client({"-vv", "--json"});
  ASSERT_TRUE(dump.ok()) << dump.err.substr(0, 2000);
  json::value status = json::parse(dump.out);
  ASSERT_TRUE(status.at("waiting_archive").is_array())
      << dump.out.substr(0, 3000);
  EXPECT_EQ(status.at("waiting_archive").as_array().size(),
            static_cast<size_t>(kItems));
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"));
}

}  // namespace
}  // namespace testing_support
