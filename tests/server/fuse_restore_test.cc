// End to end on a FUSE-served simulated mount with coordinatool: plain
// reads and writes of released files (a `cat`, a `dd`) send Lustre's
// implicit restore, which the coordinatool server hands to a mover running
// ct-posix under the preload library; the I/O waits for it and sees the
// restored data (docs/simulator.md, FUSE mode).
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>

#include <map>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

uint32_t States(const std::string& path) {
  hsm_user_state hus{};
  EXPECT_EQ(llapi_hsm_state_get(path.c_str(), &hus), 0) << path;
  return hus.hus_states;
}

class FuseRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FuseTestsDisabled())
      GTEST_SKIP() << "COORDINATOOL_NO_FUSE=1: FUSE tests skipped";
    ASSERT_EQ(FuseUnavailable(), "");
    ASSERT_TRUE(sim_.StartDaemon());
    ASSERT_TRUE(cdt_.StartServer());
    ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  }

  SimMount sim_{"lustre", SimMode::kFuse};
  CoordinatoolSetup cdt_{sim_};
};

TEST_F(FuseRestoreTest, CatAndDdIntoReleasedFilesRestoreThemThroughMovers) {
  std::vector<std::string> files;
  std::map<std::string, std::string> data;
  for (int i = 0; i < 4; ++i) {
    files.push_back(sim_.Path("f" + std::to_string(i)));
    ASSERT_TRUE(WriteTestFile(files.back(), 100000 + i, i).has_value());
    data[files.back()] = ReadWholeFile(files.back());
  }
  RunLfs(sim_, "hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("ARCHIVE", "SUCCEED") == files.size();
  })) << cdt_.Logs();
  RunLfs(sim_, "hsm_release", files);
  for (const std::string& f : files) ASSERT_NE(States(f) & HS_RELEASED, 0u);

  // A plain cat of two, a dd into the middle of the third, an append to
  // the fourth.
  for (int i = 0; i < 2; ++i) {
    CommandResult r = RunCommand({"/bin/cat", files[i]});
    ASSERT_TRUE(r.ok()) << r.Describe() << cdt_.Logs();
    EXPECT_TRUE(r.out == data[files[i]]) << files[i];
  }
  CommandResult r = RunCommand(
      {"/bin/sh", "-c",
       "printf 1234 | dd of=\"$0\" bs=1 seek=500 conv=notrunc status=none",
       files[2]});
  ASSERT_TRUE(r.ok()) << r.Describe() << cdt_.Logs();
  r = RunCommand({"/bin/sh", "-c", "printf end >> \"$0\"", files[3]});
  ASSERT_TRUE(r.ok()) << r.Describe() << cdt_.Logs();

  std::string dd_want = data[files[2]];
  dd_want.replace(500, 4, "1234");
  EXPECT_TRUE(ReadWholeFile(files[2]) == dd_want);
  EXPECT_TRUE(ReadWholeFile(files[3]) == data[files[3]] + "end");
  EXPECT_EQ(sim_.CountActions("RESTORE", "SUCCEED"), 4u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(States(files[i]) & (HS_RELEASED | HS_DIRTY),
              i < 2 ? 0u : uint32_t{HS_DIRTY})
        << files[i];
}

}  // namespace
}  // namespace testing_support
