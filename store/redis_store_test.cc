// RedisStore against a real redis-server: the original's schema, pipelining,
// authentication, the unix socket, and a Redis restart under load.
#include "store/redis_store.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <functional>
#include <map>
#include <mutex>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "store/test_state.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace store {
namespace {

using testing_support::RedisServer;
using testing_support::TempDir;
using testing_support::WaitFor;

class RedisStoreTest : public ::testing::Test {
 protected:
  // `user` and `password`: the credentials RedisServer's own calls use
  // (its readiness check too, for a server that requires them).
  void StartRedis(std::vector<std::string> args = {}, std::string user = "",
                  std::string password = "") {
    redis_ = std::make_unique<RedisServer>(dir_.path(), std::move(args));
    redis_->set_password(std::move(user), std::move(password));
    std::string error = redis_->Start();
    ASSERT_EQ(error, "");
    options_.host = "127.0.0.1";
    options_.port = static_cast<uint16_t>(redis_->port());
    // The store's connect and reply bound as long as the test's waits: a
    // loaded machine can hold an fsync of the append-only file for seconds.
    options_.timeout_ms = 20'000;
  }

  void Open() {
    store_.reset();
    std::string error;
    store_ = RedisStore::Open(io_, options_, &error);
    ASSERT_NE(store_, nullptr) << error;
  }

  // Runs the loop until a Sync() answers; returns its `durable`.
  bool SyncNow(std::chrono::seconds bound = std::chrono::seconds(20)) {
    bool called = false, durable = false;
    store_->Sync([&](bool ok) {
      called = true;
      durable = ok;
    });
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!called && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(50));
    }
    return called && durable;
  }

  TempDir dir_{"redis_store"};
  boost::asio::io_context io_;
  RedisOptions options_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisStore> store_;
};

// docs/redis.md: two hashes, fields of 48 hex digits, the item
// JSON and the mover id as values; Forget deletes both fields.
TEST_F(RedisStoreTest, WritesTheOriginalSchema) {
  StartRedis();
  Open();
  lu_fid fid{0x200000401, 0x2a, 0};
  std::string key = RequestKey(0x65a1b2c4, fid);
  ASSERT_EQ(key, "0000000065a1b2c400000002000004010000002a00000000");
  store_->Put(key, R"({"hai_cookie":1705095876})");
  store_->Put(RequestKey(7, Fid(7)), "{}");
  // A value written in place is the same field value.
  store_->PutWritten(RequestKey(8, Fid(8)),
                     [](std::string* out) { *out += R"({"n":8})"; });
  store_->Assign(key, "mover1");
  ASSERT_TRUE(SyncNow());
  EXPECT_EQ(redis_->HGetAll("coordinatool_requests"),
            (std::map<std::string, std::string>{
                {key, R"({"hai_cookie":1705095876})"},
                {RequestKey(7, Fid(7)), "{}"},
                {RequestKey(8, Fid(8)), R"({"n":8})"}}));
  EXPECT_EQ(redis_->HGetAll("coordinatool_assigned"),
            (std::map<std::string, std::string>{{key, "mover1"}}));
  store_->Unassign(key);
  store_->Forget(RequestKey(7, Fid(7)));
  store_->Forget(RequestKey(8, Fid(8)));
  ASSERT_TRUE(SyncNow());
  EXPECT_EQ(redis_->HGetAll("coordinatool_assigned").size(), 0u);
  EXPECT_EQ(redis_->HGetAll("coordinatool_requests").size(), 1u);
}

TEST_F(RedisStoreTest, LoadReadsWhatAnotherWriterLeft) {
  StartRedis();
  std::vector<std::string> hset = {"HSET", "coordinatool_requests"};
  for (uint32_t i = 0; i < 2500; ++i) {
    hset.push_back(RequestKey(i, Fid(i)));
    hset.push_back(std::to_string(i));
  }
  redis_->Call(hset);
  redis_->Call({"HSET", "coordinatool_assigned", RequestKey(1, Fid(1)), "m"});
  Open();
  State state;
  std::string error;
  ASSERT_TRUE(store_->Load(state, &error)) << error;
  EXPECT_EQ(state.requests.size(), 2500u);
  EXPECT_EQ(state.requests[RequestKey(42, Fid(42))], "42");
  EXPECT_EQ(state.assigned,
            (std::map<std::string, std::string>{{RequestKey(1, Fid(1)), "m"}}));
}

TEST_F(RedisStoreTest, ManyChangesArePipelined) {
  StartRedis();
  Open();
  // Redis holds writes for a while: the store's thread waits on its first
  // reply while everything else is queued, whatever the machine's speed.
  redis_->Call({"CLIENT", "PAUSE", "1000", "WRITE"});
  for (uint32_t i = 0; i < 20000; ++i) {
    store_->Put(RequestKey(i, Fid(i)), "{}");
    store_->Assign(RequestKey(i, Fid(i)), "m");
  }
  ASSERT_TRUE(SyncNow());
  EXPECT_EQ(store_->stats().commands, 40000u);
  // 40,000 commands in batches of at most 4096: a handful of round trips.
  EXPECT_LE(store_->stats().round_trips, 15u);
  EXPECT_EQ(redis_->Call({"HLEN", "coordinatool_requests"}),
            std::vector<std::string>{"20000"});
}

TEST_F(RedisStoreTest, AuthenticatesWithAnAclUserOverTheUnixSocket) {
  StartRedis({"--user", "cdt", "on", ">s3cret", "~coordinatool_*", "+@all",
              "--user", "default", "off"},
             "cdt", "s3cret");
  options_.socket = redis_->socket();
  options_.user = "cdt";
  options_.password = "wrong";
  std::string error;
  EXPECT_EQ(RedisStore::Open(io_, options_, &error), nullptr);
  EXPECT_NE(error.find("AUTH cdt failed: WRONGPASS"), std::string::npos)
      << error;
  options_.password = "s3cret";
  Open();
  EXPECT_EQ(store_->Describe(), "redis unix:" + redis_->socket());
  store_->Put(RequestKey(1, Fid(1)), "{}");
  ASSERT_TRUE(SyncNow());
  EXPECT_EQ(redis_->HGetAll("coordinatool_requests").size(), 1u);
}

TEST_F(RedisStoreTest, UnreachableAtStartIsAnError) {
  options_.host = "127.0.0.1";
  options_.port = 1;
  std::string error;
  EXPECT_EQ(RedisStore::Open(io_, options_, &error), nullptr);
  EXPECT_EQ(error.rfind("cannot connect to redis 127.0.0.1:1: ", 0), 0u)
      << error;
}

// Changes made while Redis is down are kept and replayed in order once it is
// back: the hashes end as if it had never gone.
TEST_F(RedisStoreTest, ChangesDuringAnOutageAreReplayed) {
  StartRedis();
  Open();
  std::vector<bool> health;
  store_->SetHealthCallback([&](bool ok) { health.push_back(ok); });
  for (uint32_t i = 0; i < 10; ++i) store_->Put(RequestKey(i, Fid(i)), "{}");
  ASSERT_TRUE(SyncNow());
  redis_->Kill();
  for (uint32_t i = 0; i < 10; ++i) store_->Forget(RequestKey(i, Fid(i)));
  store_->Put(RequestKey(100, Fid(100)), "new");
  store_->Assign(RequestKey(100, Fid(100)), "m");
  EXPECT_FALSE(SyncNow());  // fails fast: not durable now
  EXPECT_FALSE(store_->writable());
  ASSERT_EQ(redis_->Start(), "");
  ASSERT_TRUE(WaitFor([&] {
    io_.restart();
    io_.poll();
    return store_->writable();
  }));
  ASSERT_TRUE(SyncNow());
  EXPECT_EQ(health, (std::vector<bool>{false, true}));
  EXPECT_EQ(
      redis_->HGetAll("coordinatool_requests"),
      (std::map<std::string, std::string>{{RequestKey(100, Fid(100)), "new"}}));
  EXPECT_EQ(
      redis_->HGetAll("coordinatool_assigned"),
      (std::map<std::string, std::string>{{RequestKey(100, Fid(100)), "m"}}));
  EXPECT_GE(store_->stats().reconnects, 1u);
}

// Keeps the log lines, for the test to read while the store's thread logs
// (an ostream sink's stream cannot be read under the sink's lock:
// ThreadSanitizer caught the test reading it while the thread wrote).
class CaptureSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string text() {
    common::MutexLock lock(&mu_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    common::MutexLock lock(&mu_);
    text_.append(formatted.data(), formatted.size());
  }
  void flush_() override {}

 private:
  common::Mutex mu_;
  std::string text_ GUARDED_BY(mu_);
};

// Issue 10 (5): a write Redis refuses with an error reply used to count as
// acknowledged ("enqueued 3000", store ok, then lost). Each kind of error
// reply, made by a real redis-server, is now a failed write: the Sync()
// says not durable, the store is unwritable (health false, once), and the
// queued changes are replayed in order once Redis takes writes again.
class RedisErrorReplyTest : public RedisStoreTest {
 protected:
  void ExpectRefusedThenReplayed(const std::function<void()>& refuse,
                                 const std::function<void()>& heal,
                                 const std::string& error_prefix) {
    Open();
    std::vector<bool> health;
    store_->SetHealthCallback([&](bool ok) { health.push_back(ok); });
    store_->Put(RequestKey(1, Fid(1)), "before");
    store_->Assign(RequestKey(1, Fid(1)), "m");
    ASSERT_TRUE(SyncNow());
    refuse();
    store_->Put(RequestKey(2, Fid(2)), "refused");
    store_->Put(RequestKey(3, Fid(3)), "refused too");
    store_->Forget(RequestKey(1, Fid(1)));
    EXPECT_FALSE(SyncNow());
    EXPECT_FALSE(store_->writable());
    EXPECT_EQ(health, std::vector<bool>{false});
    // It stays so while Redis refuses (retries with backoff, no flapping).
    WaitFor(
        [&] {
          io_.restart();
          io_.poll();
          return false;
        },
        std::chrono::milliseconds(400));
    EXPECT_FALSE(store_->writable());
    EXPECT_EQ(health, std::vector<bool>{false});
    EXPECT_EQ(
        redis_->HGetAll("coordinatool_requests").count(RequestKey(2, Fid(2))),
        0u);
    std::string log = ReadLog();
    EXPECT_NE(log.find(error_prefix), std::string::npos) << log;
    heal();
    ASSERT_TRUE(WaitFor([&] {
      io_.restart();
      io_.poll();
      return store_->writable();
    }));
    ASSERT_TRUE(SyncNow());
    EXPECT_EQ(health, (std::vector<bool>{false, true}));
    EXPECT_EQ(redis_->HGetAll("coordinatool_requests"),
              (std::map<std::string, std::string>{
                  {RequestKey(2, Fid(2)), "refused"},
                  {RequestKey(3, Fid(3)), "refused too"}}));
    EXPECT_TRUE(redis_->HGetAll("coordinatool_assigned").empty());
  }

  std::string ReadLog() { return sink_->text(); }

  void SetUp() override {
    // The store's errors, captured to check they name the reply.
    sink_ = std::make_shared<CaptureSink>();
    logger_ = std::make_shared<spdlog::logger>("test", sink_);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(logger_);
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  std::shared_ptr<CaptureSink> sink_;
  std::shared_ptr<spdlog::logger> logger_, previous_;
};

TEST_F(RedisErrorReplyTest, OutOfMemoryIsAFailedWrite) {
  StartRedis();
  ExpectRefusedThenReplayed(
      [&] {
        redis_->Call({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
        redis_->Call({"CONFIG", "SET", "maxmemory", "1"});
      },
      [&] {
        redis_->Call({"CONFIG", "SET", "maxmemory", "0"});
      },
      "OOM");
}

TEST_F(RedisErrorReplyTest, ReadOnlyReplicaIsAFailedWrite) {
  StartRedis();
  ExpectRefusedThenReplayed(
      [&] {
        // A replica of a master that is not there: writes are refused.
        redis_->Call({"REPLICAOF", "127.0.0.1", "1"});
      },
      [&] {
        redis_->Call({"REPLICAOF", "NO", "ONE"});
      },
      "READONLY");
}

TEST_F(RedisErrorReplyTest, FailedBackgroundSaveIsAFailedWrite) {
  StartRedis({"--enable-protected-configs", "yes"});
  ExpectRefusedThenReplayed(
      [&] {
        // Saves go to a directory that is gone: the save fails, and with
        // stop-writes-on-bgsave-error writes are refused (MISCONF).
        std::string gone = dir_.path() + "/gone";
        ASSERT_EQ(mkdir(gone.c_str(), 0700), 0);
        redis_->Call({"CONFIG", "SET", "dir", gone});
        ASSERT_EQ(rmdir(gone.c_str()), 0);
        redis_->Call({"CONFIG", "SET", "save", "3600 1"});
        redis_->Call({"CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"});
        redis_->Call({"BGSAVE"});
        ASSERT_TRUE(WaitFor([&] {
          for (const std::string& line : redis_->Call({"INFO", "persistence"}))
            if (line.find("rdb_last_bgsave_status:err") != std::string::npos)
              return true;
          return false;
        }));
      },
      [&] {
        redis_->Call({"CONFIG", "SET", "dir", dir_.path()});
        redis_->Call({"CONFIG", "SET", "save", ""});
      },
      "MISCONF");
}

TEST_F(RedisErrorReplyTest, NoPermissionIsAFailedWrite) {
  StartRedis({"--user", "cdt", "on", ">s3cret", "~*", "+@all"});
  options_.user = "cdt";
  options_.password = "s3cret";
  ExpectRefusedThenReplayed(
      [&] {
        redis_->Call({"ACL", "SETUSER", "cdt", "-@write"});
      },
      [&] {
        redis_->Call({"ACL", "SETUSER", "cdt", "+@all"});
      },
      "NOPERM");
}

// Any other error reply too: the hash is of the wrong type.
TEST_F(RedisErrorReplyTest, WrongTypeIsAFailedWrite) {
  StartRedis();
  ExpectRefusedThenReplayed(
      [&] {
        redis_->Call({"RENAME", "coordinatool_requests", "saved"});
        redis_->Call({"SET", "coordinatool_requests", "a string"});
      },
      [&] {
        redis_->Call({"DEL", "coordinatool_requests"});
        redis_->Call({"RENAME", "saved", "coordinatool_requests"});
      },
      "WRONGTYPE");
}

}  // namespace
}  // namespace store
