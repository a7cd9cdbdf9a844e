#include "hsm/fid.h"

#include <gtest/gtest.h>

namespace hsm {
namespace {

TEST(FidTest, FormatsLikeUserspaceDfid) {
  lu_fid fid{0x200000401, 0x1, 0x0};
  EXPECT_EQ(FormatFid(fid), "[0x200000401:0x1:0x0]");
  EXPECT_EQ(FormatFidNoBrace(fid), "0x200000401:0x1:0x0");
}

TEST(FidTest, ZeroSequencePrintsAsGlibcAndKernelDo) {
  lu_fid fid{0, 0x2c, 0};
  EXPECT_EQ(FormatFid(fid), "[0:0x2c:0x0]");
  EXPECT_EQ(FormatFidKernel(fid), "[0x0:0x2c:0x0]");
}

TEST(FidTest, ParsesWithAndWithoutBrackets) {
  auto a = ParseFid("[0x200000402:0x2c:0x0]");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->f_seq, 0x200000402u);
  EXPECT_EQ(a->f_oid, 0x2cu);
  EXPECT_EQ(a->f_ver, 0u);
  auto b = ParseFid("0x200000402:44:0");
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(*a == *b);
}

TEST(FidTest, RoundTripsThroughFormat) {
  lu_fid fid{0x2000013a1, 0xfffffffe, 0x0};
  auto parsed = ParseFid(FormatFid(fid));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(*parsed == fid);
}

TEST(FidTest, RejectsMalformedText) {
  for (const char* bad :
       {"", "[]", "[0x1:0x2]", "0x1:0x2:0x3:0x4", "[0x1:0x2:0x3", "zz:1:1",
        "0x1:-2:0", " 0x1:0x2:0x0", "0x1:0x100000000:0x0", "0x1::0x0"}) {
    EXPECT_FALSE(ParseFid(bad).has_value()) << bad;
  }
}

TEST(FidTest, HashAndOrderDistinguishEveryField) {
  lu_fid a{1, 2, 3}, b{1, 2, 4}, c{1, 3, 3}, d{2, 2, 3};
  FidLess less;
  EXPECT_TRUE(less(a, b));
  EXPECT_TRUE(less(a, c));
  EXPECT_TRUE(less(a, d));
  EXPECT_FALSE(less(a, a));
  FidHash hash;
  EXPECT_NE(hash(a), hash(b));
  EXPECT_NE(hash(a), hash(d));
}

}  // namespace
}  // namespace hsm
