#include "store/redis_connect.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "config/config_file.h"

namespace store {

void RedisReplyDeleter::operator()(redisReply* reply) const {
  if (reply) freeReplyObject(reply);
}

void CloseRedis(redisContext* ctx) {
  if (ctx) redisFree(ctx);
}

RedisReply RedisCommand(redisContext* ctx,
                        const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return RedisReply(static_cast<redisReply*>(redisCommandArgv(
      ctx, static_cast<int>(args.size()), argv.data(), lens.data())));
}

timeval RedisTimeval(int ms) { return {ms / 1000, (ms % 1000) * 1000}; }

// File-local names differ from redis_store.cc's: a unity build compiles
// both in one file.
namespace {

struct ContextDeleter {
  void operator()(redisContext* c) const {
    if (c) redisFree(c);
  }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

// What went wrong with a reply: the connection's error, the error reply,
// or "unexpected reply".
std::string Why(redisContext* ctx, const RedisReply& r) {
  if (!r) return ctx->errstr;
  if (r->type == REDIS_REPLY_ERROR) return std::string(r->str, r->len);
  return "unexpected reply";
}

std::string Format(const RedisEndpoint& e) {
  return e.host.find(':') == std::string::npos
             ? fmt::format("{}:{}", e.host, e.port)
             : fmt::format("[{}]:{}", e.host, e.port);
}

Context Open(const RedisEndpoint* tcp, const std::string& socket,
             int timeout_ms, std::string* error) {
  Context ctx(tcp ? redisConnectWithTimeout(tcp->host.c_str(), tcp->port,
                                            RedisTimeval(timeout_ms))
                  : redisConnectUnixWithTimeout(socket.c_str(),
                                                RedisTimeval(timeout_ms)));
  if (!ctx || ctx->err) {
    *error = ctx ? ctx->errstr : "out of memory";
    return nullptr;
  }
  redisSetTimeout(ctx.get(), RedisTimeval(timeout_ms));
  if (tcp) redisEnableKeepAlive(ctx.get());
  return ctx;
}

bool Authenticate(redisContext* ctx, const RedisOptions& options,
                  std::string* error) {
  if (options.password.empty()) return true;
  std::vector<std::string> auth = {"AUTH"};
  if (!options.user.empty()) auth.push_back(options.user);
  auth.push_back(options.password);
  RedisReply r = RedisCommand(ctx, auth);
  if (r && r->type != REDIS_REPLY_ERROR) return true;
  *error =
      fmt::format("AUTH{} failed: {}",
                  options.user.empty() ? "" : " " + options.user, Why(ctx, r));
  return false;
}

// Whether the server is a master. A user whose ACL does not allow ROLE
// gets the benefit of the doubt: a replica refuses its writes (READONLY)
// and the caller connects again.
bool IsMaster(redisContext* ctx, std::string* error) {
  RedisReply r = RedisCommand(ctx, {"ROLE"});
  if (r && r->type == REDIS_REPLY_ERROR &&
      std::string_view(r->str, r->len).starts_with("NOPERM"))
    return true;
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
      r->element[0]->type != REDIS_REPLY_STRING) {
    *error = "ROLE: " + Why(ctx, r);
    return false;
  }
  std::string_view role(r->element[0]->str, r->element[0]->len);
  if (role == "master") return true;
  *error = fmt::format("it is a {}, not the master", role);
  return false;
}

// The master's address according to one sentinel.
std::optional<RedisEndpoint> AskSentinel(const RedisEndpoint& sentinel,
                                         const RedisOptions& options,
                                         std::string* error) {
  Context ctx = Open(&sentinel, "", options.timeout_ms, error);
  if (!ctx) return std::nullopt;
  RedisReply r = RedisCommand(
      ctx.get(), {"SENTINEL", "get-master-addr-by-name", options.master_name});
  if (r && r->type == REDIS_REPLY_NIL) {
    *error =
        fmt::format("it monitors no master named '{}'", options.master_name);
    return std::nullopt;
  }
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_STRING ||
      r->element[1]->type != REDIS_REPLY_STRING) {
    *error = "SENTINEL get-master-addr-by-name: " + Why(ctx.get(), r);
    return std::nullopt;
  }
  // The port as config reads it: decimal, in range.
  std::string host(r->element[0]->str, r->element[0]->len);
  auto parsed = config::ParseHostPort(
      fmt::format("[{}]:{}", host,
                  std::string_view(r->element[1]->str, r->element[1]->len)));
  if (!parsed) {
    *error = "unreadable master address";
    return std::nullopt;
  }
  return RedisEndpoint{parsed->first, parsed->second};
}

}  // namespace

std::string DescribeRedis(const RedisOptions& options) {
  if (!options.sentinels.empty()) {
    std::string list;
    for (const auto& s : options.sentinels)
      list += (list.empty() ? "" : ",") + Format(s);
    return fmt::format("redis master '{}' via sentinels {}",
                       options.master_name, list);
  }
  return options.socket.empty()
             ? fmt::format("redis {}", Format({options.host, options.port}))
             : fmt::format("redis unix:{}", options.socket);
}

redisContext* ConnectRedis(const RedisOptions& options, std::string* error,
                           std::string* master) {
  std::string why;
  if (options.sentinels.empty()) {
    const RedisEndpoint tcp{options.host, options.port};
    const bool unix_socket = !options.socket.empty();
    Context ctx = Open(unix_socket ? nullptr : &tcp, options.socket,
                       options.timeout_ms, &why);
    if (!ctx) {
      *error =
          fmt::format("cannot connect to {}: {}", DescribeRedis(options), why);
      return nullptr;
    }
    if (!Authenticate(ctx.get(), options, &why)) {
      *error = fmt::format("{}: {}", DescribeRedis(options), why);
      return nullptr;
    }
    if (master) *master = unix_socket ? "unix:" + options.socket : Format(tcp);
    return ctx.release();
  }
  // Every sentinel in order; what each said goes into the error.
  std::string tried;
  for (const RedisEndpoint& sentinel : options.sentinels) {
    auto address = AskSentinel(sentinel, options, &why);
    if (!address) {
      tried += fmt::format("; sentinel {}: {}", Format(sentinel), why);
      continue;
    }
    Context ctx = Open(&*address, "", options.timeout_ms, &why);
    if (ctx && Authenticate(ctx.get(), options, &why) &&
        IsMaster(ctx.get(), &why)) {
      if (master) *master = Format(*address);
      return ctx.release();
    }
    tried += fmt::format("; master {} named by sentinel {}: {}",
                         Format(*address), Format(sentinel), why);
  }
  *error = fmt::format("cannot connect to {}{}", DescribeRedis(options), tried);
  return nullptr;
}

}  // namespace store
