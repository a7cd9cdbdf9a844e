#include "server/lease_keeper.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace server {

namespace {

// The lease's connection answers within a third of the ttl or counts as
// unanswered: a leader must be able to try again before its lease ends.
store::RedisOptions LeaseRedisOptions(store::RedisOptions redis,
                                      std::chrono::milliseconds ttl) {
  redis.timeout_ms = static_cast<int>(
      std::clamp<int64_t>(ttl.count() / 3, 50, std::max(redis.timeout_ms, 50)));
  return redis;
}

}  // namespace

LeaseKeeper::LeaseKeeper(boost::asio::io_context& io,
                         const common::Clock& clock, LeaseKeeperOptions options,
                         LeaseEvents events)
    : io_(io),
      clock_(clock),
      options_{LeaseRedisOptions(options.redis, options.ttl), options.ttl,
               options.advertise, options.freeze_after_taking},
      events_(std::move(events)),
      leadership_(options.ttl) {}

LeaseKeeper::~LeaseKeeper() {
  Stop(false);
  store::CloseRedis(ctx_);
}

void LeaseKeeper::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { ThreadMain(); });
}

bool LeaseKeeper::Leading() const {
  common::MutexLock lock(&mu_);
  if (options_.freeze_after_taking && leadership_.role() == Role::kLeader)
    return true;
  return leadership_.Leading(clock_.Now());
}

LeaseView LeaseKeeper::View() const {
  common::MutexLock lock(&mu_);
  LeaseView view;
  const auto now = clock_.Now();
  view.role = leadership_.role();
  // A leader past its local end has stepped down, whether or not the
  // thread has noticed yet.
  if (view.role == Role::kLeader && !leadership_.Leading(now))
    view.role = Role::kSteppedDown;
  view.epoch = leadership_.epoch();
  view.remaining = leadership_.Remaining(now);
  view.leader = leader_;
  return view;
}

void LeaseKeeper::StepDown(const std::string& why) {
  {
    common::MutexLock lock(&mu_);
    if (leadership_.role() == Role::kSteppedDown) return;
    leadership_.StepDown();
    cv_.NotifyAll();
  }
  spdlog::critical("leadership: stepping down: {}", why);
}

void LeaseKeeper::Stop(bool release) {
  {
    common::MutexLock lock(&mu_);
    quit_ = true;
    release_ = release;
    cv_.NotifyAll();
  }
  if (thread_.joinable()) thread_.join();
}

store::LeaseAnswer LeaseKeeper::Ask(Role role, const store::LeaseValue& ours) {
  if (!ctx_) {
    std::string error;
    ctx_ = store::ConnectRedis(options_.redis, &error);
    if (!ctx_) {
      if (!connect_failed_) spdlog::error("leadership: {}", error);
      connect_failed_ = true;
      store::LeaseAnswer answer;
      answer.error = error;
      return answer;
    }
    if (connect_failed_)
      spdlog::info("leadership: {} reachable again",
                   store::DescribeRedis(options_.redis));
    connect_failed_ = false;
  }
  store::LeaseAnswer answer =
      role == Role::kLeader
          ? store::RenewLease(ctx_, ours, options_.ttl.count())
          : store::AcquireLease(ctx_, options_.advertise, options_.ttl.count(),
                                options_.redis.wait_replicas,
                                std::min<int>(options_.redis.wait_timeout_ms,
                                              options_.redis.timeout_ms / 2));
  if (answer.kind == store::LeaseAnswer::Kind::kError) {
    // Another master after a failover, or a dead connection: connect
    // again (through the sentinels) at the next attempt.
    spdlog::warn("leadership: {}", answer.error);
    store::CloseRedis(ctx_);
    ctx_ = nullptr;
  }
  return answer;
}

void LeaseKeeper::ThreadMain() {
  for (;;) {
    Role role;
    store::LeaseValue ours;
    {
      common::MutexLock lock(&mu_);
      for (;;) {
        if (quit_ || leadership_.role() == Role::kSteppedDown) break;
        if (options_.freeze_after_taking &&
            leadership_.role() == Role::kLeader) {
          cv_.Wait(&mu_);
          continue;
        }
        const auto now = clock_.Now();
        if (leadership_.CheckExpiry(now)) {
          PostSteppedDown("the lease ran out before it could be renewed");
          break;
        }
        if (now >= leadership_.NextAttempt()) break;
        auto wake = leadership_.NextAttempt();
        if (leadership_.role() == Role::kLeader)
          wake = std::min(wake, leadership_.lease_end());
        cv_.WaitUntil(&mu_, wake);
      }
      if (quit_ || leadership_.role() == Role::kSteppedDown) {
        if (quit_ && release_ && leadership_.role() == Role::kLeader && ctx_ &&
            store::ReleaseLease(ctx_, ours_))
          spdlog::info("leadership: lease released");
        return;
      }
      role = leadership_.role();
      ours = ours_;
    }
    const auto sent = clock_.Now();
    store::LeaseAnswer answer = Ask(role, ours);
    common::MutexLock lock(&mu_);
    if (leadership_.role() == Role::kSteppedDown) return;
    switch (answer.kind) {
      case store::LeaseAnswer::Kind::kTaken:
        leadership_.Acquired(sent, answer.value.epoch);
        ours_ = answer.value;
        leader_ = answer.value.address;
        PostTookLead(answer.value.epoch);
        break;
      case store::LeaseAnswer::Kind::kHeld:
        leadership_.Held(sent);
        if (leader_ != answer.value.address)
          spdlog::info("leadership: standby; the leader is {} (epoch {})",
                       answer.value.address, answer.value.epoch);
        leader_ = answer.value.address;
        break;
      case store::LeaseAnswer::Kind::kRenewed:
        leadership_.Renewed(sent);
        break;
      case store::LeaseAnswer::Kind::kLost:
        leadership_.StepDown();
        PostSteppedDown(
            "the lease is no longer ours (it lapsed, another server may "
            "lead)");
        return;
      case store::LeaseAnswer::Kind::kError:
        leadership_.Unanswered(sent);
        break;
    }
  }
}

void LeaseKeeper::PostTookLead(uint64_t epoch) {
  boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_), epoch] {
    if (!alive.expired() && events_.took_lead) events_.took_lead(epoch);
  });
}

void LeaseKeeper::PostSteppedDown(const std::string& why) {
  boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_), why] {
    if (!alive.expired() && events_.stepped_down) events_.stepped_down(why);
  });
}

}  // namespace server
