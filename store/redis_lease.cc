#include "store/redis_lease.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <charconv>

#include "store/redis_connect.h"

namespace store {

namespace {

// KEYS: leader, epoch. ARGV: address, ttl in ms.
// Returns {1, value} when taken, {0, value} when held by another.
constexpr const char* kAcquireScript = R"lua(
local held = redis.call('GET', KEYS[1])
if held then return {0, held} end
local epoch = redis.call('INCR', KEYS[2])
local value = epoch .. ' ' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {1, value}
)lua";

// KEYS: leader. ARGV: our value, ttl in ms. 1: renewed, 0: not ours.
constexpr const char* kRenewScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
)lua";

// KEYS: leader. ARGV: our value. 1: deleted, 0: not ours.
constexpr const char* kReleaseScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

std::string ErrorOf(redisContext* ctx, const RedisReply& r) {
  if (!r) return ctx->errstr;
  if (r->type == REDIS_REPLY_ERROR) return std::string(r->str, r->len);
  return "unexpected reply";
}

}  // namespace

std::string FormatLeaseValue(const LeaseValue& value) {
  return fmt::format("{} {}", value.epoch, value.address);
}

std::optional<LeaseValue> ParseLeaseValue(std::string_view text) {
  size_t space = text.find(' ');
  if (space == std::string_view::npos || space + 1 >= text.size())
    return std::nullopt;
  LeaseValue value;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + space, value.epoch);
  if (ec != std::errc() || end != text.data() + space || value.epoch == 0)
    return std::nullopt;
  value.address = std::string(text.substr(space + 1));
  return value;
}

LeaseAnswer AcquireLease(redisContext* ctx, const std::string& address,
                         int64_t ttl_ms, int wait_replicas,
                         int wait_timeout_ms) {
  LeaseAnswer answer;
  RedisReply r =
      RedisCommand(ctx, {"EVAL", kAcquireScript, "2", kLeaderKey, kEpochKey,
                         address, std::to_string(ttl_ms)});
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_INTEGER ||
      r->element[1]->type != REDIS_REPLY_STRING) {
    answer.error = "lease: acquire: " + ErrorOf(ctx, r);
    return answer;
  }
  std::string_view text(r->element[1]->str, r->element[1]->len);
  auto value = ParseLeaseValue(text);
  if (!value) {
    answer.error = fmt::format(
        "lease: {} holds '{:.100}', not '<epoch> "
        "<host:port>'",
        kLeaderKey, text);
    return answer;
  }
  answer.kind = r->element[0]->integer == 1 ? LeaseAnswer::Kind::kTaken
                                            : LeaseAnswer::Kind::kHeld;
  answer.value = std::move(*value);
  if (answer.kind == LeaseAnswer::Kind::kTaken && wait_replicas > 0) {
    RedisReply w = RedisCommand(ctx, {"WAIT", std::to_string(wait_replicas),
                                      std::to_string(wait_timeout_ms)});
    if (!w || w->type != REDIS_REPLY_INTEGER || w->integer < wait_replicas) {
      answer.kind = LeaseAnswer::Kind::kError;
      answer.error = fmt::format(
          "lease: epoch {} taken but not confirmed by {} replicas ({}): not "
          "leading on it",
          answer.value.epoch, wait_replicas,
          w && w->type == REDIS_REPLY_INTEGER ? std::to_string(w->integer)
                                              : ErrorOf(ctx, w));
    }
  }
  return answer;
}

LeaseAnswer RenewLease(redisContext* ctx, const LeaseValue& ours,
                       int64_t ttl_ms) {
  LeaseAnswer answer;
  RedisReply r =
      RedisCommand(ctx, {"EVAL", kRenewScript, "1", kLeaderKey,
                         FormatLeaseValue(ours), std::to_string(ttl_ms)});
  if (!r || r->type != REDIS_REPLY_INTEGER) {
    answer.error = "lease: renew: " + ErrorOf(ctx, r);
    return answer;
  }
  answer.kind =
      r->integer == 1 ? LeaseAnswer::Kind::kRenewed : LeaseAnswer::Kind::kLost;
  answer.value = ours;
  return answer;
}

bool ReleaseLease(redisContext* ctx, const LeaseValue& ours) {
  RedisReply r = RedisCommand(
      ctx, {"EVAL", kReleaseScript, "1", kLeaderKey, FormatLeaseValue(ours)});
  return r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
}

std::optional<LeaseValue> ReadLease(redisContext* ctx) {
  RedisReply r = RedisCommand(ctx, {"GET", kLeaderKey});
  if (!r || r->type != REDIS_REPLY_STRING) return std::nullopt;
  return ParseLeaseValue(std::string_view(r->str, r->len));
}

}  // namespace store
