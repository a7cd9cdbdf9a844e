#include "policy/tag.h"

#include <gtest/gtest.h>

namespace policy {
namespace {

TEST(TagTest, ValueAtStartOrAfterAComma) {
  EXPECT_EQ(TagValue("proj=42,tape=t1", "proj="), "42");
  EXPECT_EQ(TagValue("proj=42,tape=t1", "tape="), "t1");
  EXPECT_EQ(TagValue("xproj=1,proj=2", "proj="), "2");
  EXPECT_EQ(TagValue("proj=", "proj="), "");
  EXPECT_FALSE(TagValue("xproj=1", "proj="));
  EXPECT_FALSE(TagValue("", "proj="));
  EXPECT_FALSE(TagValue("proj=1", ""));
}

TEST(TagTest, ReplaceKeepsTheRest) {
  EXPECT_EQ(ReplaceTagValue("a=1,proj=42,b=2", "proj=", "7"), "a=1,proj=7,b=2");
  EXPECT_EQ(ReplaceTagValue("proj=42", "proj=", "0"), "proj=0");
}

TEST(TagTest, Djb2MatchesTheOriginalsExamples) {
  EXPECT_EQ(Djb2("test0"), 210728875317u);
  EXPECT_EQ(Djb2("test1"), 210728875318u);
  EXPECT_EQ(Djb2("test2"), 210728875319u);
  EXPECT_EQ(Djb2("7") % 3, 1u);
  EXPECT_EQ(Djb2("8") % 3, 2u);
  EXPECT_EQ(Djb2("9") % 3, 0u);
  // Bytes >= 0x80 count as negative.
  EXPECT_EQ(Djb2("\x80"), 5381u * 33 - 128);
}

}  // namespace
}  // namespace policy
