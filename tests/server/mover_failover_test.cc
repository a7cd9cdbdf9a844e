// Issue 17, movers and clients: a mover configured with two servers
// (`host` with a comma) moves by itself to the second when the first dies,
// re-announces there what it runs, and the work completes. The two servers
// share one store (the embedded journal: the second starts on the first's
// state once the first is dead, as a standby taking over would); no lease
// is involved here.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

TEST(MoverFailoverTest, MoverMovesToTheSecondServerAndTheWorkCompletes) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon());
  CoordinatoolSetup cdt(sim);
  const std::vector<std::string> args = {"--client-grace", "5000"};
  ASSERT_TRUE(cdt.StartServer(args));
  const std::string first = "127.0.0.1:" + std::to_string(cdt.port());
  const int second_port = FreeLoopbackPort();
  ASSERT_GT(second_port, 0);
  const std::string second = "127.0.0.1:" + std::to_string(second_port);

  // 1 MiB/s: the 2 MiB archive still runs when the first server dies.
  Process* mover =
      cdt.StartMover("m1", {{"COORDINATOOL_HOST", first + "," + second}},
                     {"--bandwidth", "1"});
  ASSERT_NE(mover, nullptr);
  const std::string slow = sim.Path("slow");
  ASSERT_TRUE(WriteTestFile(slow, 2 << 20, 1).has_value());
  ASSERT_TRUE(sim.Lfs({"hsm_archive", slow}).ok());
  ASSERT_TRUE(WaitFor([&] {
    return cdt.ClientNumber("m1", "current_archive") == 1;
  })) << cdt.Logs();

  cdt.KillServer();  // SIGKILL: nothing said to the mover
  cdt.set_port(second_port);
  ASSERT_TRUE(cdt.StartServer(args));

  std::vector<std::string> paths = {slow};
  for (int i = 0; i < 3; ++i) {
    paths.push_back(sim.Path("after" + std::to_string(i)));
    ASSERT_TRUE(WriteTestFile(paths.back(), 20000, 10 + i).has_value());
    ASSERT_TRUE(sim.Lfs({"hsm_archive", paths.back()}).ok());
  }
  for (const std::string& path : paths)
    ASSERT_TRUE(sim.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
        << path << "\n"
        << cdt.Logs();
  // The same mover process, moved to the second server: it announced the
  // running archive there, and its completion and the new ones are the
  // second server's.
  EXPECT_TRUE(mover->Running());
  EXPECT_TRUE(WaitFor([&] {
    return cdt.ClientNumber("m1", "done_archive") == 4;
  })) << cdt.Logs();
  EXPECT_EQ(cdt.Counter("running_archive"), 0);
  // coordinatool-client with the same list goes past the dead server.
  SpawnOptions quiet;
  quiet.env = {{"COORDINATOOL_CONF", "/dev/null"}};
  CommandResult status = RunCommand(
      {CoordinatoolClientBinary(), "-H", first + "," + second, "--json"},
      std::chrono::seconds(60), quiet);
  ASSERT_TRUE(status.ok()) << status.Describe();
  EXPECT_NE(status.out.find("\"client_id\": \"m1\""), std::string::npos)
      << status.out;
  const std::string log = cdt.MoverLog("m1");
  EXPECT_NE(log.find("reconnected to " + second + " (was " + first + ")"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace testing_support
