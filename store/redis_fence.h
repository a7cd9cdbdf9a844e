// Fencing of a leader's writes (docs/high-availability.md): with high
// availability on, RedisStore sends each batch of changes as one Lua
// script that applies them only while coordinatool_epoch (store/
// redis_lease.h) still equals the epoch its leader took the lease with.
// A leader paused past its lease wakes up to a larger epoch (a standby has
// taken over): its batch is refused whole with an error reply that starts
// with FENCED, and nothing of it reaches Redis.
//
// The script is sent by its SHA1 (EVALSHA); a Redis that does not know it
// (restarted, failed over, SCRIPT FLUSH) answers NOSCRIPT and the batch is
// sent again with the script's text (EVAL), which loads it.
//
// The changes keep the original's schema (docs/redis.md): each is an HSET
// or an HDEL of one field of coordinatool_requests or coordinatool_assigned.
//
// Thread-safety: pure functions.
#ifndef STORE_REDIS_FENCE_H_
#define STORE_REDIS_FENCE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace store {

// The script's text, and its SHA1 in hex (what EVALSHA names).
const std::string& FenceScript();
const std::string& FenceScriptSha();

// The arguments of EVALSHA (or EVAL with `by_sha` false) applying
// `commands` (each {"HSET", hash, field, value} or {"HDEL", hash, field})
// under `epoch`.
std::vector<std::string> FencedBatch(
    const std::vector<std::vector<std::string>>& commands, uint64_t epoch,
    bool by_sha);

// Whether an error reply says the batch was fenced (final), or that the
// script is unknown (send it with EVAL).
bool IsFenced(std::string_view error);
bool IsNoScript(std::string_view error);

}  // namespace store

#endif  // STORE_REDIS_FENCE_H_
