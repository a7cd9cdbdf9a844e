#include "sim/mdt/fid_name.h"

#include <gtest/gtest.h>

#include "hsm/fid.h"
#include "sim/mdt/file_table.h"

namespace sim::mdt {
namespace {

using hsm::operator==;

TEST(FidName, AcceptsBothFormsOfLustresLookup) {
  const lu_fid want{0x200000401ULL, 0x2a, 0};
  auto plain = ParseDotLustreFidName("0x200000401:0x2a:0x0");
  auto bracketed = ParseDotLustreFidName("[0x200000401:0x2a:0x0]");
  ASSERT_TRUE(plain.has_value());
  ASSERT_TRUE(bracketed.has_value());
  EXPECT_TRUE(*plain == want);
  EXPECT_TRUE(*bracketed == want);
}

TEST(FidName, LikeLustreSkipsEveryOpeningBracketAndIgnoresTheRest) {
  // obf_lookup skips leading '[' and sscanf()s three fields: what follows
  // them is not looked at.
  auto many = ParseDotLustreFidName("[[0x200000401:0x1:0x0]");
  auto tail = ParseDotLustreFidName("0x200000401:0x1:0x0]junk");
  ASSERT_TRUE(many.has_value());
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(many->f_oid, 1u);
  EXPECT_EQ(tail->f_oid, 1u);
}

TEST(FidName, RefusesWhatIsNotAFidOfANormalSequence) {
  EXPECT_FALSE(ParseDotLustreFidName("").has_value());
  EXPECT_FALSE(ParseDotLustreFidName("file.txt").has_value());
  EXPECT_FALSE(ParseDotLustreFidName("0x200000401:0x1").has_value());
  EXPECT_FALSE(ParseDotLustreFidName("200000401:1:0").has_value());  // no 0x
  EXPECT_FALSE(ParseDotLustreFidName("0x1:0x1:0x0").has_value());    // not norm
  EXPECT_FALSE(ParseDotLustreFidName("0x200000401:0x1:0x1").has_value());
}

TEST(FidName, AcceptsTheRoot) {
  auto root = ParseDotLustreFidName("[0x200000007:0x1:0x0]");
  ASSERT_TRUE(root.has_value());
  EXPECT_TRUE(*root == kRootFid);
}

}  // namespace
}  // namespace sim::mdt
