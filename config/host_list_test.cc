// The client side's `host` list (config/host_list.h): entries, ports, the
// file's lines adding up, the environment replacing them, and one host
// read exactly as before.
#include "config/host_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_file.h"
#include "config/fake_env.h"
#include "config/settings.h"

namespace config {
namespace {

using Hosts = std::vector<std::string>;

ServerAddress Parse(std::string_view text) {
  std::string error;
  auto address = ParseServerAddress(text, "5123", &error);
  EXPECT_TRUE(address.has_value()) << text << ": " << error;
  return address.value_or(ServerAddress{});
}

std::string Refusal(std::string_view text) {
  std::string error;
  EXPECT_FALSE(ParseServerAddress(text, "5123", &error).has_value()) << text;
  return error;
}

TEST(HostListTest, EntriesWithAndWithoutPort) {
  EXPECT_EQ(Parse("cdt1"), (ServerAddress{"cdt1", "5123"}));
  EXPECT_EQ(Parse(" cdt1:6000 "), (ServerAddress{"cdt1", "6000"}));
  EXPECT_EQ(Parse("10.0.0.1:1"), (ServerAddress{"10.0.0.1", "1"}));
  // A bare IPv6 address is a host, as the original took it.
  EXPECT_EQ(Parse("::1"), (ServerAddress{"::1", "5123"}));
  EXPECT_EQ(Parse("fe80::1:2"), (ServerAddress{"fe80::1:2", "5123"}));
  EXPECT_EQ(Parse("[::1]"), (ServerAddress{"::1", "5123"}));
  EXPECT_EQ(Parse("[::1]:7000"), (ServerAddress{"::1", "7000"}));
  EXPECT_EQ(Parse("[::1]:7000").ToString(), "[::1]:7000");
  EXPECT_EQ(Parse("cdt1:6000").ToString(), "cdt1:6000");
}

TEST(HostListTest, BadEntriesAreNamed) {
  EXPECT_EQ(Refusal(""), "empty host");
  EXPECT_EQ(Refusal(":6000"), "':6000': empty host");
  EXPECT_EQ(Refusal("cdt1:"), "'cdt1:': no port after ':'");
  EXPECT_EQ(Refusal("cdt1:0"),
            "'cdt1:0': '0' is not a port number in 1..65535");
  EXPECT_EQ(Refusal("cdt1:70000"),
            "'cdt1:70000': '70000' is not a port number in 1..65535");
  EXPECT_EQ(Refusal("cdt1:http"),
            "'cdt1:http': 'http' is not a port number in 1..65535");
  EXPECT_EQ(Refusal("[]:1"), "'[]:1' is not a host: [IPV6] or [IPV6]:PORT");
  EXPECT_EQ(Refusal("[::1"), "'[::1' is not a host: [IPV6] or [IPV6]:PORT");
  EXPECT_EQ(Refusal("[::1]x"), "'[::1]x': expected ':PORT' after ']'");
  EXPECT_EQ(Refusal("a b"), "'a b' is not a host");
}

TEST(HostListTest, SplitsOnCommasAndRefusesAnEmptyEntry) {
  Hosts hosts = {"kept"};
  std::string error;
  ASSERT_TRUE(SplitHostList("a, b:6000 ,[::1]:7", &hosts, &error)) << error;
  EXPECT_EQ(hosts, (Hosts{"kept", "a", "b:6000", "[::1]:7"}));
  EXPECT_FALSE(SplitHostList("c,,d", &hosts, &error));
  EXPECT_EQ(error, "empty host in 'c,,d'");
  EXPECT_FALSE(SplitHostList("c,", &hosts, &error));
  EXPECT_FALSE(SplitHostList("c,d:x", &hosts, &error));
  EXPECT_EQ(error, "'d:x': 'x' is not a port number in 1..65535");
  // A refused value adds nothing, not even its good entries.
  EXPECT_EQ(hosts, (Hosts{"kept", "a", "b:6000", "[::1]:7"}));
}

TEST(HostListTest, OneHostReadsAsBefore) {
  ClientSettings s;
  EXPECT_EQ(ServerAddresses(s),
            (std::vector<ServerAddress>{{"coordinatool", "5123"}}));
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyClientFile(ParseConfigText("c", "host cdt\nport 6000\n"), &s,
                              &warnings, &error))
      << error;
  EXPECT_EQ(ServerAddresses(s), (std::vector<ServerAddress>{{"cdt", "6000"}}));
  ASSERT_TRUE(
      ApplyClientEnv(FakeEnv({{"COORDINATOOL_HOST", "other"}}), &s, &error));
  EXPECT_EQ(ServerAddresses(s),
            (std::vector<ServerAddress>{{"other", "6000"}}));
}

TEST(HostListTest, FileLinesAddUpAndTheEnvironmentReplacesThem) {
  ClientSettings s;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyClientFile(
      ParseConfigText("c", "host cdt1,cdt2:6001\nport 6000\nhost cdt3\n"), &s,
      &warnings, &error))
      << error;
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(ServerAddresses(s),
            (std::vector<ServerAddress>{
                {"cdt1", "6000"}, {"cdt2", "6001"}, {"cdt3", "6000"}}));
  ASSERT_TRUE(
      ApplyClientEnv(FakeEnv({{"COORDINATOOL_HOST", "e1, e2"}}), &s, &error));
  EXPECT_EQ(s.hosts, (Hosts{"e1", "e2"}));
  EXPECT_FALSE(
      ApplyClientEnv(FakeEnv({{"COORDINATOOL_HOST", "e1,"}}), &s, &error));
  EXPECT_EQ(error, "COORDINATOOL_HOST: empty host in 'e1,'");
}

TEST(HostListTest, ABadLineNamesFileAndLine) {
  ClientSettings s;
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_FALSE(ApplyClientFile(ParseConfigText("c.conf", "\nhost a,b:99999\n"),
                               &s, &warnings, &error));
  EXPECT_EQ(error,
            "c.conf:2: key 'host': 'b:99999': '99999' is not a port number in "
            "1..65535");
}

// The server's `host` is where it listens: one address, as before.
TEST(HostListTest, TheServerKeepsOneListenHost) {
  ServerSettings s;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(ParseConfigText("c", "host 0.0.0.0\n"), &s,
                              &warnings, &error));
  EXPECT_EQ(s.host, "0.0.0.0");
}

}  // namespace
}  // namespace config
