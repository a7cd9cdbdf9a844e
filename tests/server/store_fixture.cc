#include "tests/server/store_fixture.h"

#include <algorithm>

namespace testing_support {

std::string CookieOf(const ActionRecord& r) {
  const std::string& compound = r.Get("compound/cookie");
  return compound.substr(compound.find('/') + 1);
}

StoreFixture::StoreFixture(std::string kind, std::vector<std::string> base_args)
    : kind_(std::move(kind)), base_args_(std::move(base_args)) {}

void StoreFixture::SetUp() {
  ASSERT_TRUE(sim_.StartDaemon());
  if (redis()) {
    redis_ = std::make_unique<RedisServer>(redis_dir_.path());
    ASSERT_EQ(redis_->Start(), "");
  }
}

std::vector<std::string> StoreFixture::ServerArgs(
    std::vector<std::string> extra) const {
  std::vector<std::string> args = base_args_;
  if (std::find(extra.begin(), extra.end(), "--client-grace") == extra.end())
    args.insert(args.end(), {"--client-grace", "3000"});
  if (redis_) {
    args.insert(args.end(), {"--redis-host", "127.0.0.1", "--redis-port",
                             std::to_string(redis_->port())});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void StoreFixture::Lfs(const std::string& command,
                       const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  RunLfs(sim_, command, paths);
}

}  // namespace testing_support
