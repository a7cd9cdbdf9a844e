// Issue 13: SIGHUP reloads the configuration of a running server (a real
// coordinatool process on the simulator, movers running ct-posix under the
// preload library). What may change at run time takes effect (log level,
// a connection limit, a host rule), what needs a restart is reported and
// kept (the port: still serving on the old one), and a broken file changes
// nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/server/raw_peer.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

class ConfigReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.StartDaemon());
    config_path_ = sim_.archive() + "/../coordinatool.conf";
  }

  void WriteConfig(const std::string& text) {
    std::ofstream(config_path_, std::ios::trunc) << text;
  }

  // Sends SIGHUP and waits for the reload's `n`-th outcome line.
  void Reload(size_t n) {
    ASSERT_EQ(cdt_.server().Signal(SIGHUP), 0);
    ASSERT_TRUE(WaitFor([&] {
      return cdt_.ServerLogLines("reload: (applied|no setting)|reload refused")
                 .size() >= n;
    })) << cdt_.Logs();
  }

  // Lines of the server's debug "PEER: connected", one per connection.
  size_t DebugConnectLines() const {
    return cdt_.ServerLogLines(R"(\d+: connected$)").size();
  }

  std::vector<std::string> Archive(const std::string& name, int count,
                                   const std::string& data) {
    return sim_.ArchiveNewFiles(name, count, data);
  }

  ::testing::AssertionResult Archived(const std::string& path) {
    auto r = sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED");
    if (!r) return r << "\n" << cdt_.Logs();
    return ::testing::AssertionSuccess();
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  std::string config_path_;
};

// The log level, a limit and a policy's rule, changed in the file: each
// takes effect at SIGHUP without a restart.
TEST_F(ConfigReloadTest, LogLevelLimitAndHostRuleTakeEffect) {
  WriteConfig("verbose normal\n");
  ASSERT_TRUE(cdt_.StartServer({"-c", config_path_}));
  const int pid = cdt_.server().pid();
  ASSERT_NE(cdt_.StartMover("mover-a"), nullptr);
  ASSERT_TRUE(cdt_.Client({}).ok());
  EXPECT_EQ(DebugConnectLines(), 0u);  // info level: no debug lines

  WriteConfig(
      "verbose debug\n"
      "max_connections 3\n"
      "archive_on_hosts tape=t1 mover-b\n");
  Reload(1);
  std::vector<std::string> applied = cdt_.ServerLogLines("reload: applied");
  ASSERT_EQ(applied.size(), 1u) << cdt_.Logs();
  EXPECT_NE(applied[0].find("verbose normal -> debug"), std::string::npos)
      << applied[0];
  EXPECT_NE(applied[0].find("max_connections 0 -> 3"), std::string::npos)
      << applied[0];
  EXPECT_NE(applied[0].find("archive_on_hosts (none) -> tape=t1 mover-b"),
            std::string::npos)
      << applied[0];
  EXPECT_TRUE(cdt_.ServerLogLines("only at a restart").empty());

  // Log level: connections are logged at debug level now.
  ASSERT_TRUE(cdt_.Client({}).ok());
  EXPECT_TRUE(WaitFor([&] { return DebugConnectLines() >= 1; })) << cdt_.Logs();

  // The host rule: tagged archives wait for mover-b, although mover-a is
  // idle and takes a plain archive queued after them.
  auto tagged = Archive("t", 3, "tape=t1");
  auto plain = Archive("p", 1, "");
  ASSERT_TRUE(Archived(plain[0]));
  EXPECT_EQ(cdt_.Counter("pending_archive"), 3);
  EXPECT_EQ(cdt_.ClientNumber("mover-a", "done_archive"), 1);
  ASSERT_NE(cdt_.StartMover("mover-b"), nullptr);
  for (const std::string& path : tagged) ASSERT_TRUE(Archived(path));
  EXPECT_TRUE(WaitFor(
      [&] { return cdt_.ClientNumber("mover-b", "done_archive") == 3; }));
  EXPECT_EQ(cdt_.ClientNumber("mover-a", "done_archive"), 1);

  // The limit: two movers and one more connection make three; a fourth is
  // refused, naming the new cap.
  common::UniqueFd third = ConnectTo(cdt_.port());
  ASSERT_TRUE(SendAll(third.get(), R"({"command":"ehlo"})"));
  ASSERT_NE(ReadObject(third.get()).find("\"command\":\"ehlo\""),
            std::string::npos);
  CommandResult refused = cdt_.Client({});
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.err.find("too many connections (max_connections 3)"),
            std::string::npos)
      << refused.Describe();
  third.Reset();
  EXPECT_TRUE(WaitFor([&] { return cdt_.Client({}).ok(); }));
  EXPECT_EQ(cdt_.server().pid(), pid);  // never restarted
  EXPECT_TRUE(cdt_.server().Running());
}

// The port cannot change while the server runs: one warning names it with
// both values, and the server keeps serving on the port it has.
TEST_F(ConfigReloadTest, PortChangeIsReportedAndKept) {
  WriteConfig("host 127.0.0.1\nport 0\n");
  cdt_.set_listen_from_config(true);
  ASSERT_TRUE(cdt_.StartServer({"-c", config_path_}));
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  WriteConfig("host 127.0.0.1\nport 6\nclient_grace_ms 5000\n");
  Reload(1);
  std::vector<std::string> kept = cdt_.ServerLogLines("only at a restart");
  ASSERT_EQ(kept.size(), 1u) << cdt_.Logs();
  EXPECT_NE(kept[0].find("warn"), std::string::npos) << kept[0];
  EXPECT_NE(kept[0].find("port 0 (configuration says 6)"), std::string::npos)
      << kept[0];
  // The rest of the file applies.
  EXPECT_EQ(
      cdt_.ServerLogLines("reload: applied client_grace_ms 600000 -> 5000")
          .size(),
      1u)
      << cdt_.Logs();
  CommandResult status = cdt_.Client({});
  EXPECT_TRUE(status.ok()) << status.Describe();
  EXPECT_TRUE(cdt_.server().Running());
}

// A file that cannot be read changes nothing: the error names the line and
// the key, and the server serves on with the settings it had (the valid
// line before the bad one is not applied either).
TEST_F(ConfigReloadTest, BrokenFileKeepsEverything) {
  WriteConfig("verbose normal\n");
  ASSERT_TRUE(cdt_.StartServer({"-c", config_path_}));
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  WriteConfig("verbose debug\nmax_connections lots\n");
  Reload(1);
  std::vector<std::string> refused = cdt_.ServerLogLines("reload refused");
  ASSERT_EQ(refused.size(), 1u) << cdt_.Logs();
  EXPECT_NE(refused[0].find(config_path_ + ":2: key 'max_connections'"),
            std::string::npos)
      << refused[0];
  EXPECT_NE(refused[0].find("error"), std::string::npos) << refused[0];
  EXPECT_TRUE(cdt_.ServerLogLines("reload: applied").empty());
  CommandResult status = cdt_.Client({});
  EXPECT_TRUE(status.ok()) << status.Describe();
  EXPECT_EQ(DebugConnectLines(), 0u);  // still at info level
  // Fixed, the file applies at the next SIGHUP.
  WriteConfig("verbose debug\n");
  Reload(2);
  ASSERT_TRUE(cdt_.Client({}).ok());
  EXPECT_TRUE(WaitFor([&] { return DebugConnectLines() >= 1; })) << cdt_.Logs();
}

}  // namespace
}  // namespace testing_support
