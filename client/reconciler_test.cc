// The reconciler's reading of Lustre's list: a real /bin/sh runs each
// command.
#include "client/reconciler.h"

#include <gtest/gtest.h>

namespace client {
namespace {

using std::chrono::milliseconds;

constexpr const char* kLine =
    "fid=[0x200000401:0x2a:0x0] dfid=[0x200000401:0x2a:0x0] "
    "compound/cookie=0x3/0x65a1b2c4 action=RESTORE archive#=2 flags=0x0 "
    "extent=0x0-0xffffffffffffffff gid=0x0 data=[63723D6162] canceled=0 "
    "uuid=0b1c2d3e-0000-4000-8000-000000000001 done=0";

TEST(RunCommandTest, OutputOfASuccessfulCommand) {
  std::string out, error;
  ASSERT_TRUE(RunCommand("printf 'a\\nb\\n'; echo noise >&2",
                         milliseconds(10000), &out, &error))
      << error;
  EXPECT_EQ(out, "a\nb\n");
}

TEST(RunCommandTest, AFailedCommandIsAnErrorNamingIt) {
  std::string out, error;
  EXPECT_FALSE(
      RunCommand("echo partial; exit 3", milliseconds(10000), &out, &error));
  EXPECT_EQ(error, "'echo partial; exit 3': exited with status 3");
  EXPECT_FALSE(RunCommand("kill -9 $$", milliseconds(10000), &out, &error));
  EXPECT_EQ(error, "'kill -9 $$': killed by signal 9");
}

TEST(RunCommandTest, ACommandPastItsTimeIsKilled) {
  std::string out, error;
  EXPECT_FALSE(RunCommand("exec sleep 60", milliseconds(50), &out, &error));
  EXPECT_EQ(error, "'exec sleep 60': still running after 50 ms, killed");
}

TEST(ReadActiveRequestsTest, ParsesTheCommandsOutput) {
  std::vector<protocol::WireItem> items;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ReadActiveRequests(std::string("echo '") + kLine + "'",
                                 milliseconds(10000), &items, &warnings,
                                 &error))
      << error;
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].item.hai.hai_cookie, 0x65a1b2c4u);
}

TEST(ReadActiveRequestsTest, NothingPrintedIsAnEmptyList) {
  std::vector<protocol::WireItem> items(1);
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ReadActiveRequests("true", milliseconds(10000), &items, &warnings,
                                 &error))
      << error;
  EXPECT_TRUE(items.empty());
}

// A list that cannot be read is no list: never an empty one, which would
// tell the server that Lustre has nothing.
TEST(ReadActiveRequestsTest, AFailedOrGarbledReadIsNoList) {
  std::vector<protocol::WireItem> items;
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_FALSE(ReadActiveRequests(
      std::string("echo '") + kLine + "'; echo 'error: get_param' >&2; exit 2",
      milliseconds(10000), &items, &warnings, &error));
  EXPECT_TRUE(items.empty());
  EXPECT_NE(error.find("exited with status 2"), std::string::npos) << error;
  EXPECT_FALSE(ReadActiveRequests(
      std::string("echo '") + kLine + "'; echo 'not a request'",
      milliseconds(10000), &items, &warnings, &error));
  EXPECT_TRUE(items.empty());
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

}  // namespace
}  // namespace client
