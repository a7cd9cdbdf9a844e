#include "server/tape_media.h"

#include <algorithm>
#include <cstdint>

namespace server {

TapeMedia::TapeMedia(TapeMediaOptions options) : options_(options) {
  if (options_.media_per_mover == 0) options_.media_per_mover = 1;
}

void TapeMedia::SetTimes(std::chrono::nanoseconds idle,
                         std::chrono::nanoseconds max) {
  options_.idle = idle;
  options_.max = max;
}

void TapeMedia::Index(Medium& medium, bool in) {
  if (!medium.holder.empty()) return;  // held media are in no index
  if (!medium.by_arrival.empty()) {
    std::pair<uint64_t, Medium*> key{*medium.by_arrival.begin(), &medium};
    in ? (void)by_oldest_.insert(key) : (void)by_oldest_.erase(key);
  }
  if (!medium.blocking.empty()) {
    std::pair<uint64_t, Medium*> key{*medium.blocking.begin(), &medium};
    in ? (void)by_blocking_.insert(key) : (void)by_blocking_.erase(key);
  }
}

void TapeMedia::MaybeErase(Medium& medium) {
  if (medium.holder.empty() && medium.by_arrival.empty() && medium.running == 0)
    media_.erase(medium.name);
}

void TapeMedia::Add(const std::string& medium_name, const TapeRestore& restore,
                    int64_t now_ns) {
  auto [it, created] = media_.try_emplace(medium_name);
  Medium& medium = it->second;
  if (created) {
    medium.name = medium_name;
    medium.archive_id = restore.archive_id;
  }
  // A slice that ended before this restore came stays ended (it is freed
  // lazily, when someone asks); a live one is renewed by it.
  const bool renew = Reserved(medium, now_ns);
  if (!medium.holder.empty() && !renew) Free(medium);
  Index(medium, false);
  medium.by_position.emplace(restore.position, restore.id);
  medium.by_arrival.insert(restore.id);
  if (restore.blocking) medium.blocking.insert(restore.id);
  Index(medium, true);
  if (renew)
    medium.idle_deadline =
        std::max(medium.idle_deadline, now_ns + options_.idle.count());
  waiting_.emplace(restore.id, Waiting{&medium, restore});
}

bool TapeMedia::Remove(uint64_t id) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return false;
  Medium& medium = *it->second.medium;
  const TapeRestore& restore = it->second.restore;
  Index(medium, false);
  medium.by_position.erase({restore.position, restore.id});
  medium.by_arrival.erase(restore.id);
  medium.blocking.erase(restore.id);
  Index(medium, true);
  waiting_.erase(it);
  MaybeErase(medium);
  return true;
}

bool TapeMedia::Reserved(const Medium& medium, int64_t now) const {
  if (medium.holder.empty()) return false;
  if (medium.max_deadline && now >= medium.max_deadline) return false;
  return now < medium.idle_deadline || !medium.by_arrival.empty();
}

void TapeMedia::Free(Medium& medium) {
  if (medium.holder.empty()) return;
  auto held = held_.find(medium.holder);
  if (held != held_.end()) {
    std::erase(held->second, &medium);
    if (held->second.empty()) held_.erase(held);
  }
  medium.holder.clear();
  medium.idle_deadline = medium.max_deadline = 0;
  Index(medium, true);
}

std::optional<uint64_t> TapeMedia::NextOf(const Medium& medium,
                                          const Accepts& accepts) const {
  if (medium.by_position.empty()) return std::nullopt;
  // Ascending from the head, wrapping to the lowest position.
  auto next = medium.by_position.lower_bound({medium.head, 0});
  if (next == medium.by_position.end()) next = medium.by_position.begin();
  const TapeRestore& restore = waiting_.at(next->second).restore;
  // The reply may be bound to another archive id or flags: this medium
  // waits for the next reply rather than be served out of order.
  if (!accepts(restore.archive_id, restore.hal_flags)) return std::nullopt;
  return next->second;
}

TapeMedia::Medium* TapeMedia::Take(const std::string& mover,
                                   const Accepts& accepts, int64_t now) {
  for (auto* index : {&by_blocking_, &by_oldest_}) {
    for (auto it = index->begin(); it != index->end(); ++it) {
      Medium& medium = *it->second;
      if (!NextOf(medium, accepts)) continue;  // another archive id
      Index(medium, false);
      medium.holder = mover;
      medium.head = 0;  // a tape is mounted at its beginning
      medium.idle_deadline = now + options_.idle.count();
      medium.max_deadline =
          options_.max.count() ? now + options_.max.count() : 0;
      held_[mover].push_back(&medium);
      return &medium;
    }
  }
  return nullptr;
}

std::optional<uint64_t> TapeMedia::Next(const std::string& mover,
                                        uint32_t max_restore,
                                        const Accepts& accepts,
                                        int64_t now_ns) {
  const uint32_t slots = options_.media_per_mover;
  const uint32_t cap = max_restore == UINT32_MAX
                           ? UINT32_MAX
                           : (max_restore + slots - 1) / slots;
  auto held = held_.find(mover);
  if (held != held_.end()) {
    // A copy: freeing a medium edits the list.
    const std::vector<Medium*> media = held->second;
    for (Medium* medium : media) {
      if (!Reserved(*medium, now_ns)) {
        Free(*medium);
        MaybeErase(*medium);
        continue;
      }
      if (medium->running >= cap) continue;
      if (auto id = NextOf(*medium, accepts)) return id;
    }
  }
  held = held_.find(mover);
  size_t holding = held == held_.end() ? 0 : held->second.size();
  if (holding >= slots && !by_oldest_.empty()) {
    // A drive does not idle on a tape nothing waits for while another
    // tape waits for a drive: the idle rule keeps a tape mounted for
    // restores to come only when no other is waiting.
    for (Medium* medium : held->second)
      if (medium->by_arrival.empty() && medium->running == 0) {
        Free(*medium);
        MaybeErase(*medium);
        --holding;
        break;
      }
  }
  if (holding >= slots) return std::nullopt;
  // Media whose slice is over are free for the taking, also those of movers
  // that have not asked since (few: at most media_per_mover per mover).
  std::vector<Medium*> over;
  for (const auto& [holder, media] : held_)
    for (Medium* medium : media)
      if (!Reserved(*medium, now_ns)) over.push_back(medium);
  for (Medium* medium : over) {
    Free(*medium);
    MaybeErase(*medium);
  }
  Medium* medium = Take(mover, accepts, now_ns);
  if (!medium) return std::nullopt;
  return NextOf(*medium, accepts);
}

void TapeMedia::Sent(const std::string& mover, uint64_t id, int64_t now_ns) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  Medium& medium = *it->second.medium;
  const uint64_t position = it->second.restore.position;
  if (medium.holder != mover) {  // not from a medium it holds
    Remove(id);
    return;
  }
  Remove(id);  // keeps the medium: it is held
  medium.head = position;
  ++medium.running;
  medium.idle_deadline = now_ns + options_.idle.count();
  running_[id] = medium.name;
}

void TapeMedia::Ended(uint64_t id) {
  auto it = running_.find(id);
  if (it == running_.end()) return;
  auto medium = media_.find(it->second);
  running_.erase(it);
  if (medium == media_.end()) return;
  if (medium->second.running > 0) --medium->second.running;
  MaybeErase(medium->second);
}

void TapeMedia::Release(const std::string& mover) {
  auto held = held_.find(mover);
  if (held == held_.end()) return;
  const std::vector<Medium*> media = held->second;
  for (Medium* medium : media) {
    Free(*medium);
    MaybeErase(*medium);
  }
}

std::optional<int64_t> TapeMedia::NextDeadline(int64_t now_ns) const {
  std::optional<int64_t> next;
  auto consider = [&](int64_t deadline) {
    if (deadline > now_ns && (!next || deadline < *next)) next = deadline;
  };
  for (const auto& [mover, media] : held_)
    for (const Medium* medium : media) {
      consider(medium->idle_deadline);
      if (medium->max_deadline) consider(medium->max_deadline);
    }
  return next;
}

std::vector<HeldMediumView> TapeMedia::Held(const std::string& mover,
                                            int64_t now_ns) const {
  std::vector<HeldMediumView> views;
  auto held = held_.find(mover);
  if (held == held_.end()) return views;
  for (const Medium* medium : held->second) {
    if (!Reserved(*medium, now_ns)) continue;
    views.push_back({.medium = medium->name,
                     .waiting = medium->by_arrival.size(),
                     .running = medium->running,
                     .head = medium->head,
                     .idle_deadline_ns = medium->idle_deadline,
                     .max_deadline_ns = medium->max_deadline});
  }
  return views;
}

std::optional<std::string> TapeMedia::HolderOf(
    const std::string& medium) const {
  auto it = media_.find(medium);
  if (it == media_.end() || it->second.holder.empty()) return std::nullopt;
  return it->second.holder;
}

}  // namespace server
