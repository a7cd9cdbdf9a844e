#include "store/redis_store.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>

#include "store/redis_connect.h"
#include "store/redis_fence.h"

namespace store {

namespace {

constexpr size_t kMaxBatch = 4096;

}  // namespace

RedisStore::RedisStore(boost::asio::io_context& io, RedisOptions options)
    : io_(io), options_(std::move(options)) {}

std::unique_ptr<RedisStore> RedisStore::Open(boost::asio::io_context& io,
                                             const RedisOptions& options,
                                             std::string* error) {
  std::unique_ptr<RedisStore> store(new RedisStore(io, options));
  if (!store->Connect(error)) return nullptr;
  return store;
}

RedisStore::~RedisStore() {
  Close(5'000);
  Disconnect();
}

std::string RedisStore::Describe() const { return DescribeRedis(options_); }

bool RedisStore::Connect(std::string* error) {
  Disconnect();
  std::string master;
  ctx_ = ConnectRedis(options_, error, &master);
  if (!ctx_) return false;
  // WAIT holds its reply up to wait_timeout_ms: not a dead connection.
  if (options_.wait_replicas > 0)
    redisSetTimeout(
        ctx_, RedisTimeval(options_.timeout_ms + options_.wait_timeout_ms));
  if (!options_.sentinels.empty())
    spdlog::info("store: {}: the master is {}", Describe(), master);
  return true;
}

void RedisStore::Disconnect() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

bool RedisStore::Load(LoadVisitor& visitor, std::string* error) {
  if (!ctx_ && !Connect(error)) return false;
  for (const char* hash : {kRequestsHash, kAssignedHash}) {
    std::string cursor = "0";
    do {
      RedisReply r =
          RedisCommand(ctx_, {"HSCAN", hash, cursor, "COUNT", "1000"});
      if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
          r->element[0]->type != REDIS_REPLY_STRING ||
          r->element[1]->type != REDIS_REPLY_ARRAY) {
        *error = fmt::format("{}: HSCAN {} failed: {}", Describe(), hash,
                             !r                             ? ctx_->errstr
                             : r->type == REDIS_REPLY_ERROR ? r->str
                                                            : "bad reply");
        return false;
      }
      cursor.assign(r->element[0]->str, r->element[0]->len);
      const redisReply* pairs = r->element[1];
      for (size_t i = 0; i + 1 < pairs->elements; i += 2) {
        std::string_view field(pairs->element[i]->str, pairs->element[i]->len);
        std::string_view value(pairs->element[i + 1]->str,
                               pairs->element[i + 1]->len);
        if (std::string_view(hash) == kRequestsHash)
          visitor.OnRequest(field, value, kNoHandle);
        else
          visitor.OnAssignment(field, value, kNoHandle);
      }
    } while (cursor != "0");
  }
  return true;
}

void RedisStore::Issue(Command command) {
  if (closed_ || fenced_) return;
  ++issued_;
  common::MutexLock lock(&mu_);
  queue_.push_back(std::move(command));
  if (!thread_.joinable()) thread_ = std::thread([this] { ThreadMain(); });
  cv_.NotifyAll();
}

// Redis finds a field by its name: the handles are not used.
Handle RedisStore::Put(std::string_view key, std::string_view json, Handle) {
  Issue({"HSET", kRequestsHash, std::string(key), std::string(json)});
  return kNoHandle;
}
void RedisStore::Assign(std::string_view key, std::string_view mover, Handle) {
  Issue({"HSET", kAssignedHash, std::string(key), std::string(mover)});
}
void RedisStore::Unassign(std::string_view key, Handle) {
  Issue({"HDEL", kAssignedHash, std::string(key)});
}
void RedisStore::Forget(std::string_view key, Handle) {
  Issue({"HDEL", kRequestsHash, std::string(key)});
  Issue({"HDEL", kAssignedHash, std::string(key)});
}

void RedisStore::Sync(SyncCallback done) {
  if (closed_) return;
  if (!writable_) return done(false);
  if (acked_ >= issued_ && waiting_.empty()) return done(true);
  waiting_.emplace_back(issued_, std::move(done));
}

void RedisStore::OnProgress(uint64_t acked, bool healthy, bool fenced) {
  if (closed_) return;
  acked_ = std::max(acked_, acked);
  if (fenced) fenced_ = true;
  if (!healthy || fenced_) {
    // Fenced: said even to a server that knew the store unwritable.
    if (writable_ || fenced) {
      writable_ = false;
      if (health_) health_(false);
    }
    auto callbacks = std::move(waiting_);
    waiting_.clear();
    for (auto& [seq, callback] : callbacks) {
      if (closed_) return;
      callback(false);
    }
    return;
  }
  if (!writable_) {
    writable_ = true;
    if (health_) health_(true);
  }
  while (!waiting_.empty() && waiting_.front().first <= acked_ && !closed_) {
    auto callback = std::move(waiting_.front().second);
    waiting_.pop_front();
    callback(true);
  }
}

void RedisStore::Post(uint64_t acked, bool healthy, bool fenced) {
  boost::asio::post(
      io_, [this, alive = std::weak_ptr<int>(alive_), acked, healthy, fenced] {
        if (!alive.expired()) OnProgress(acked, healthy, fenced);
      });
}

size_t RedisStore::FencedPipeline(const std::vector<Command>& batch,
                                  std::string* error, bool* fenced) {
  ++stats_.round_trips;
  wait_short_ = false;
  const std::string replicas = std::to_string(options_.wait_replicas);
  const std::string wait_ms = std::to_string(options_.wait_timeout_ms);
  const char* wait[] = {"WAIT", replicas.c_str(), wait_ms.c_str()};
  // The script by its SHA1 first; a Redis that lacks it gets its text.
  for (bool by_sha : {true, false}) {
    std::vector<std::string> args =
        FencedBatch(batch, options_.fence_epoch, by_sha);
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(),
                           lens.data());
    if (options_.wait_replicas > 0)
      redisAppendCommandArgv(ctx_, 3, wait, nullptr);
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK) {
      *error = ctx_->errstr;
      return 0;
    }
    RedisReply r(static_cast<redisReply*>(raw));
    std::string_view why;
    if (r->type == REDIS_REPLY_ERROR) why = std::string_view(r->str, r->len);
    if (by_sha && IsNoScript(why)) {
      // WAIT's reply after the refused script, read and dropped.
      if (options_.wait_replicas > 0) {
        raw = nullptr;
        if (redisGetReply(ctx_, &raw) != REDIS_OK) {
          *error = ctx_->errstr;
          return 0;
        }
        RedisReply dropped(static_cast<redisReply*>(raw));
      }
      continue;
    }
    if (!why.empty() || r->type != REDIS_REPLY_INTEGER) {
      *fenced = IsFenced(why);
      *error = why.empty() ? "fenced batch: unexpected reply"
                           : fmt::format("fenced batch: {}", why);
      // WAIT's reply, if any, is read with the connection dropped.
      return 0;
    }
    if (options_.wait_replicas > 0 && !WaitReplied(error)) return 0;
    return batch.size();
  }
  *error = "fenced batch: NOSCRIPT after EVAL";
  return 0;
}

size_t RedisStore::Pipeline(const std::vector<Command>& batch,
                            std::string* error) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const Command& command : batch) {
    argv.clear();
    lens.clear();
    for (const auto& a : command) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(command.size()), argv.data(),
                           lens.data());
  }
  // With replicas to wait for, WAIT ends the pipeline: its reply comes
  // once that many replicas have everything above (or at its timeout), and
  // nothing of the batch is acknowledged before.
  const std::string replicas = std::to_string(options_.wait_replicas);
  const std::string wait_ms = std::to_string(options_.wait_timeout_ms);
  if (options_.wait_replicas > 0) {
    const char* wait[] = {"WAIT", replicas.c_str(), wait_ms.c_str()};
    redisAppendCommandArgv(ctx_, 3, wait, nullptr);
  }
  ++stats_.round_trips;
  // Applied by the master is acknowledged without WAIT; with WAIT, only
  // what WAIT confirmed.
  wait_short_ = false;
  auto acknowledged = [&](size_t applied) -> size_t {
    return options_.wait_replicas > 0 ? 0 : applied;
  };
  for (size_t i = 0; i < batch.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK) {
      *error = ctx_->errstr;
      return acknowledged(i);
    }
    RedisReply r(static_cast<redisReply*>(raw));
    if (r->type == REDIS_REPLY_ERROR) {
      // Every error reply is a failed write (OOM, READONLY, MISCONF,
      // NOPERM, WRONGTYPE...): not acknowledged, retried in order from
      // here. What follows in the pipeline may have been applied; replaying
      // it in order is harmless (one field per command, last write wins).
      *error = fmt::format("{} {} {}: {}", batch[i][0], batch[i][1],
                           batch[i][2], std::string_view(r->str, r->len));
      return acknowledged(i);
    }
  }
  if (options_.wait_replicas > 0 && !WaitReplied(error)) return 0;
  return batch.size();
}

bool RedisStore::WaitReplied(std::string* error) {
  wait_short_ = false;
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK) {
    *error = ctx_->errstr;
    return false;
  }
  RedisReply r(static_cast<redisReply*>(raw));
  if (r->type == REDIS_REPLY_INTEGER && r->integer >= options_.wait_replicas)
    return true;
  // Fewer replicas than asked: the batch is on the master only, and a
  // failover now could lose it. Not acknowledged; replayed (idempotent)
  // and waited for again until enough replicas have it.
  wait_short_ = r->type == REDIS_REPLY_INTEGER;
  *error =
      r->type == REDIS_REPLY_INTEGER
          ? fmt::format("WAIT: {} of {} replicas acknowledged within {} ms",
                        r->integer, options_.wait_replicas,
                        options_.wait_timeout_ms)
          : fmt::format("WAIT: {}", r->type == REDIS_REPLY_ERROR
                                        ? std::string(r->str, r->len)
                                        : "unexpected reply");
  return false;
}

void RedisStore::ThreadMain() {
  auto backoff = std::chrono::milliseconds(100);
  bool healthy = true;
  for (;;) {
    std::vector<Command> batch;
    {
      common::MutexLock lock(&mu_);
      while (!quit_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty() || (quit_ && !ctx_)) return;
      size_t n = std::min(queue_.size(), kMaxBatch);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<long>(n));
      in_flight_ = true;
    }
    std::string error;
    size_t acked = 0;
    if (!ctx_ && Connect(&error)) {
      ++stats_.reconnects;
      spdlog::warn("store: reconnected to {}, replaying {}+ changes",
                   Describe(), batch.size());
    }
    bool fenced = false;
    if (ctx_)
      acked = options_.fence_epoch != 0 ? FencedPipeline(batch, &error, &fenced)
                                        : Pipeline(batch, &error);
    if (fenced) {
      // Final: nothing queued may reach Redis; the loop learns it and the
      // server steps down.
      uint64_t total;
      {
        common::MutexLock lock(&mu_);
        queue_.clear();
        total = thread_acked_;
        in_flight_ = false;
        quit_ = true;
        cv_.NotifyAll();
      }
      Disconnect();
      spdlog::critical("store: {}: {}: another server leads now", Describe(),
                       error);
      Post(total, false, true);
      return;
    }
    uint64_t total;
    {
      common::MutexLock lock(&mu_);
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(acked));
      thread_acked_ += acked;
      total = thread_acked_;
      in_flight_ = false;
      cv_.NotifyAll();
    }
    stats_.commands += acked;
    if (error.empty()) {
      healthy = true;
      backoff = std::chrono::milliseconds(100);
      Post(total, true);
      continue;
    }
    Disconnect();
    if (healthy)
      spdlog::error(
          "store: {} cannot persist: {}; changes are queued and the "
          "server takes no new requests until it can",
          Describe(), error);
    else
      spdlog::warn("store: {} still cannot persist: {}; retrying in {} ms",
                   Describe(), error, backoff.count());
    healthy = false;
    Post(total, false);
    {
      common::MutexLock lock(&mu_);
      const auto deadline = std::chrono::steady_clock::now() + backoff;
      while (!quit_ && cv_.WaitUntil(&mu_, deadline)) {
      }
      if (quit_) return;
    }
    // Too few replicas is no reason to wait longer and longer: WAIT's own
    // timeout paces the retries, each on a new connection to whatever
    // master the sentinels name then (after a partition that left us with
    // an old master, WAIT is what fails).
    backoff = wait_short_
                  ? std::chrono::milliseconds(100)
                  : std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

void RedisStore::Close(int timeout_ms) {
  if (closed_) return;
  closed_ = true;
  {
    common::MutexLock lock(&mu_);
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(timeout_ms);
    while ((!queue_.empty() || in_flight_) && cv_.WaitUntil(&mu_, deadline)) {
    }
    if (!queue_.empty())
      spdlog::error("store: {}: {} changes not written", Describe(),
                    queue_.size());
    quit_ = true;
    cv_.NotifyAll();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace store
