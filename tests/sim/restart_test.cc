// The daemon crashes (SIGKILL) with requests waiting and running; after a
// restart they come back from the journal (STARTED ones as WAITING), the
// copytool's library re-registers by itself, and every request completes.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/sim/hsm_test_util.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(RestartTest, PendingRequestsSurviveADaemonCrashAndComplete) {
  SimMount sim;
  // Two at a time, so that some requests are running and some waiting.
  const std::vector<std::string> settings = {"hsm.max_requests=2"};
  ASSERT_TRUE(sim.StartDaemon(settings));
  // 2 MiB/s: each 2 MiB file takes a second.
  ASSERT_NE(sim.StartCopytool({"-b", "2", "-c", "256K"}), nullptr);
  std::vector<std::string> files;
  std::map<std::string, uint64_t> digests;
  for (int i = 0; i < 8; ++i) {
    files.push_back(sim.Path("f" + std::to_string(i)));
    auto digest = WriteTestFile(files.back(), 2 * kMiB + i, i);
    ASSERT_TRUE(digest);
    digests[files.back()] = *digest;
  }
  ASSERT_TRUE(LfsInBatches(sim, "hsm_archive", files));
  ASSERT_TRUE(WaitFor([&] {
    return sim.CountActions("ARCHIVE", "STARTED") >= 1 &&
           sim.CountActions("ARCHIVE", "WAITING") >= 1;
  })) << sim.GetParam("hsm.actions");

  sim.KillDaemon();
  ASSERT_TRUE(sim.StartDaemon(settings));

  ASSERT_TRUE(WaitFor(
      [&] { return sim.CountActions("ARCHIVE", "SUCCEED") == files.size(); },
      std::chrono::seconds(120), 100ms))
      << sim.GetParam("hsm.actions") << sim.Logs();
  for (const std::string& f : files) {
    EXPECT_EQ(HsmStates(f) & (HS_ARCHIVED | HS_DIRTY), HS_ARCHIVED) << f;
    EXPECT_EQ(DigestFile(ArchiveCopyOf(sim, f)), digests[f]) << f;
  }
  EXPECT_EQ(sim.AgentCount(), 1u);  // the copytool re-registered
}

}  // namespace
}  // namespace testing_support
