// The simulated MDT running the LU-10968 upcall (docs/upcall.md): the
// request's RPC waits for the upcall while the daemon serves every other
// client, and an upcall that never ends is killed after
// hsm.sim_upcall_timeout_s, failing its request with ETIMEDOUT.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>

#include "tests/support/file_data.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"

namespace testing_support {
namespace {

TEST(UpcallRunTest, TheLoopServesOthersAndAHungUpcallTimesOut) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon({"hsm.sim_upcall_timeout_s=2"}));
  TempDir dir("upcall-run");
  const std::string upcall = dir.Join("upcall");
  // Never exits by itself; a marker says it started.
  std::ofstream(upcall) << "#!/bin/sh\ntouch " << dir.Join("started")
                        << "\nexec sleep 600\n";
  ASSERT_EQ(chmod(upcall.c_str(), 0755), 0);
  ASSERT_TRUE(sim.SetParam("hsm.upcall_path", upcall));
  ASSERT_TRUE(sim.SetParam("hsm.upcall_mask", "ARCHIVE"));
  const std::string file = sim.Path("f");
  ASSERT_TRUE(WriteTestFile(file, 1000, 1));

  SpawnOptions options;
  options.stderr_path = dir.Join("lfs.err");
  std::string error;
  Process lfs =
      Process::Spawn({SimLfsBinary(), "hsm_archive", file}, options, &error);
  ASSERT_GT(lfs.pid(), 0) << error;
  struct stat st;
  ASSERT_TRUE(WaitFor([&] {
    return stat(dir.Join("started").c_str(), &st) == 0;
  })) << sim.Logs();
  // The upcall runs: its request waits, other clients are served.
  EXPECT_TRUE(lfs.Running());
  EXPECT_EQ(sim.GetParam("hsm.upcall_mask"), "ARCHIVE\n");
  CommandResult state = sim.Lfs({"hsm_state", file});
  EXPECT_TRUE(state.ok()) << state.Describe();
  // Killed after 2 s: the request fails with ETIMEDOUT.
  std::optional<int> rc = lfs.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(rc.has_value()) << sim.Logs();
  ASSERT_TRUE(WIFEXITED(*rc)) << *rc;
  EXPECT_EQ(WEXITSTATUS(*rc), ETIMEDOUT) << sim.Logs();
  EXPECT_EQ(sim.CountActions("ARCHIVE", "WAITING"), 0u);
}

}  // namespace
}  // namespace testing_support
