#include "policy/host_rules.h"

#include <gtest/gtest.h>

#include <map>

namespace policy {
namespace {

auto Presence(std::map<std::string, MoverPresence> movers) {
  return [movers](const std::string& id) {
    auto it = movers.find(id);
    return it == movers.end() ? MoverPresence::kUnknown : it->second;
  };
}

auto Fixed(size_t value) {
  return [value](size_t) { return value; };
}

TEST(HostRulesTest, LastConfiguredRuleWins) {
  HostRules rules({{"tape=", {"a"}, 1}, {"tape=", {"b"}, 2}}, {});
  auto choice = rules.Choose("tape=1", Presence({}), Fixed(0));
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->host, "b");
  EXPECT_FALSE(rules.Choose("other=1", Presence({}), Fixed(0)));
}

TEST(HostRulesTest, AffinityPrefersConnectedThenDisconnectedFromRandomStart) {
  HostRules rules({{"t", {"h0", "h1", "h2"}, 1}}, {});
  auto connected_h0 = Presence({{"h0", MoverPresence::kConnected},
                                {"h2", MoverPresence::kDisconnected}});
  EXPECT_EQ(rules.Choose("t", connected_h0, Fixed(1))->host, "h0");
  auto only_gone = Presence({{"h2", MoverPresence::kDisconnected}});
  EXPECT_EQ(rules.Choose("t", only_gone, Fixed(0))->host, "h2");
  // Nobody there: the random draw, on which the item will wait.
  EXPECT_EQ(rules.Choose("t", Presence({}), Fixed(1))->host, "h1");
}

TEST(HostRulesTest, ConsistentHashFoldsAndRewritesTheValue) {
  HostRules rules({}, {{"proj=", 10, {"m0", "m1", "m2"}, 1}});
  // djb2("test1") % 10 == 8; djb2("8") % 3 == 2.
  auto choice = rules.Choose("a=1,proj=test1,b=2", Presence({}), Fixed(0));
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->rewritten_data, "a=1,proj=8,b=2");
  EXPECT_EQ(choice->host, "m2");
}

TEST(HostRulesTest, ConsistentHashWithoutCountKeepsTheData) {
  HostRules rules({}, {{"proj=", 0, {"m0", "m1", "m2"}, 1}});
  // djb2("test0") % 3 == 0, "test1" -> 1, "test2" -> 2.
  for (int i = 0; i < 3; ++i) {
    auto choice =
        rules.Choose("proj=test" + std::to_string(i), Presence({}), Fixed(0));
    ASSERT_TRUE(choice);
    EXPECT_EQ(choice->host, "m" + std::to_string(i));
    EXPECT_FALSE(choice->rewritten_data);
  }
}

TEST(HostRulesTest, SameValueSameMoverWhoeverIsConnected) {
  HostRules rules({}, {{"proj=", 0, {"m0", "m1", "m2"}, 1}});
  auto a = rules.Choose("proj=x", Presence({}), Fixed(0));
  auto b = rules.Choose("proj=x", Presence({{"m0", MoverPresence::kConnected}}),
                        Fixed(2));
  EXPECT_EQ(a->host, b->host);
}

TEST(HostRulesTest, TagWithoutValueYieldsNothing) {
  HostRules rules({{"proj", {"aff"}, 1}}, {{"proj=", 0, {"m0"}, 2}});
  // "proj=" occurs, but not at the start or after a comma.
  EXPECT_FALSE(rules.Choose("xproj=1", Presence({}), Fixed(0)));
}

}  // namespace
}  // namespace policy
