// ConnectRedis: an authenticated hiredis context to the Redis master, found
// either at a fixed address (host and port, or a unix socket) or through
// Redis Sentinel (a list of sentinels and the name they monitor the master
// under). Every connection of the server to Redis goes through it: the
// store's writer thread, and the leadership lease.
//
// Through sentinels, each is asked in order for the master's address
// (SENTINEL get-master-addr-by-name); the first address that accepts the
// connection and AUTH and says it is a master (ROLE) wins. A sentinel can
// name an old master for a moment after a failover (its view is behind the
// others'), hence ROLE: a replica is never taken for the master. Callers
// re-resolve by connecting again: after a lost connection or an error reply
// (READONLY from a demoted master), which is how a failover is followed.
//
// Thread-safety: a free function; the context it returns belongs to the
// caller (redisFree), used by one thread at a time.
#ifndef STORE_REDIS_CONNECT_H_
#define STORE_REDIS_CONNECT_H_

#include <sys/time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct redisContext;
struct redisReply;

namespace store {

struct RedisEndpoint {
  std::string host;
  uint16_t port = 0;
  friend bool operator==(const RedisEndpoint&, const RedisEndpoint&) = default;
};

struct RedisOptions {
  std::string host = "localhost";
  uint16_t port = 6379;
  std::string socket;     // a unix socket path: used instead of host/port
  std::string user;       // ACL user (AUTH user password); empty: default
  std::string password;   // empty: no AUTH
  int timeout_ms = 5000;  // connect and per-reply timeout
  // Sentinel discovery: when `sentinels` is not empty the master is the
  // one they name `master_name`, and host/port/socket are not used. The
  // sentinels themselves are reached without AUTH.
  std::vector<RedisEndpoint> sentinels;
  std::string master_name;
  // Writes count as acknowledged only once WAIT says this many replicas
  // have them (0: on the master's reply), waiting at most
  // wait_timeout_ms for them (RedisStore).
  int wait_replicas = 0;
  int wait_timeout_ms = 1000;
  // RedisStore only: 0, no fencing (each change its own command, as the
  // original); else every batch is applied only while coordinatool_epoch
  // equals this epoch, the lease's (store/redis_fence.h).
  uint64_t fence_epoch = 0;
};

// A reply of hiredis's, freed with it.
struct RedisReplyDeleter {
  void operator()(redisReply* reply) const;
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// Sends one command (arguments binary-safe) and reads its reply: nullptr
// when the connection failed (ctx->errstr says why).
RedisReply RedisCommand(redisContext* ctx,
                        const std::vector<std::string>& args);

// `ms` milliseconds as the timeval hiredis's timeouts take.
timeval RedisTimeval(int ms);

// What the options point at, for logs: "redis 127.0.0.1:6379", "redis
// unix:/run/redis.sock", "redis master 'm' via sentinels a:1,b:2".
std::string DescribeRedis(const RedisOptions& options);

// A connected, authenticated context to the current master, with the
// options' timeouts set on it (and TCP keepalive), or nullptr with *error
// saying what failed at each address tried. *master (if given) gets the
// master's address as "host:port" (or "unix:path").
redisContext* ConnectRedis(const RedisOptions& options, std::string* error,
                           std::string* master = nullptr);

// Frees a context of ConnectRedis (nullptr: nothing).
void CloseRedis(redisContext* ctx);

}  // namespace store

#endif  // STORE_REDIS_CONNECT_H_
