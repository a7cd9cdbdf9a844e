#include "store/redis_fence.h"

#include <openssl/sha.h>

#include <cstdio>

#include "store/redis_lease.h"

namespace store {

namespace {

// KEYS: epoch key. ARGV[1]: the leader's epoch, then the changes, each as
// an opcode ("S": HSET hash field value, "D": HDEL hash field) followed by
// its arguments. Checked whole before anything is applied: a script
// stopped by an error midway would leave half a batch.
constexpr const char* kFenceScript = R"lua(
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then
  return redis.error_reply('FENCED epoch ' .. ARGV[1] .. ' is not the current ' .. tostring(current))
end
local i = 2
local n = 0
while i <= #ARGV do
  if ARGV[i] == 'S' then
    redis.call('HSET', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  else
    redis.call('HDEL', ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  end
  n = n + 1
end
return n
)lua";

std::string Sha1Hex(const std::string& text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
       digest);
  std::string hex;
  char byte[3];
  for (unsigned char c : digest) {
    std::snprintf(byte, sizeof byte, "%02x", c);
    hex += byte;
  }
  return hex;
}

}  // namespace

const std::string& FenceScript() {
  static const std::string script = kFenceScript;
  return script;
}

const std::string& FenceScriptSha() {
  static const std::string sha = Sha1Hex(FenceScript());
  return sha;
}

std::vector<std::string> FencedBatch(
    const std::vector<std::vector<std::string>>& commands, uint64_t epoch,
    bool by_sha) {
  std::vector<std::string> args;
  args.reserve(5 + commands.size() * 4);
  args.push_back(by_sha ? "EVALSHA" : "EVAL");
  args.push_back(by_sha ? FenceScriptSha() : FenceScript());
  args.push_back("1");
  args.push_back(kEpochKey);
  args.push_back(std::to_string(epoch));
  for (const auto& command : commands) {
    const bool set = command[0] == "HSET";
    args.push_back(set ? "S" : "D");
    args.insert(args.end(), command.begin() + 1, command.end());
  }
  return args;
}

bool IsFenced(std::string_view error) { return error.starts_with("FENCED"); }

bool IsNoScript(std::string_view error) {
  return error.starts_with("NOSCRIPT");
}

}  // namespace store
