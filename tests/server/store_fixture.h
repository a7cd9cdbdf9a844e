// StoreFixture: a simulated mount, a store of kind `kind` ("embedded" or
// "redis", then with a redis-server of its own) and a coordinatool server
// using it, for the end-to-end tests of the stores (durability, faults).
//
// Thread-compatible: one test thread drives it.
#ifndef TESTS_SERVER_STORE_FIXTURE_H_
#define TESTS_SERVER_STORE_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/redis_server.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"

namespace testing_support {

// The cookie of an hsm.actions record (the part of compound/cookie after
// the slash).
std::string CookieOf(const ActionRecord& r);

class StoreFixture : public ::testing::Test {
 protected:
  // `base_args` start every ServerArgs().
  explicit StoreFixture(std::string kind,
                        std::vector<std::string> base_args = {});

  // Starts the simulator, and redis-server for a Redis store.
  void SetUp() override;

  bool redis() const { return kind_ == "redis"; }

  // The base arguments, --client-grace 3000 unless `extra` sets it, the
  // Redis address for a Redis store, then `extra`.
  std::vector<std::string> ServerArgs(
      std::vector<std::string> extra = {}) const;

  // lfs COMMAND PATHS... (a test failure if it fails); nothing if there
  // is no path.
  void Lfs(const std::string& command, const std::vector<std::string>& paths);

  // `count` files NAME0, NAME1... on the mount, of 4096 + 17 * i bytes
  // (a test failure if one cannot be written); their paths.
  std::vector<std::string> MakeFiles(const std::string& name, int count);

  const std::string kind_;
  const std::vector<std::string> base_args_;
  TempDir redis_dir_{"redis"};
  SimMount sim_;
  std::unique_ptr<RedisServer> redis_;
  CoordinatoolSetup cdt_{sim_};
};

}  // namespace testing_support

#endif  // TESTS_SERVER_STORE_FIXTURE_H_
