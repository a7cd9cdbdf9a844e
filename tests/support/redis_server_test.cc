// RedisServer::Start() reports a server up only once it answers PONG, on its
// own unix socket and on its port, authenticated when it requires it.
#include "tests/support/redis_server.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace testing_support {
namespace {

TEST(RedisServerTest, AnsweredOnTheUnixSocketAndThePortOnceStarted) {
  TempDir dir("redis_server");
  RedisServer redis(dir.path());
  ASSERT_EQ(redis.Start(), "");
  EXPECT_EQ(redis.CallUnix({"PING"}), std::vector<std::string>{"PONG"});
  EXPECT_EQ(redis.Call({"PING"}), std::vector<std::string>{"PONG"});
}

// A NOAUTH answer used to count as up. Redis checks authentication before
// it checks that it has loaded its data: a server that requires a password
// answers NOAUTH while it loads its append-only file, then refuses writes
// with LOADING. Without credentials Start() cannot tell, and says so.
TEST(RedisServerTest, AServerRequiringAuthNeedsTheCredentialsFirst) {
  TempDir dir("redis_server");
  RedisServer redis(dir.path(), {"--user", "default", "off", "--user", "cdt",
                                 "on", ">s3cret", "~*", "+@all"});
  EXPECT_NE(redis.Start().find("call set_password() before Start()"),
            std::string::npos);
  redis.set_password("cdt", "s3cret");
  ASSERT_EQ(redis.Start(), "");
  EXPECT_EQ(redis.CallUnix({"PING"}), std::vector<std::string>{"PONG"});
  EXPECT_EQ(redis.Call({"PING"}), std::vector<std::string>{"PONG"});
}

}  // namespace
}  // namespace testing_support
