// MoverTable: the movers the server knows by id, and what it tracks of the
// items they run.
//
// A mover is known from its ehlo (with an "id") until it has been
// disconnected for longer than the grace time, or, after a restart, from
// recovery (a placeholder whose grace starts then) until it comes back or
// its grace ends. For the items running on movers that announced `progress`
// heartbeats, the table keeps the owner and the last sign of life (stale
// take-back), and for the items taken back from a stale mover, that mover
// (revoked: its late `done` is ignored, its pending cancel is not forwarded
// to the new owner).
//
// Names: a MoverId (server/item.h) is the id string a mover gives in ehlo
// (the peer address for an anonymous client); MoverName is the same id
// interned for the queues; MoverEntry is what this table keeps per id; the
// Scheduler keeps each mover's queues and batch slots (MoverQueues).
//
// Socket-free: the entry holds the mover's connection as an opaque pointer
// (never dereferenced here); time comes from the caller. Thread-safety:
// none; the server's event loop owns it.
#ifndef SERVER_MOVERS_H_
#define SERVER_MOVERS_H_

#include <array>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "server/item.h"

namespace server {

class Connection;

// A mover known by id: connected, or disconnected within its grace time.
struct MoverEntry {
  std::shared_ptr<Connection> connection;  // null while disconnected
  common::Clock::TimePoint disconnected_at{};
  int64_t disconnected_unix_ns = 0;
  std::array<uint64_t, kItemTypeCount> done{};
  // Had work taken back for lack of progress: nothing is dispatched to it
  // until it shows progress again.
  bool stalled = false;
  // An admin drained it (`drain`): it gets no new items, only the cancels
  // of those it runs, until `resume`. Kept across its reconnects while the
  // entry lives (a new connection does not undo an admin's decision); gone
  // with the entry and at a restart, as the lock.
  bool draining = false;
};

class MoverTable {
 public:
  using Entries = std::unordered_map<MoverId, MoverEntry>;

  // A mover introduced itself (ehlo with an id) on `connection`.
  MoverEntry& Connect(const MoverId& id, std::shared_ptr<Connection> c);
  // Recovery: `id` ran items before the restart; its grace starts `now`.
  // Nothing changes if it is known already.
  void AddPlaceholder(const MoverId& id, common::Clock::TimePoint now,
                      int64_t now_unix_ns);
  // `connection` of `id` closed. True if it was the mover's current
  // connection: its grace time starts `now`.
  bool Disconnect(const MoverId& id, const Connection* connection,
                  common::Clock::TimePoint now, int64_t now_unix_ns);
  void Erase(const MoverId& id) { entries_.erase(id); }

  const MoverEntry* Find(const MoverId& id) const;
  bool connected(const MoverId& id) const;
  bool stalled(const MoverId& id) const;
  bool draining(const MoverId& id) const;
  // Drains (or resumes) a known mover, connected or not. False for an id
  // the table does not know.
  bool SetDraining(const MoverId& id, bool draining);
  const Entries& entries() const { return entries_; }
  // The connection of a connected mover, else null.
  std::shared_ptr<Connection> ConnectionOf(const MoverId& id) const;
  // Counts an item of `type` done by `id`; returns its connection (null if
  // unknown or disconnected).
  std::shared_ptr<Connection> CountDone(const MoverId& id, ItemType type);

  // When the first disconnected mover's grace ends, if any.
  std::optional<common::Clock::TimePoint> NextExpiry(
      common::Clock::Duration grace) const;
  // Disconnected movers whose grace ended by `now`.
  std::vector<MoverId> Expired(common::Clock::TimePoint now,
                               common::Clock::Duration grace) const;

  // Activity of running items (movers that send progress).
  void Started(const ItemId& id, const MoverId& owner,
               common::Clock::TimePoint now);
  // A progress report of `owner` about `id`. Returns true if `owner` was
  // stalled (it is not any more).
  bool Progressed(const ItemId& id, const MoverId& owner,
                  common::Clock::TimePoint now);
  // The last sign of life of running item `id` (its start or its last
  // progress report), if its mover sends progress.
  std::optional<common::Clock::TimePoint> LastActivity(const ItemId& id) const {
    auto it = activity_.find(id);
    if (it == activity_.end()) return std::nullopt;
    return it->second.last;
  }
  // `id` no longer runs where it ran (requeued, ended, cancelled).
  void Stopped(const ItemId& id) { activity_.erase(id); }
  // Running items of connected movers without progress since before
  // `now - limit`. `owner_of` gives an item's current owner (nullptr if
  // unknown): activity about an item that moved on is dropped.
  template <class OwnerOf>
  std::vector<ItemId> Stale(common::Clock::TimePoint now,
                            common::Clock::Duration limit, OwnerOf owner_of);

  // Revoked items: `id` was taken back from `owner`.
  void Revoke(const ItemId& id, const MoverId& owner);
  // Whether `id` was taken back from `mover`.
  bool RevokedFrom(const ItemId& id, const MoverId& mover) const;
  void Unrevoke(const ItemId& id) { revoked_.erase(id); }
  // `id` ended: forgets its activity and revocation.
  void Ended(const ItemId& id) {
    activity_.erase(id);
    revoked_.erase(id);
  }
  size_t tracked() const { return activity_.size(); }  // tests

 private:
  struct Activity {
    MoverId owner;
    common::Clock::TimePoint last;
  };

  Entries entries_;
  std::unordered_map<ItemId, Activity, ItemIdHash> activity_;
  std::unordered_map<ItemId, MoverId, ItemIdHash> revoked_;
};

template <class OwnerOf>
std::vector<ItemId> MoverTable::Stale(common::Clock::TimePoint now,
                                      common::Clock::Duration limit,
                                      OwnerOf owner_of) {
  std::vector<ItemId> stale;
  for (auto it = activity_.begin(); it != activity_.end();) {
    const MoverName* owner = owner_of(it->first);
    if (!owner || *owner != it->second.owner) {
      it = activity_.erase(it);
      continue;
    }
    // A disconnected mover is the grace time's business.
    if (connected(it->second.owner) && now - it->second.last > limit)
      stale.push_back(it->first);
    ++it;
  }
  return stale;
}

}  // namespace server

#endif  // SERVER_MOVERS_H_
