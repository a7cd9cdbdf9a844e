// The leader's lease in Redis (docs/high-availability.md, docs/redis.md):
//   coordinatool_leader  "<epoch> <host:port>", with a time to live
//   coordinatool_epoch   an integer, incremented by every new leader
// Each call is one Lua script (EVAL), atomic in Redis:
//   AcquireLease  if the leader key is absent: INCR the epoch, SET the key
//                 to "<new epoch> <address>" PX ttl; else name its holder.
//   RenewLease    PEXPIRE the key only if it still holds our value.
//   ReleaseLease  DEL the key only if it still holds our value (a clean
//                 stop hands over at once instead of after the ttl).
// The epoch is what fences the leader's writes (store/redis_fence.h).
//
// Thread-safety: free functions on a context the caller owns (one thread).
#ifndef STORE_REDIS_LEASE_H_
#define STORE_REDIS_LEASE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct redisContext;

namespace store {

inline constexpr const char* kLeaderKey = "coordinatool_leader";
inline constexpr const char* kEpochKey = "coordinatool_epoch";

struct LeaseValue {
  uint64_t epoch = 0;
  std::string address;  // host:port the movers should be sent to
  friend bool operator==(const LeaseValue&, const LeaseValue&) = default;
};

std::string FormatLeaseValue(const LeaseValue& value);
// nullopt when `text` is not "<epoch> <address>" with an epoch > 0.
std::optional<LeaseValue> ParseLeaseValue(std::string_view text);

struct LeaseAnswer {
  enum class Kind {
    kTaken,    // AcquireLease: ours now, with value.epoch
    kHeld,     // AcquireLease: another holds it (value: its holder)
    kRenewed,  // RenewLease: still ours, ttl restarted
    kLost,     // RenewLease: the key is gone or another's
    kError,    // no answer, or an error reply: `error` says which
  };
  Kind kind = Kind::kError;
  LeaseValue value;
  std::string error;
};

// With `wait_replicas` > 0 a taken lease counts only once WAIT says that
// many replicas have the new epoch (else kError: the key is ours but the
// epoch could be lost in a Redis failover; it lapses unrenewed and is
// taken again with a larger epoch).
LeaseAnswer AcquireLease(redisContext* ctx, const std::string& address,
                         int64_t ttl_ms, int wait_replicas = 0,
                         int wait_timeout_ms = 1000);
LeaseAnswer RenewLease(redisContext* ctx, const LeaseValue& ours,
                       int64_t ttl_ms);
// True when the key was ours and is deleted.
bool ReleaseLease(redisContext* ctx, const LeaseValue& ours);
// The holder, without changing anything (nullopt: none, or no answer).
std::optional<LeaseValue> ReadLease(redisContext* ctx);

}  // namespace store

#endif  // STORE_REDIS_LEASE_H_
