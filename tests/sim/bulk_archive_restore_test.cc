// Issue requirement: 1,000 files of varied sizes (0 bytes to several MiB)
// are archived, released and restored, and come back with identical data.
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

constexpr int kFiles = 1000;
constexpr uint64_t kMiB = 1 << 20;

// Sizes from 0 bytes to 5 MiB, about 185 MiB in all: empty and one-byte
// files, page and chunk boundaries, odd sizes, a few large files.
uint64_t SizeOf(int i) {
  const uint64_t n = static_cast<uint64_t>(i);
  switch (i % 10) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return 4095;
    case 3:
      return 4096;
    case 4:
      return 4097 + n;
    case 5:
      return 65536 + 31 * n;
    case 6:
      return 200000 + n;
    case 7:
      return i % 20 == 7 ? kMiB + n : kMiB / 2;
    case 8:
      return 300000 - n;
    default:
      return i % 100 == 9 ? 5 * kMiB + n : 40000 + n;
  }
}

size_t CountWithStates(const std::vector<std::string>& files, uint32_t mask,
                       uint32_t want) {
  size_t n = 0;
  for (const std::string& f : files) {
    if ((HsmStates(f) & mask) == want) ++n;
  }
  return n;
}

TEST(BulkTest, ThousandFilesComeBackIdenticalAfterArchiveReleaseRestore) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon());
  ASSERT_NE(sim.StartCopytool({"-t", "4"}), nullptr);
  ASSERT_EQ(mkdir(sim.Path("data").c_str(), 0755), 0);

  std::vector<std::string> files;
  std::map<std::string, uint64_t> digests;
  uint64_t total = 0;
  for (int i = 0; i < kFiles; ++i) {
    files.push_back(sim.Path("data/f" + std::to_string(i)));
    auto digest = WriteTestFile(files.back(), SizeOf(i), i);
    ASSERT_TRUE(digest) << files.back();
    digests[files.back()] = *digest;
    total += SizeOf(i);
  }
  ASSERT_LT(total, 200 * kMiB);

  // Archive: every file ends archived, with no failed request.
  ASSERT_TRUE(LfsInBatches(sim, "hsm_archive", files));
  const uint32_t archived = HS_EXISTS | HS_ARCHIVED;
  ASSERT_TRUE(WaitFor(
      [&] {
        return CountWithStates(files, archived, archived) == files.size();
      },
      std::chrono::minutes(5), 200ms))
      << CountWithStates(files, archived, archived) << " archived\n"
      << sim.Logs();
  EXPECT_EQ(sim.CountActions("ARCHIVE", "SUCCEED"), files.size());
  EXPECT_EQ(sim.CountActions("ARCHIVE", "FAILED"), 0u);
  for (int i : {0, 7, 9, 999}) {  // the archive copy holds the data
    EXPECT_EQ(DigestFile(ArchiveCopyOf(sim, files[i])), digests[files[i]])
        << files[i];
  }

  // Release: the data is gone, the file keeps its size.
  ASSERT_TRUE(LfsInBatches(sim, "hsm_release", files));
  EXPECT_EQ(CountWithStates(files, HS_RELEASED, HS_RELEASED), files.size());
  EXPECT_NE(DigestFile(files[9]), digests[files[9]]);  // reads zeros

  // Restore: every file is back, byte for byte.
  ASSERT_TRUE(LfsInBatches(sim, "hsm_restore", files));
  ASSERT_TRUE(WaitFor(
      [&] { return CountWithStates(files, HS_RELEASED, 0) == files.size(); },
      std::chrono::minutes(5), 200ms))
      << CountWithStates(files, HS_RELEASED, 0) << " restored\n"
      << sim.Logs();
  EXPECT_EQ(sim.CountActions("RESTORE", "FAILED"), 0u);
  size_t identical = 0;
  for (const std::string& f : files) {
    const auto digest = DigestFile(f);
    EXPECT_EQ(digest, digests[f]) << f;
    identical += digest == digests[f];
  }
  EXPECT_EQ(identical, files.size());
  // Restored files are archived copies again, not dirty.
  EXPECT_EQ(CountWithStates(files, HS_DIRTY | archived, archived),
            files.size());
}

}  // namespace
}  // namespace testing_support
