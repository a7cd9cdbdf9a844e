// The leader's lease and the fencing of its writes against a real
// redis-server (issue 17): one holder at a time, a growing epoch, renewal
// only by the holder, and a fenced store that writes nothing once another
// leader took the epoch.
#include "store/redis_lease.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>

#include "store/redis_fence.h"
#include "store/redis_store.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace store {
namespace {

using testing_support::RedisServer;
using testing_support::TempDir;
using testing_support::WaitFor;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};

class RedisLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(redis_.Start(), "");
    options_.host = "127.0.0.1";
    options_.port = static_cast<uint16_t>(redis_.port());
    options_.timeout_ms = 20'000;
  }

  std::unique_ptr<redisContext, ContextFree> Connect() {
    std::string error;
    std::unique_ptr<redisContext, ContextFree> ctx(
        ConnectRedis(options_, &error));
    EXPECT_NE(ctx, nullptr) << error;
    return ctx;
  }

  bool SyncNow(Store& store) {
    bool called = false, durable = false;
    store.Sync([&](bool ok) {
      called = true;
      durable = ok;
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!called && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(50));
    }
    return called && durable;
  }

  TempDir dir_{"redis_lease"};
  RedisServer redis_{dir_.path()};
  RedisOptions options_;
  boost::asio::io_context io_;
};

TEST(LeaseValueTest, FormatsAndParses) {
  LeaseValue v{42, "cdt1:5123"};
  EXPECT_EQ(FormatLeaseValue(v), "42 cdt1:5123");
  EXPECT_EQ(ParseLeaseValue("42 cdt1:5123"), v);
  EXPECT_EQ(ParseLeaseValue("[::1]:5123"), std::nullopt);
  EXPECT_EQ(ParseLeaseValue("0 a:1"), std::nullopt);
  EXPECT_EQ(ParseLeaseValue("x a:1"), std::nullopt);
  EXPECT_EQ(ParseLeaseValue("7 "), std::nullopt);
}

TEST_F(RedisLeaseTest, OneHolderAtATimeAndTheEpochGrows) {
  auto a = Connect(), b = Connect();
  LeaseAnswer first = AcquireLease(a.get(), "a:1", 60'000);
  ASSERT_EQ(first.kind, LeaseAnswer::Kind::kTaken) << first.error;
  EXPECT_EQ(first.value, (LeaseValue{1, "a:1"}));
  LeaseAnswer second = AcquireLease(b.get(), "b:2", 60'000);
  ASSERT_EQ(second.kind, LeaseAnswer::Kind::kHeld) << second.error;
  EXPECT_EQ(second.value, first.value);  // the standby learns the leader
  EXPECT_EQ(redis_.Call({"GET", kLeaderKey}),
            std::vector<std::string>{"1 a:1"});
  EXPECT_EQ(redis_.Call({"GET", kEpochKey}), std::vector<std::string>{"1"});

  // Only the holder renews; a released lease is taken with a new epoch.
  EXPECT_EQ(RenewLease(b.get(), {1, "b:2"}, 60'000).kind,
            LeaseAnswer::Kind::kLost);
  EXPECT_EQ(RenewLease(a.get(), first.value, 60'000).kind,
            LeaseAnswer::Kind::kRenewed);
  EXPECT_FALSE(ReleaseLease(b.get(), {1, "b:2"}));
  EXPECT_TRUE(ReleaseLease(a.get(), first.value));
  LeaseAnswer third = AcquireLease(b.get(), "b:2", 60'000);
  ASSERT_EQ(third.kind, LeaseAnswer::Kind::kTaken) << third.error;
  EXPECT_EQ(third.value, (LeaseValue{2, "b:2"}));
  EXPECT_EQ(RenewLease(a.get(), first.value, 60'000).kind,
            LeaseAnswer::Kind::kLost);
  EXPECT_EQ(ReadLease(a.get()), third.value);
}

TEST_F(RedisLeaseTest, AnUnrenewedLeaseLapsesAfterItsTtl) {
  auto a = Connect(), b = Connect();
  ASSERT_EQ(AcquireLease(a.get(), "a:1", 200).kind, LeaseAnswer::Kind::kTaken);
  // Redis expires the key; the standby then takes it.
  ASSERT_TRUE(WaitFor([&] {
    return AcquireLease(b.get(), "b:2", 60'000).kind ==
           LeaseAnswer::Kind::kTaken;
  }));
  EXPECT_EQ(ReadLease(a.get()), (LeaseValue{2, "b:2"}));
  // The old holder's renewal finds it gone: lost, not renewed.
  EXPECT_EQ(RenewLease(a.get(), {1, "a:1"}, 60'000).kind,
            LeaseAnswer::Kind::kLost);
}

TEST_F(RedisLeaseTest, AFencedStoreWritesUntilAnotherLeaderThenNothing) {
  auto a = Connect();
  LeaseAnswer lease = AcquireLease(a.get(), "a:1", 60'000);
  ASSERT_EQ(lease.kind, LeaseAnswer::Kind::kTaken);
  options_.fence_epoch = lease.value.epoch;
  std::string error;
  auto store = RedisStore::Open(io_, options_, &error);
  ASSERT_NE(store, nullptr) << error;
  bool health_said_false = false;
  store->SetHealthCallback([&](bool ok) { health_said_false |= !ok; });
  store->Put("k1", "{\"v\":1}");
  store->Assign("k1", "m1");
  store->Put("k2", "{\"v\":2}");
  store->Forget("k2");
  ASSERT_TRUE(SyncNow(*store));
  EXPECT_EQ(redis_.HGetAll(kRequestsHash),
            (std::map<std::string, std::string>{{"k1", "{\"v\":1}"}}));
  EXPECT_EQ(redis_.HGetAll(kAssignedHash),
            (std::map<std::string, std::string>{{"k1", "m1"}}));
  EXPECT_FALSE(store->fenced());

  // Another leader: the lease released (lapsed) and taken again.
  ASSERT_TRUE(ReleaseLease(a.get(), lease.value));
  ASSERT_EQ(AcquireLease(a.get(), "b:2", 60'000).kind,
            LeaseAnswer::Kind::kTaken);
  store->Put("k3", "{\"v\":3}");
  store->Unassign("k1");
  EXPECT_FALSE(SyncNow(*store));
  EXPECT_TRUE(store->fenced());
  EXPECT_FALSE(store->writable());
  EXPECT_TRUE(health_said_false);
  // Final: later changes are dropped, never written.
  store->Put("k4", "{\"v\":4}");
  EXPECT_FALSE(SyncNow(*store));
  store->Close(1000);
  EXPECT_EQ(redis_.HGetAll(kRequestsHash).count("k3"), 0u);
  EXPECT_EQ(redis_.HGetAll(kRequestsHash).count("k4"), 0u);
  EXPECT_EQ(redis_.HGetAll(kAssignedHash).count("k1"), 1u);
}

TEST_F(RedisLeaseTest, AFlushedScriptIsSentAgainByItsText) {
  auto a = Connect();
  LeaseAnswer lease = AcquireLease(a.get(), "a:1", 60'000);
  ASSERT_EQ(lease.kind, LeaseAnswer::Kind::kTaken);
  options_.fence_epoch = lease.value.epoch;
  std::string error;
  auto store = RedisStore::Open(io_, options_, &error);
  ASSERT_NE(store, nullptr) << error;
  store->Put("k1", "one");
  ASSERT_TRUE(SyncNow(*store));
  EXPECT_EQ(redis_.Call({"SCRIPT", "EXISTS", FenceScriptSha()}),
            std::vector<std::string>{"1"});
  redis_.Call({"SCRIPT", "FLUSH"});
  store->Put("k2", "two");
  ASSERT_TRUE(SyncNow(*store));
  EXPECT_EQ(redis_.HGetAll(kRequestsHash).size(), 2u);
  EXPECT_FALSE(store->fenced());
}

}  // namespace
}  // namespace store
