// Issue 17, Redis itself highly available: RedisStore with WAIT for replicas
// and Sentinel discovery, against real redis-server processes on loopback
// (a master, a replica, three sentinels). A change counts as acknowledged
// only once a replica has it, and when the master is SIGKILLed the store
// follows the master the sentinels elect and loses nothing it acknowledged.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "store/redis_connect.h"
#include "store/redis_store.h"
#include "store/test_state.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace store {
namespace {

using testing_support::RedisServer;
using testing_support::TempDir;
using namespace std::chrono_literals;

std::string Key(uint32_t i) { return RequestKey(i, Fid(i)); }

// How many WAIT commands the server ran.
int WaitCalls(const RedisServer& server) {
  auto info = server.Call({"INFO", "commandstats"});
  size_t at =
      info.empty() ? std::string::npos : info[0].find("cmdstat_wait:calls=");
  return at == std::string::npos
             ? 0
             : std::atoi(info[0].c_str() + at + strlen("cmdstat_wait:calls="));
}

class RedisFailoverTest : public ::testing::Test {
 protected:
  void StartMasterAndReplica() {
    ASSERT_EQ(ha_.StartServers(), "");
    options_.host = "127.0.0.1";
    options_.port = static_cast<uint16_t>(ha_.master().port());
    // Replies bound as long as the test's waits (a loaded machine can hold
    // an fsync for seconds); a short WAIT so that a missing replica shows
    // quickly.
    options_.timeout_ms = 20'000;
    options_.wait_replicas = 1;
    options_.wait_timeout_ms = 300;
  }

  void StartSentinels() {
    ASSERT_EQ(ha_.StartSentinels(), "");
    options_.master_name = "cdt";
    options_.sentinels.clear();
    for (const auto& s : ha_.sentinels())
      options_.sentinels.push_back({"127.0.0.1", uint16_t(s->port())});
    // A fixed address that would be wrong: sentinels replace it.
    options_.port = 1;
  }

  void Open() {
    std::string error;
    store_ = RedisStore::Open(io_, options_, &error);
    ASSERT_NE(store_, nullptr) << error;
  }

  // Puts key i and asks for a Sync: acked_ gets i once it is acknowledged.
  void Put(uint32_t i) {
    store_->Put(Key(i), "{}");
    put_.push_back(i);
    store_->Sync([this, i](bool ok) {
      if (ok) acked_.insert(i);
    });
  }

  // Runs the loop until a Sync() answers true: everything put so far is
  // acknowledged. A Sync answers false at once while the store is
  // unwritable (a WAIT can time out on a loaded machine), hence again.
  bool SyncUntilAcknowledged() {
    bool answered = true, durable = false;
    const std::vector<uint32_t> put = put_;
    if (!RunUntil([&] {
          if (!durable && answered) {
            answered = false;
            store_->Sync([&](bool ok) {
              answered = true;
              durable = ok;
            });
          }
          return durable;
        }))
      return false;
    acked_.insert(put.begin(), put.end());
    return true;
  }

  // Runs the loop until `done` or the bound.
  bool RunUntil(const std::function<bool()>& done,
                std::chrono::seconds bound = 30s) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  TempDir dir_{"redis_failover"};
  boost::asio::io_context io_;
  RedisOptions options_;
  testing_support::RedisHa ha_{dir_.path()};
  std::unique_ptr<RedisStore> store_;
  std::vector<uint32_t> put_;
  std::set<uint32_t> acked_;
};

// redis_wait_replicas 1: the master applying a write is not enough. With
// the replica down the write is on the master, unacknowledged, the store
// unwritable; once the replica is back it is acknowledged. Without WAIT it
// was acknowledged at once.
TEST_F(RedisFailoverTest, AChangeIsAcknowledgedOnlyOnceAReplicaHasIt) {
  StartMasterAndReplica();
  Open();
  Put(1);
  ASSERT_TRUE(SyncUntilAcknowledged());
  EXPECT_EQ(ha_.replica().HGetAll(kRequestsHash).count(Key(1)), 1u)
      << "WAIT answered: the replica has it";

  ha_.replica().Kill();
  Put(2);
  ASSERT_TRUE(RunUntil([&] { return !store_->writable(); }));
  EXPECT_EQ(ha_.master().HGetAll(kRequestsHash).count(Key(2)), 1u)
      << "applied by the master";
  EXPECT_EQ(acked_.count(2), 0u) << "but not acknowledged";

  ASSERT_EQ(ha_.replica().Start(), "");
  ASSERT_TRUE(RunUntil([&] { return store_->writable(); }));
  Put(3);
  ASSERT_TRUE(SyncUntilAcknowledged());
  EXPECT_EQ(ha_.replica().HGetAll(kRequestsHash).count(Key(2)), 1u);
  EXPECT_GE(store_->stats().reconnects, 1u);
}

// The master SIGKILLed under writes: the store asks the sentinels again,
// writes to the replica they promote, counts nothing as acknowledged while
// that new master has no replica, and every change it acknowledged, before
// the kill or after, is on the new master.
TEST_F(RedisFailoverTest, FollowsTheMasterTheSentinelsElectAndLosesNothing) {
  StartMasterAndReplica();
  StartSentinels();

  // ConnectRedis: past a sentinel that does not answer, to the master.
  auto sentinels = options_.sentinels;
  options_.sentinels.insert(options_.sentinels.begin(), {"127.0.0.1", 1});
  std::string error, master;
  redisContext* ctx = ConnectRedis(options_, &error, &master);
  ASSERT_NE(ctx, nullptr) << error;
  redisFree(ctx);
  EXPECT_EQ(master, "127.0.0.1:" + std::to_string(ha_.master().port()));
  options_.master_name = "elsewhere";
  EXPECT_EQ(ConnectRedis(options_, &error), nullptr);
  EXPECT_NE(error.find("sentinel 127.0.0.1:1: Connection refused"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("it monitors no master named 'elsewhere'"),
            std::string::npos)
      << error;
  options_.master_name = "cdt";
  options_.sentinels = sentinels;

  Open();
  for (uint32_t i = 0; i < 100; ++i) Put(i);
  ASSERT_TRUE(SyncUntilAcknowledged());
  // More under way when the master dies: some acknowledged, some not.
  for (uint32_t i = 100; i < 200; ++i) Put(i);
  io_.restart();
  io_.poll();
  ha_.master().Kill();

  ASSERT_EQ(ha_.WaitFailover(), "");
  // The store finds the new master by itself and writes there, but the new
  // master has no replica: nothing is acknowledged, the store stays
  // unwritable.
  Put(1000);
  ASSERT_TRUE(RunUntil(
      [&] { return ha_.replica().HGetAll(kRequestsHash).count(Key(1000)); }));
  // WAIT asked there and answered short, again and again.
  ASSERT_TRUE(RunUntil([&] { return WaitCalls(ha_.replica()) >= 2; }));
  io_.restart();
  io_.poll();
  EXPECT_FALSE(store_->writable());
  EXPECT_EQ(acked_.count(1000), 0u);

  // The old master comes back as the new one's replica: writable again,
  // and changes are acknowledged.
  ASSERT_EQ(ha_.RejoinAsReplica(), "");
  ASSERT_TRUE(RunUntil([&] { return store_->writable(); }, 40s));
  Put(1001);
  ASSERT_TRUE(SyncUntilAcknowledged());
  EXPECT_GE(acked_.size(), 101u);

  auto stored = ha_.replica().HGetAll(kRequestsHash);
  for (uint32_t i : acked_)
    EXPECT_EQ(stored.count(Key(i)), 1u) << "acknowledged " << i << " lost";
  // Every change reaches the new master in the end, acknowledged or not:
  // the store replays what was not acknowledged.
  EXPECT_EQ(stored.size(), 202u);
}

}  // namespace
}  // namespace store
