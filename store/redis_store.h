// RedisStore: the server's state in Redis, with the original coordinatool's
// schema (docs/redis.md), so that a site switching from the
// original keeps its queued and running requests, and the other way round:
//   HSET coordinatool_requests <RequestKey> <item JSON>   (Put)
//   HSET coordinatool_assigned <RequestKey> <mover id>    (Assign)
//   HDEL coordinatool_assigned <RequestKey>               (Unassign)
//   HDEL of both                                          (Forget)
//
// A dedicated thread owns a synchronous hiredis context and pipelines: it
// takes every command queued so far, writes them all, then reads all the
// replies (one round trip per batch, however many commands), and tells the
// event loop how far Redis has acknowledged; Sync() callbacks run then. The
// event loop never waits on Redis.
//
// When Redis is unreachable or refuses a write (any error reply: OOM at
// maxmemory, READONLY on a replica, MISCONF after a failed save, NOPERM,
// WRONGTYPE...) the command is not acknowledged: the commands stay queued,
// the store reports itself unwritable, and the thread reconnects with
// backoff (100 ms doubling to 5 s), then replays the queue from the first
// unacknowledged command; it is writable again once a whole batch was
// acknowledged without error:
// HSET and HDEL of one field are idempotent and replayed in order, so the
// hashes end as if nothing had happened. Durable here means acknowledged by
// Redis: configure Redis with appendonly (appendfsync everysec or always) to
// survive a Redis crash.
//
// High availability (docs/redis.md): the thread connects through
// ConnectRedis (redis_connect.h), so every reconnect asks the sentinels for
// the master again, which is how it follows a failover. With
// wait_replicas > 0 each batch ends with WAIT, and is acknowledged only
// when that many replicas have it; a short WAIT is a failed batch like any
// other (kept, replayed on a new connection), retried at WAIT's pace.
//
// Fencing (high availability, store/redis_fence.h): with
// options.fence_epoch set, each batch is one script that applies it only
// while the epoch is still the leader's. A FENCED answer is final: the
// queue is dropped (nothing of it may reach Redis), the store is
// unwritable for good (fenced() true, the health callback says so) and its
// thread ends; the server steps down.
//
// Thread-safety: as Store; the queue is guarded by mu_.
#ifndef STORE_REDIS_STORE_H_
#define STORE_REDIS_STORE_H_

#include <atomic>
#include <boost/asio.hpp>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "store/redis_connect.h"
#include "store/store.h"

struct redisContext;

namespace store {

inline constexpr const char* kRequestsHash = "coordinatool_requests";
inline constexpr const char* kAssignedHash = "coordinatool_assigned";

struct RedisStats {
  std::atomic<uint64_t> commands{0};     // acknowledged commands
  std::atomic<uint64_t> round_trips{0};  // pipelined batches
  std::atomic<uint64_t> reconnects{0};
};

class RedisStore : public Store {
 public:
  // Connects (and authenticates) now: returns nullptr with *error if Redis
  // is unreachable, as the original refuses to start then.
  static std::unique_ptr<RedisStore> Open(boost::asio::io_context& io,
                                          const RedisOptions& options,
                                          std::string* error);
  ~RedisStore() override;

  std::string Describe() const override;
  // HSCANs both hashes (on the calling thread: start-up only).
  bool Load(LoadVisitor& visitor, std::string* error) override;
  Handle Put(std::string_view key, std::string_view json,
             Handle handle = kNoHandle) override;
  void Assign(std::string_view key, std::string_view mover,
              Handle handle = kNoHandle) override;
  void Unassign(std::string_view key, Handle handle = kNoHandle) override;
  void Forget(std::string_view key, Handle handle = kNoHandle) override;
  void Sync(SyncCallback done) override;
  bool writable() const override { return writable_; }
  bool fenced() const override { return fenced_; }
  void SetHealthCallback(HealthCallback callback) override {
    health_ = std::move(callback);
  }
  void Close(int timeout_ms) override;

  const RedisStats& stats() const { return stats_; }

 private:
  using Command = std::vector<std::string>;

  RedisStore(boost::asio::io_context& io, RedisOptions options);
  void Issue(Command command);
  void OnProgress(uint64_t acked, bool healthy, bool fenced);

  // Thread.
  void ThreadMain();
  bool Connect(std::string* error);
  void Disconnect();
  // Sends `batch` pipelined; returns how many were acknowledged, with
  // *error set if the connection failed before the end.
  size_t Pipeline(const std::vector<Command>& batch, std::string* error);
  // The same as one fenced script (options_.fence_epoch): all or nothing;
  // *fenced when the epoch is no longer ours.
  size_t FencedPipeline(const std::vector<Command>& batch, std::string* error,
                        bool* fenced);
  // Reads WAIT's reply after a pipelined batch: whether enough replicas
  // have it, else *error.
  bool WaitReplied(std::string* error);
  void Post(uint64_t acked, bool healthy, bool fenced = false);

  boost::asio::io_context& io_;
  const RedisOptions options_;
  RedisStats stats_;

  // Event loop only.
  uint64_t issued_ = 0;
  uint64_t acked_ = 0;
  std::deque<std::pair<uint64_t, SyncCallback>> waiting_;
  bool writable_ = true;
  bool fenced_ = false;
  bool closed_ = false;
  HealthCallback health_;

  // The thread (or the loop before the thread starts, for Load()).
  redisContext* ctx_ = nullptr;
  bool wait_short_ = false;  // the last batch failed only on WAIT's count

  // Handlers posted to io_ hold it weakly: they do nothing once the store
  // is gone, even if the loop runs them later.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);

  // Shared by the loop and the thread.
  common::Mutex mu_;
  common::CondVar cv_;
  std::deque<Command> queue_ GUARDED_BY(mu_);  // unacknowledged
  uint64_t thread_acked_ GUARDED_BY(mu_) = 0;
  bool in_flight_ GUARDED_BY(mu_) = false;
  bool quit_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // the loop's
};

}  // namespace store

#endif  // STORE_REDIS_STORE_H_
