#include "tests/server/store_fixture.h"

#include <algorithm>

#include "tests/support/file_data.h"

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

std::vector<std::string> StoreFixture::MakeFiles(const std::string& name,
                                                 int count) {
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    std::string path = sim_.Path(name + std::to_string(i));
    EXPECT_TRUE(WriteTestFile(path, 4096 + 17 * i, i));
    paths.push_back(path);
  }
  return paths;
}

}  // namespace testing_support
