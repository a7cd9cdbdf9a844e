#include "sim/mdt/debugfs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sim/mdt/test_util.h"

namespace sim::mdt {
namespace {

class DebugfsTest : public testing::CdtFixture {};

TEST_F(DebugfsTest, DataPrefixIsFiveBytesOfUppercaseHex) {
  EXPECT_EQ(DataPrefixHex(""), "");
  EXPECT_EQ(DataPrefixHex("hello world"), "68656C6C6F");
  EXPECT_EQ(DataPrefixHex("\xff"), "FF");
}

TEST_F(DebugfsTest, ExactLines) {
  lu_fid a = MakeFile("a"), b = MakeFile("b");
  ASSERT_EQ(Request(HUA_ARCHIVE, {a}, 0, 0, "hello"), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {b}, 2), 0);
  ASSERT_EQ(cdt_->RegisterAgent("uuid-1", {1, 3}), 0);
  Scan();
  uint64_t c1 = Rec(1).cookie(), c2 = Rec(2).cookie();
  hsm_progress hp{a, c1, {0, 4096}, 0, 0, 0};
  ASSERT_EQ(cdt_->Progress(hp), 0);
  EXPECT_EQ(FormatActiveRequests(*cdt_),
            fmt::format("fid=[0x200000401:0x1:0x0] dfid=[0x200000401:0x1:0x0] "
                        "compound/cookie=0x0/{:#x} action=ARCHIVE archive#=1 "
                        "flags=0x0 extent=0x0-0xffffffffffffffff gid=0x0 "
                        "data=[68656C6C6F] canceled=0 uuid=uuid-1 done=4096\n",
                        c1));
  EXPECT_EQ(FormatAgents(*cdt_),
            "uuid=uuid-1 archive_id=1,3 requests=[current:1 ok:0 errors:0]\n");
  EXPECT_EQ(
      FormatActions(*cdt_),
      fmt::format(
          "lrh=[type=10680000 len=144 idx=1/1] fid=[0x200000401:0x1:0x0] "
          "dfid=[0x200000401:0x1:0x0] compound/cookie=0x0/{:#x} "
          "action=ARCHIVE archive#=1 flags=0x0 "
          "extent=0x0-0xffffffffffffffff gid=0x0 datalen=5 status=STARTED "
          "data=[68656C6C6F]\n"
          "lrh=[type=10680000 len=136 idx=1/2] fid=[0x200000401:0x2:0x0] "
          "dfid=[0x200000401:0x2:0x0] compound/cookie=0x0/{:#x} "
          "action=ARCHIVE archive#=2 flags=0x0 "
          "extent=0x0-0xffffffffffffffff gid=0x0 datalen=0 status=WAITING "
          "data=[]\n",
          c1, c2));
  ASSERT_EQ(cdt_->RegisterAgent("uuid-2", {0}), 0);
  EXPECT_EQ(FormatAgents(*cdt_),
            "uuid=uuid-1 archive_id=1,3 requests=[current:1 ok:0 errors:0]\n"
            "uuid=uuid-2 archive_id=ANY requests=[current:0 ok:0 errors:0]\n");
}

}  // namespace
}  // namespace sim::mdt
