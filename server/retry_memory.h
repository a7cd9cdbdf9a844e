// RetryMemory: the requests whose last attempt a mover ended with
// HP_FLAG_RETRY, so that the server knows them when Lustre sends them again
// (same cookie and file FID: Lustre keeps the request's record and puts it
// back to WAITING; docs/policies.md, "Retries").
//
// For each: how many attempts failed so, on which movers, and the last
// error. Bounded: at most `capacity` requests (the least recently failed
// goes first), and a request not seen again within `ttl` of its last
// failure is forgotten (Lustre sends a retried request again within its
// loop_period, seconds; one that never comes back was cancelled, failed
// or ended elsewhere). Expiry is lazy, on the injected clock.
//
// Also the choice of where a returning request waits
// (ChooseRetryMover): the least busy connected mover that has not failed
// it, from the movers' running counts, without looking at any queue.
//
// No sockets, no timers. Thread-safety: none; the server's event loop owns
// it.
#ifndef SERVER_RETRY_MEMORY_H_
#define SERVER_RETRY_MEMORY_H_

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "server/item.h"

namespace server {

// At most this many distinct movers are remembered per request (the last
// ones): placement avoids them.
inline constexpr size_t kRetryMoversKept = 8;

struct RetryEntry {
  uint32_t failures = 0;           // attempts ended with the retry flag
  std::vector<MoverId> failed_on;  // distinct, oldest first
  int32_t last_error = 0;          // the last mover's errno
  common::Clock::TimePoint last_failure{};
};

class RetryMemory {
 public:
  RetryMemory(const common::Clock& clock, size_t capacity = 4096,
              std::chrono::seconds ttl = std::chrono::hours(1));

  // The request's key: its cookie and its file's FID (a restore's data FID
  // changes from one attempt to the next).
  static ItemId KeyOf(const hsm_action_item& hai) {
    return ItemId{hai.hai_cookie, hai.hai_fid};
  }

  // An attempt of `key` on `mover` ended with `error` and the retry flag.
  // Returns the attempts failed so far (1 after the first).
  uint32_t Failed(const ItemId& key, const MoverId& mover, int32_t error);
  // What is remembered of `key`; null if nothing (never failed with the
  // flag, expired, or forgotten). The pointer lives until the next call.
  const RetryEntry* Find(const ItemId& key);
  // The request ended otherwise (success, failure without the flag, given
  // up): nothing more to remember.
  void Forget(const ItemId& key);

  // Called with the key of each entry forgotten by age or for room (not by
  // Forget): the request will not be known when it comes back, so whatever
  // waits for its return (the Scheduler's retry await) must stop waiting.
  void SetForgottenHook(std::function<void(const ItemId&)> hook) {
    forgotten_hook_ = std::move(hook);
  }
  // Forgets the expired entries now (expiry is otherwise lazy, at the next
  // Failed or Find); returns how many.
  size_t ExpireNow() {
    const uint64_t before = expired_;
    Expire();
    return expired_ - before;
  }

  // What is remembered of `key`, without forgetting expired entries (null
  // for one expired too): for `show`.
  const RetryEntry* Peek(const ItemId& key) const;

  // A remembered request came back and was placed again; one came back
  // after its last attempt and was failed at Lustre.
  void NoteReturned() { ++returned_; }
  void NoteGivenUp() { ++given_up_; }

  // status's "retries": the counters and, newest failure first, at most
  // `max_listed` remembered requests.
  boost::json::object Status(uint32_t max_attempts, size_t max_listed) const;

  size_t size() const { return entries_.size(); }
  uint64_t returned() const { return returned_; }
  uint64_t given_up() const { return given_up_; }
  uint64_t expired() const { return expired_; }  // forgotten by age
  uint64_t evicted() const { return evicted_; }  // forgotten for room

 private:
  void Expire();

  const common::Clock& clock_;
  const size_t capacity_;
  const std::chrono::seconds ttl_;
  // Least recently failed first.
  std::list<ItemId> order_;
  struct Slot {
    RetryEntry entry;
    std::list<ItemId>::iterator pos;
  };
  std::unordered_map<ItemId, Slot, ItemIdHash> entries_;
  std::function<void(const ItemId&)> forgotten_hook_;
  uint64_t expired_ = 0;
  uint64_t evicted_ = 0;
  uint64_t returned_ = 0;
  uint64_t given_up_ = 0;
};

// Where a returning request waits: the connected mover with the fewest
// running items among `movers` (id, running) that is not in `failed_on`,
// the smallest id on a tie; "" (the global queues) when there is none.
MoverId ChooseRetryMover(
    const std::vector<std::pair<MoverId, uint64_t>>& movers,
    const std::vector<MoverId>& failed_on);

}  // namespace server

#endif  // SERVER_RETRY_MEMORY_H_
