// A copytool written as a site writes one (tests/lustre_api/site_copytool.c:
// C, llapi and the names of Lustre's headers only) on the simulator: run
// directly, then unmodified under the preload library as a coordinatool
// mover. Archive, release and restore bring every byte back.
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SiteCopytoolTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }

  // Files of varied sizes (an empty one, one over the copy buffer).
  void MakeFiles() {
    const uint64_t sizes[] = {0, 4096 + 3, (3 << 20) + 17};
    for (uint64_t size : sizes) {
      std::string path = sim_.Path("site" + std::to_string(size));
      auto digest = WriteTestFile(path, size, size + 11);
      ASSERT_TRUE(digest) << path;
      digests_[path] = *digest;
    }
  }

  // Archives, releases and restores every file, checking each step.
  void ArchiveReleaseRestore() {
    std::vector<std::string> files;
    for (const auto& [path, digest] : digests_) files.push_back(path);
    RunLfs(sim_, "hsm_archive", files);
    for (const std::string& f : files)
      ASSERT_TRUE(sim_.WaitForStatus(FidOf(f), "ARCHIVE", "SUCCEED")) << f;
    for (const std::string& f : files) {
      lu_fid fid{};
      ASSERT_EQ(llapi_path2fid(f.c_str(), &fid), 0);
      char name[64];
      snprintf(name, sizeof(name), DFID_NOBRACE, PFID(&fid));
      EXPECT_EQ(DigestFile(sim_.archive() + "/" + name), digests_[f]) << f;
    }
    RunLfs(sim_, "hsm_release", files);
    RunLfs(sim_, "hsm_restore", files);
    for (const std::string& f : files) {
      ASSERT_TRUE(sim_.WaitForStatus(FidOf(f), "RESTORE", "SUCCEED")) << f;
      hsm_user_state hus{};
      ASSERT_EQ(llapi_hsm_state_get(f.c_str(), &hus), 0);
      EXPECT_EQ(hus.hus_states, uint32_t{HS_EXISTS | HS_ARCHIVED}) << f;
      EXPECT_EQ(DigestFile(f), digests_[f]) << f;
    }
  }

  SimMount sim_;
  std::map<std::string, uint64_t> digests_;
};

TEST_F(SiteCopytoolTest, RunsDirectlyOnTheSimulator) {
  const size_t agents = sim_.AgentCount();
  const std::string log = sim_.archive() + "/../logs/site.log";
  SpawnOptions options;
  options.stdout_path = options.stderr_path = log;
  std::string error;
  Process ct = Process::Spawn(
      {SITE_COPYTOOL_BIN, "-p", sim_.archive(), sim_.mount()}, options, &error);
  ASSERT_GT(ct.pid(), 0) << error;
  ASSERT_TRUE(WaitFor([&] { return sim_.AgentCount() > agents; }))
      << ReadText(log);
  MakeFiles();
  ArchiveReleaseRestore();
  const std::string text = ReadText(log);
  EXPECT_NE(text.find("INFO: done"), std::string::npos) << text;
  EXPECT_EQ(text.find("ERROR"), std::string::npos) << text;
}

TEST_F(SiteCopytoolTest, RunsUnderThePreloadLibrary) {
  CoordinatoolSetup setup(sim_);
  ASSERT_TRUE(setup.StartServer());
  setup.set_mover_command({SITE_COPYTOOL_BIN, "-p", sim_.archive()});
  ASSERT_NE(setup.StartMover("site"), nullptr);
  MakeFiles();
  ArchiveReleaseRestore();
  const std::string text = setup.MoverLog("site");
  EXPECT_NE(text.find("INFO: done"), std::string::npos) << text;
  EXPECT_EQ(text.find("ERROR"), std::string::npos) << text;
}

}  // namespace
}  // namespace testing_support
