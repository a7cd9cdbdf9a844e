#include "sim/mdt/restore_gate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sim::mdt {
namespace {

constexpr lu_fid kA{0x200000401ULL, 1, 0};
constexpr lu_fid kB{0x200000401ULL, 2, 0};

TEST(NeedsRestore, TheIoLustresLayoutRefusesOnAReleasedFile) {
  // lov's io init on a released layout: read, write, fault, lseek
  // (SEEK_DATA/HOLE) and truncate/fallocate need the data; metadata does not.
  for (FileOp op : {FileOp::kRead, FileOp::kWrite, FileOp::kTruncate,
                    FileOp::kFallocate, FileOp::kSeekData})
    EXPECT_TRUE(NeedsRestore(op)) << static_cast<int>(op);
  for (FileOp op :
       {FileOp::kOpen, FileOp::kGetattr, FileOp::kSetattr, FileOp::kSeek,
        FileOp::kFlush, FileOp::kRelease, FileOp::kFsync, FileOp::kXattr})
    EXPECT_FALSE(NeedsRestore(op)) << static_cast<int>(op);
}

TEST(RestoreGate, ResumesOnlyTheFileWhoseRestoreEndedInArrivalOrder) {
  RestoreGate gate;
  std::vector<std::string> ran;
  gate.Wait(kA, [&] { ran.push_back("a1"); });
  gate.Wait(kB, [&] { ran.push_back("b1"); });
  gate.Wait(kA, [&] { ran.push_back("a2"); });
  EXPECT_EQ(gate.waiting(kA), 2u);
  EXPECT_EQ(gate.waiting(), 3u);
  EXPECT_EQ(gate.Release(kA), 2u);
  EXPECT_EQ(ran, (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(gate.waiting(kA), 0u);
  EXPECT_EQ(gate.waiting(kB), 1u);
  EXPECT_EQ(gate.Release(kA), 0u);
  EXPECT_EQ(gate.Release(kB), 1u);
  EXPECT_EQ(ran.back(), "b1");
  EXPECT_EQ(gate.waiting(), 0u);
}

TEST(RestoreGate, ACancelledWaiterIsNeverResumed) {
  RestoreGate gate;
  int ran = 0;
  uint64_t first = gate.Wait(kA, [&] { ran += 1; });
  gate.Wait(kA, [&] { ran += 10; });
  EXPECT_NE(first, 0u);
  EXPECT_TRUE(gate.Cancel(first));
  EXPECT_FALSE(gate.Cancel(first));
  EXPECT_EQ(gate.Release(kA), 1u);
  EXPECT_EQ(ran, 10);
  EXPECT_FALSE(gate.Cancel(12345));
}

TEST(RestoreGate, AResumeThatParksAgainWaitsForTheNextRelease) {
  RestoreGate gate;
  int ran = 0;
  gate.Wait(kA, [&] {
    ++ran;
    gate.Wait(kA, [&] { ran += 100; });
  });
  EXPECT_EQ(gate.Release(kA), 1u);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(gate.waiting(kA), 1u);
  EXPECT_EQ(gate.Release(kA), 1u);
  EXPECT_EQ(ran, 101);
}

}  // namespace
}  // namespace sim::mdt
