#include "server/movers.h"

namespace server {

MoverEntry& MoverTable::Connect(const MoverId& id,
                                std::shared_ptr<Connection> c) {
  MoverEntry& entry = entries_[id];
  entry.connection = std::move(c);
  entry.stalled = false;  // a new connection starts afresh
  // (`draining` stays: an admin's decision outlives the connection)
  return entry;
}

void MoverTable::AddPlaceholder(const MoverId& id, common::Clock::TimePoint now,
                                int64_t now_unix_ns) {
  auto [it, created] = entries_.try_emplace(id);
  if (!created) return;
  it->second.disconnected_at = now;
  it->second.disconnected_unix_ns = now_unix_ns;
}

bool MoverTable::Disconnect(const MoverId& id, const Connection* connection,
                            common::Clock::TimePoint now, int64_t now_unix_ns) {
  auto it = entries_.find(id);
  if (it == entries_.end() || !connection ||
      it->second.connection.get() != connection)
    return false;
  it->second.connection.reset();
  it->second.disconnected_at = now;
  it->second.disconnected_unix_ns = now_unix_ns;
  return true;
}

const MoverEntry* MoverTable::Find(const MoverId& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

bool MoverTable::connected(const MoverId& id) const {
  const MoverEntry* entry = Find(id);
  return entry && entry->connection;
}

bool MoverTable::stalled(const MoverId& id) const {
  const MoverEntry* entry = Find(id);
  return entry && entry->stalled;
}

bool MoverTable::draining(const MoverId& id) const {
  const MoverEntry* entry = Find(id);
  return entry && entry->draining;
}

bool MoverTable::SetDraining(const MoverId& id, bool draining) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  it->second.draining = draining;
  return true;
}

std::shared_ptr<Connection> MoverTable::ConnectionOf(const MoverId& id) const {
  const MoverEntry* entry = Find(id);
  return entry ? entry->connection : nullptr;
}

std::shared_ptr<Connection> MoverTable::CountDone(const MoverId& id,
                                                  ItemType type) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  ++it->second.done[static_cast<int>(type)];
  return it->second.connection;
}

std::optional<common::Clock::TimePoint> MoverTable::NextExpiry(
    common::Clock::Duration grace) const {
  std::optional<common::Clock::TimePoint> earliest;
  for (const auto& [id, entry] : entries_) {
    if (entry.connection) continue;
    auto deadline = entry.disconnected_at + grace;
    if (!earliest || deadline < *earliest) earliest = deadline;
  }
  return earliest;
}

std::vector<MoverId> MoverTable::Expired(common::Clock::TimePoint now,
                                         common::Clock::Duration grace) const {
  std::vector<MoverId> expired;
  for (const auto& [id, entry] : entries_)
    if (!entry.connection && entry.disconnected_at + grace <= now)
      expired.push_back(id);
  return expired;
}

void MoverTable::Started(const ItemId& id, const MoverId& owner,
                         common::Clock::TimePoint now) {
  activity_[id] = {owner, now};
}

bool MoverTable::Progressed(const ItemId& id, const MoverId& owner,
                            common::Clock::TimePoint now) {
  auto it = activity_.find(id);
  if (it != activity_.end() && it->second.owner == owner) it->second.last = now;
  auto entry = entries_.find(owner);
  if (entry == entries_.end() || !entry->second.stalled) return false;
  entry->second.stalled = false;
  return true;
}

void MoverTable::Revoke(const ItemId& id, const MoverId& owner) {
  activity_.erase(id);
  revoked_[id] = owner;
  auto entry = entries_.find(owner);
  if (entry != entries_.end() && entry->second.connection)
    entry->second.stalled = true;
}

bool MoverTable::RevokedFrom(const ItemId& id, const MoverId& mover) const {
  auto it = revoked_.find(id);
  return it != revoked_.end() && it->second == mover;
}

}  // namespace server
