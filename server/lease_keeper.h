// LeaseKeeper: the server's side of the leader's lease (high availability,
// docs/high-availability.md). A thread of its own holds a Redis connection
// (store::ConnectRedis, so it follows Sentinel failovers) and, on the
// schedule of Leadership (server/leadership.h), tries to take the lease
// while standby and renews it while leader (store/redis_lease.h). The
// event loop never waits on Redis: it reads the state under a mutex
// (Leading(), View()) and is told of the transitions by handlers posted to
// it (took_lead, stepped_down).
//
// The thread also watches the local lease end: a leader that cannot renew
// in time (Redis unreachable, the renewal refused) steps down at that end
// at the latest, and Leading() says false from that instant on, whatever
// the loop has not run yet.
//
// Thread-safety: every public member is called on the loop; the state the
// thread shares is guarded by mu_.
#ifndef SERVER_LEASE_KEEPER_H_
#define SERVER_LEASE_KEEPER_H_

#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "server/leadership.h"
#include "store/redis_connect.h"
#include "store/redis_lease.h"

struct redisContext;

namespace server {

struct LeaseKeeperOptions {
  store::RedisOptions redis;
  std::chrono::milliseconds ttl{10'000};
  std::string advertise;  // host:port this server is reached at
  // Tests only (COORDINATOOL_TEST_FREEZE_LEASE): once leader, never renew
  // nor look at the lease's end, as a leader whose thread and clock are
  // stuck would; only the fencing of its writes then stops it.
  bool freeze_after_taking = false;
};

struct LeaseEvents {
  // Run on the loop.
  std::function<void(uint64_t epoch)> took_lead;
  std::function<void(const std::string& why)> stepped_down;
};

struct LeaseView {
  Role role = Role::kStandby;
  uint64_t epoch = 0;
  std::chrono::milliseconds remaining{0};
  std::string leader;  // host:port of the leader ("" unknown)
};

class LeaseKeeper {
 public:
  LeaseKeeper(boost::asio::io_context& io, const common::Clock& clock,
              LeaseKeeperOptions options, LeaseEvents events);
  ~LeaseKeeper();

  void Start();
  // Whether this server leads now: the lease is ours and its local end
  // has not come.
  bool Leading() const;
  LeaseView View() const;
  // The store was fenced: step down for good (the thread stops renewing).
  void StepDown(const std::string& why);
  // Ends the thread. `release`: a leader deletes its key, so that a
  // standby takes over without waiting for the ttl.
  void Stop(bool release);

 private:
  void ThreadMain();
  // One acquire or renew; called by the thread without mu_.
  store::LeaseAnswer Ask(Role role, const store::LeaseValue& ours);
  void PostTookLead(uint64_t epoch);
  void PostSteppedDown(const std::string& why);

  boost::asio::io_context& io_;
  const common::Clock& clock_;
  const LeaseKeeperOptions options_;
  const LeaseEvents events_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);

  redisContext* ctx_ = nullptr;  // the thread's
  bool connect_failed_ = false;  // the thread's: logged once per outage

  mutable common::Mutex mu_;
  common::CondVar cv_;
  Leadership leadership_ GUARDED_BY(mu_);
  store::LeaseValue ours_ GUARDED_BY(mu_);
  std::string leader_ GUARDED_BY(mu_);
  bool quit_ GUARDED_BY(mu_) = false;
  bool release_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace server

#endif  // SERVER_LEASE_KEEPER_H_
