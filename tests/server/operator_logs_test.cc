// Issue 13, items 4 and 5 with real processes: a mover started before its
// server waits for it; the server logs every event of a request in one
// grep-able shape; under systemd (stderr is the journal) its lines carry
// sd-daemon priorities and no time of their own.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

class OperatorLogsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }

  size_t Count(const std::string& text, const std::string& needle) {
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1))
      ++count;
    return count;
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
};

// Before, register failed at once and the copytool exited ("cannot reach
// coordinatool"): a site had to start the server first.
TEST_F(OperatorLogsTest, MoverStartedBeforeTheServerWaitsForIt) {
  // A server once, for a port; then none on it.
  ASSERT_TRUE(cdt_.StartServer());
  cdt_.KillServer();
  Process* mover = cdt_.SpawnMover("m1");
  ASSERT_NE(mover, nullptr);
  ASSERT_TRUE(WaitFor([&] {
    return Count(cdt_.MoverLog("m1"),
                 "waiting for the server: cannot connect to 127.0.0.1:" +
                     std::to_string(cdt_.port())) >= 2;
  })) << cdt_.Logs();
  EXPECT_NE(cdt_.MoverLog("m1").find("; next attempt within "),
            std::string::npos);
  EXPECT_TRUE(mover->Running()) << cdt_.Logs();

  ASSERT_TRUE(cdt_.StartServer());
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientField("m1", "status") != "" &&
           cdt_.ClientField("m1", "status") != "disconnected";
  })) << cdt_.Logs();
  const std::string path = sim_.Path("early");
  ASSERT_TRUE(WriteTestFile(path, 1000, 1).has_value());
  RunLfs(sim_, "hsm_archive", {path});
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
      << sim_.GetParam("hsm.actions") << cdt_.Logs();
}

// One request's story by its cookie: received, placed, sent, done, each
// with the FID in Lustre's form, the cookie in hex and the action.
TEST_F(OperatorLogsTest, EveryRequestEventIsOneLineOfOneShape) {
  ASSERT_TRUE(cdt_.StartServer());
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  std::vector<std::string> paths;
  for (int i = 0; i < 3; ++i) {
    paths.push_back(sim_.Path("f" + std::to_string(i)));
    ASSERT_TRUE(WriteTestFile(paths.back(), 1000 + i, i).has_value());
  }
  RunLfs(sim_, "hsm_archive", paths);
  for (const std::string& path : paths)
    ASSERT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
        << sim_.GetParam("hsm.actions") << cdt_.Logs();
  // The mover ends at Lustre before it tells the server.
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ServerLogLines(" request done ").size() == paths.size();
  })) << cdt_.Logs();
  for (const std::string& path : paths) {
    const std::string fid = FidOf(path);
    SCOPED_TRACE(fid);
    const std::string quoted =
        std::regex_replace(fid, std::regex(R"([\[\]])"), R"(\$&)");
    std::vector<std::string> received = cdt_.ServerLogLines(
        " info request received " + quoted +
        R"( cookie=0x[0-9a-f]+ action=ARCHIVE from=lustre archive_id=\d+$)");
    ASSERT_EQ(received.size(), 1u) << cdt_.Logs();
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(received[0], m, std::regex("cookie=(0x[0-9a-f]+) ")));
    const std::string item =
        quoted + " cookie=" + m[1].str() + " action=ARCHIVE";
    EXPECT_EQ(
        cdt_.ServerLogLines(" info request placed " + item + " queue=any$")
            .size(),
        1u)
        << cdt_.Logs();
    EXPECT_EQ(
        cdt_.ServerLogLines(" info request sent " + item + " mover=m1$").size(),
        1u)
        << cdt_.Logs();
    EXPECT_EQ(cdt_.ServerLogLines(" info request done " + item +
                                  R"( mover=m1 status=0 duration_ms=\d+$)")
                  .size(),
              1u)
        << cdt_.Logs();
    // In the order of events.
    std::vector<std::string> story =
        cdt_.ServerLogLines("request \\w+ " + item);
    ASSERT_EQ(story.size(), 4u) << cdt_.Logs();
    EXPECT_NE(story[0].find(" received "), std::string::npos);
    EXPECT_NE(story[1].find(" placed "), std::string::npos);
    EXPECT_NE(story[2].find(" sent "), std::string::npos);
    EXPECT_NE(story[3].find(" done "), std::string::npos);
  }
}

// systemd sets JOURNAL_STREAM to the device and inode of the service's
// stderr when it goes to the journal: the server then prefixes each line
// with its priority and leaves the time to journald.
TEST_F(OperatorLogsTest, UnderJournaldLinesCarryPriorityAndNoTime) {
  // StartServer's first log file, made beforehand to know its inode.
  const std::string log = sim_.archive() + "/../logs/coordinatool-1.log";
  { std::ofstream touch(log); }
  struct stat st;
  ASSERT_EQ(stat(log.c_str(), &st), 0);
  setenv("JOURNAL_STREAM",
         (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(),
         1);
  ::testing::AssertionResult started = cdt_.StartServer();
  unsetenv("JOURNAL_STREAM");
  ASSERT_TRUE(started);
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  const std::string path = sim_.Path("journal");
  ASSERT_TRUE(WriteTestFile(path, 1000, 1).has_value());
  RunLfs(sim_, "hsm_archive", {path});
  ASSERT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
      << cdt_.Logs();
  EXPECT_FALSE(cdt_.ServerLogLines("^<6>info serving ").empty()) << cdt_.Logs();
  EXPECT_TRUE(WaitFor([&] {
    return !cdt_.ServerLogLines("^<6>info request done ").empty();
  })) << cdt_.Logs();
  // Every line: a priority, then the level; never a time stamp.
  std::vector<std::string> all = cdt_.ServerLogLines("");
  ASSERT_FALSE(all.empty());
  for (const std::string& line : all)
    EXPECT_TRUE(std::regex_search(
        line,
        std::regex("^<[0-7]>(critical|error|warn|warning|info|debug|trace) ")))
        << line;
  EXPECT_TRUE(cdt_.ServerLogLines(R"(\d{4}-\d\d-\d\dT\d\d:)").empty());
}

}  // namespace
}  // namespace testing_support
