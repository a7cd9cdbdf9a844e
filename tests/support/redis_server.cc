#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "tests/support/wait_for.h"

namespace testing_support {

namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

void Flatten(const redisReply* r, std::vector<std::string>* out) {
  if (r->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < r->elements; ++i) Flatten(r->element[i], out);
  } else if (r->type == REDIS_REPLY_INTEGER) {
    out->push_back(std::to_string(r->integer));
  } else if (r->type == REDIS_REPLY_NIL) {
    out->push_back("");
  } else {
    out->emplace_back(r->str, r->len);
  }
}

// One command over the unix socket `socket` (when not empty) or to
// 127.0.0.1:`port`, after AUTH when `password` is set.
std::vector<std::string> RunCommand(const std::string& socket, int port,
                                    const std::string& user,
                                    const std::string& password,
                                    const std::vector<std::string>& args,
                                    std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  error->clear();
  std::vector<std::string> out;
  // As long as a test's other bounds: a loaded machine can hold a reply
  // (an fsync of the append-only file) for seconds.
  timeval tv{20, 0};
  redisContext* ctx = !socket.empty()
                          ? redisConnectUnixWithTimeout(socket.c_str(), tv)
                          : redisConnectWithTimeout("127.0.0.1", port, tv);
  if (!ctx || ctx->err) {
    *error = ctx ? ctx->errstr : "no memory";
    if (ctx) redisFree(ctx);
    return out;
  }
  redisSetTimeout(ctx, tv);
  auto run = [&](const std::vector<std::string>& command) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : command) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(
        ctx, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!r) {
      *error = ctx->errstr;
      return false;
    }
    bool ok = r->type != REDIS_REPLY_ERROR;
    if (!ok) *error = std::string(r->str, r->len);
    out.clear();
    if (ok) Flatten(r, &out);
    freeReplyObject(r);
    return ok;
  };
  if (!password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!user.empty()) auth.push_back(user);
    auth.push_back(password);
    if (!run(auth)) {
      redisFree(ctx);
      return {};
    }
  }
  run(args);
  redisFree(ctx);
  return out;
}

}  // namespace

std::string RedisServerBinary() { return "/usr/bin/redis-server"; }

RedisServer::RedisServer(std::string dir, std::vector<std::string> extra_args)
    : dir_(std::move(dir)), extra_args_(std::move(extra_args)) {}

std::string RedisServer::Start() {
  std::string error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (port_ == 0 || (starts_ == 0 && attempt > 0)) port_ = FreePort();
    std::vector<std::string> argv = {RedisServerBinary(),
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_,
                                     "--unixsocket",
                                     socket(),
                                     "--unixsocketperm",
                                     "700",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "yes",
                                     "--appendfsync",
                                     "always",
                                     "--daemonize",
                                     "no"};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    SpawnOptions options;
    options.stdout_path = options.stderr_path = dir_ + "/redis.log";
    process_ = Process::Spawn(argv, options, &error);
    if (process_.pid() < 0) return error;
    // Up once it answers PONG on its own unix socket, then on its port. Not
    // on the socket's file existing: redis-server binds it (the file
    // appears) before it listens, and after a restart the killed server's
    // file is still there while the port may be another test's server by
    // then. Not on NOAUTH either: Redis checks authentication before
    // loading, so a server still loading its append-only file answers
    // NOAUTH, then refuses writes with LOADING.
    std::string why;
    bool up = WaitFor(
        [&] {
          if (!process_.Running()) return true;
          why.clear();
          if (CallUnix({"PING"}, &why) != std::vector<std::string>{"PONG"})
            return why.find("NOAUTH") != std::string::npos;
          return Call({"PING"}, &why) == std::vector<std::string>{"PONG"};
        },
        std::chrono::seconds(20));
    if (up && why.find("NOAUTH") != std::string::npos) {
      process_.Kill();
      return "redis-server requires authentication: call set_password() "
             "before Start()";
    }
    if (up && process_.Running()) {
      ++starts_;
      return "";
    }
    process_.Kill();
    error = "redis-server did not start on port " + std::to_string(port_) +
            " (see " + dir_ + "/redis.log)";
    if (starts_ > 0) break;  // the port must stay the same
  }
  return error;
}

std::vector<std::string> RedisServer::Call(const std::vector<std::string>& args,
                                           std::string* error) const {
  return Run(false, args, error);
}

std::vector<std::string> RedisServer::CallUnix(
    const std::vector<std::string>& args, std::string* error) const {
  return Run(true, args, error);
}

std::vector<std::string> RedisServer::Run(bool unix_socket,
                                          const std::vector<std::string>& args,
                                          std::string* error) const {
  return RunCommand(unix_socket ? socket() : "", port_, user_, password_, args,
                    error);
}

std::map<std::string, std::string> RedisServer::HGetAll(
    const std::string& hash) const {
  std::vector<std::string> flat = Call({"HGETALL", hash});
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < flat.size(); i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

RedisSentinel::RedisSentinel(std::string dir, Options options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

std::string RedisSentinel::Start() {
  const std::string conf = dir_ + "/sentinel.conf";
  if (port_ == 0) {
    // Written once: Sentinel rewrites it with what it learnt (the current
    // master, replicas, other sentinels, the epoch), which a restart keeps.
    port_ = FreePort();
    std::ofstream out(conf);
    const std::string& n = options_.name;
    out << "port " << port_ << "\nbind 127.0.0.1\ndir " << dir_
        << "\nsentinel monitor " << n << " 127.0.0.1 " << options_.master_port
        << " " << options_.quorum << "\nsentinel down-after-milliseconds " << n
        << " " << options_.down_after_ms << "\nsentinel failover-timeout " << n
        << " " << options_.failover_timeout_ms << "\n";
    if (!options_.master_password.empty())
      out << "sentinel auth-pass " << n << " " << options_.master_password
          << "\n";
    if (!out.flush()) return "cannot write " + conf;
  }
  SpawnOptions options;
  options.stdout_path = options.stderr_path = dir_ + "/sentinel.log";
  std::string error;
  process_ = Process::Spawn({RedisServerBinary(), conf, "--sentinel"}, options,
                            &error);
  if (process_.pid() < 0) return error;
  bool up = WaitFor(
      [&] {
        return !process_.Running() ||
               Call({"PING"}) == std::vector<std::string>{"PONG"};
      },
      std::chrono::seconds(20));
  if (up && process_.Running()) return "";
  process_.Kill();
  return "redis sentinel did not start on port " + std::to_string(port_) +
         " (see " + dir_ + "/sentinel.log)";
}

std::vector<std::string> RedisSentinel::Call(
    const std::vector<std::string>& args, std::string* error) const {
  std::string ignored;
  return RunCommand("", port_, "", "", args, error ? error : &ignored);
}

int RedisSentinel::MasterPort() const {
  auto address = Call({"SENTINEL", "get-master-addr-by-name", options_.name});
  return address.size() == 2 && !address[1].empty() ? std::stoi(address[1]) : 0;
}

// SENTINEL REPLICAS / SENTINELS answer an array of flattened field/value
// arrays: count the "name" fields.
size_t RedisSentinel::Replicas() const {
  auto flat = Call({"SENTINEL", "replicas", options_.name});
  return static_cast<size_t>(std::count(flat.begin(), flat.end(), "name"));
}

size_t RedisSentinel::OtherSentinels() const {
  auto flat = Call({"SENTINEL", "sentinels", options_.name});
  return static_cast<size_t>(std::count(flat.begin(), flat.end(), "name"));
}

RedisHa::RedisHa(std::string dir, std::vector<std::string> server_args)
    : dir_(std::move(dir)), server_args_(std::move(server_args)) {}

std::string RedisHa::Dir(const std::string& name) const {
  std::string path = dir_ + "/" + name;
  mkdir(path.c_str(), 0700);
  return path;
}

namespace {

bool LinkUp(const RedisServer& replica) {
  auto info = replica.Call({"INFO", "replication"});
  return !info.empty() &&
         info[0].find("master_link_status:up") != std::string::npos;
}

}  // namespace

std::string RedisHa::StartServers() {
  // No 5 s pause before a full resynchronisation (Redis's default, to serve
  // several replicas with one snapshot).
  std::vector<std::string> args = server_args_;
  args.insert(args.end(), {"--repl-diskless-sync-delay", "0"});
  master_ = std::make_unique<RedisServer>(Dir("master"), args);
  if (std::string e = master_->Start(); !e.empty()) return "master: " + e;
  args.insert(args.end(),
              {"--replicaof", "127.0.0.1", std::to_string(master_->port())});
  replica_ = std::make_unique<RedisServer>(Dir("replica"), args);
  if (std::string e = replica_->Start(); !e.empty()) return "replica: " + e;
  if (!WaitFor([&] { return LinkUp(*replica_); }, 20s))
    return "the replica never synchronised";
  return "";
}

std::string RedisHa::StartSentinels() {
  for (int i = 0; i < 3; ++i) {
    RedisSentinel::Options o;
    o.master_port = master_->port();
    sentinels_.push_back(std::make_unique<RedisSentinel>(
        Dir("sentinel" + std::to_string(i)), o));
    if (std::string e = sentinels_.back()->Start(); !e.empty()) return e;
  }
  // Their hello messages go through the master every 2 s.
  if (!WaitFor(
          [&] {
            for (const auto& s : sentinels_)
              if (s->Replicas() != 1 || s->OtherSentinels() != 2) return false;
            return true;
          },
          30s))
    return "the sentinels never knew each other and the replica";
  return "";
}

std::string RedisHa::WaitFailover() {
  if (!WaitFor(
          [&] {
            for (const auto& s : sentinels_)
              if (s->MasterPort() != replica_->port()) return false;
            return true;
          },
          30s))
    return "no failover to the replica";
  return "";
}

std::string RedisHa::RejoinAsReplica() {
  if (std::string e = master_->Start(); !e.empty()) return e;
  std::string error;
  master_->Call({"REPLICAOF", "127.0.0.1", std::to_string(replica_->port())},
                &error);
  return error;
}

std::string RedisHa::SentinelList() const {
  std::string list;
  for (const auto& s : sentinels_)
    list += (list.empty() ? "" : " ") + s->endpoint();
  return list;
}

}  // namespace testing_support
