// RedisServer: a redis-server of a test's own, on a free loopback port and
// a unix socket in a directory the test owns, with an append-only file
// synced at every write so that a restart (or a SIGKILL) keeps the data.
// Call() runs one command with hiredis, as a fixture writing or checking
// the database would. A replica is a RedisServer started with
// {"--replicaof", "127.0.0.1", <master port>}; RedisSentinel is a Redis
// Sentinel watching a master, for the high-availability tests.
//
// Thread-compatible.
#ifndef TESTS_SUPPORT_REDIS_SERVER_H_
#define TESTS_SUPPORT_REDIS_SERVER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace testing_support {

std::string RedisServerBinary();  // /usr/bin/redis-server

class RedisServer {
 public:
  // `dir` must exist; `extra_args` are added to the command line
  // (e.g. {"--requirepass", "pw"}).
  explicit RedisServer(std::string dir,
                       std::vector<std::string> extra_args = {});
  ~RedisServer() { Kill(); }

  // Starts it (on the same port as before after the first time) and waits
  // until it answers PONG to a PING on its own unix socket and on its port,
  // authenticated with set_password()'s credentials when they are set
  // (set them first for a server that requires them). Returns "" or what
  // went wrong.
  std::string Start();
  void Kill() { process_.Kill(); }
  Process& process() { return process_; }
  int port() const { return port_; }
  std::string socket() const { return dir_ + "/redis.sock"; }

  // Runs one command over TCP (AUTH first when `password` is set). Returns
  // the reply flattened to strings (an array's elements, or one value;
  // nil as ""); *error is set on an error reply or a connection failure.
  std::vector<std::string> Call(const std::vector<std::string>& args,
                                std::string* error = nullptr) const;
  // The same over the unix socket.
  std::vector<std::string> CallUnix(const std::vector<std::string>& args,
                                    std::string* error = nullptr) const;
  std::map<std::string, std::string> HGetAll(const std::string& hash) const;
  void set_password(std::string user, std::string password) {
    user_ = std::move(user);
    password_ = std::move(password);
  }

 private:
  std::vector<std::string> Run(bool unix_socket,
                               const std::vector<std::string>& args,
                               std::string* error) const;

  const std::string dir_;
  const std::vector<std::string> extra_args_;
  std::string user_, password_;
  int port_ = 0;
  int starts_ = 0;
  Process process_;
};

// A Redis Sentinel of a test's own (redis-server --sentinel) on a free
// loopback port, monitoring the master at 127.0.0.1:`master_port` under
// `name` with quick failure detection: `down_after_ms` without an answer
// makes the master subjectively down, and `quorum` sentinels agreeing start
// a failover. Its configuration file (Sentinel rewrites it) lives in `dir`,
// which must exist and be its own.
class RedisSentinel {
 public:
  struct Options {
    std::string name = "cdt";
    int master_port = 0;
    int quorum = 2;
    int down_after_ms = 1000;
    int failover_timeout_ms = 5000;
    std::string master_password;  // sentinel auth-pass (empty: none)
  };
  RedisSentinel(std::string dir, Options options);
  ~RedisSentinel() { Kill(); }

  // Starts it (on the same port after the first time) and waits until it
  // answers PING. Returns "" or what went wrong.
  std::string Start();
  void Kill() { process_.Kill(); }
  int port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  // Runs one command on it (no AUTH), as RedisServer::Call.
  std::vector<std::string> Call(const std::vector<std::string>& args,
                                std::string* error = nullptr) const;
  // The master's port as this sentinel names it now (0: unknown).
  int MasterPort() const;
  // How many replicas and other sentinels it knows for the master.
  size_t Replicas() const;
  size_t OtherSentinels() const;

 private:
  const std::string dir_;
  const Options options_;
  int port_ = 0;
  Process process_;
};

// Issue 17's Redis: a master and one replica (both with `server_args`, and
// no delay before a full resynchronisation), and three sentinels, quorum 2,
// monitoring the master as "cdt", each in a directory under `dir`.
class RedisHa {
 public:
  explicit RedisHa(std::string dir, std::vector<std::string> server_args = {});
  // Starts the master and the replica and waits for the replica's link.
  std::string StartServers();
  // Starts the sentinels and waits until each knows the replica and the two
  // others.
  std::string StartSentinels();
  // Waits until every sentinel names the replica as the master (after the
  // master was killed).
  std::string WaitFailover();
  // Starts the old master again as the new one's replica.
  std::string RejoinAsReplica();

  RedisServer& master() { return *master_; }
  RedisServer& replica() { return *replica_; }
  std::vector<std::unique_ptr<RedisSentinel>>& sentinels() {
    return sentinels_;
  }
  // "host:port host:port host:port", as redis_sentinels takes them.
  std::string SentinelList() const;

 private:
  std::string Dir(const std::string& name) const;

  const std::string dir_;
  const std::vector<std::string> server_args_;
  std::unique_ptr<RedisServer> master_, replica_;
  std::vector<std::unique_ptr<RedisSentinel>> sentinels_;
};

}  // namespace testing_support

#endif  // TESTS_SUPPORT_REDIS_SERVER_H_
