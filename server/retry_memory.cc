#include "server/retry_memory.h"

#include <algorithm>

#include "protocol/action_item.h"

namespace server {

RetryMemory::RetryMemory(const common::Clock& clock, size_t capacity,
                         std::chrono::seconds ttl)
    : clock_(clock), capacity_(std::max<size_t>(capacity, 1)), ttl_(ttl) {}

void RetryMemory::Expire() {
  const auto now = clock_.Now();
  while (!order_.empty()) {
    auto it = entries_.find(order_.front());
    if (now < it->second.entry.last_failure + ttl_) break;
    entries_.erase(it);
    const ItemId key = order_.front();
    order_.pop_front();
    ++expired_;
    if (forgotten_hook_) forgotten_hook_(key);
  }
}

uint32_t RetryMemory::Failed(const ItemId& key, const MoverId& mover,
                             int32_t error) {
  Expire();
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_) {
      const ItemId evicted = order_.front();
      entries_.erase(evicted);
      order_.pop_front();
      ++evicted_;
      if (forgotten_hook_) forgotten_hook_(evicted);
    }
    order_.push_back(key);
    it = entries_.emplace(key, Slot{{}, std::prev(order_.end())}).first;
  } else {
    order_.splice(order_.end(), order_, it->second.pos);
  }
  RetryEntry& e = it->second.entry;
  ++e.failures;
  e.last_error = error;
  e.last_failure = clock_.Now();
  auto known = std::find(e.failed_on.begin(), e.failed_on.end(), mover);
  if (known != e.failed_on.end()) e.failed_on.erase(known);
  e.failed_on.push_back(mover);
  if (e.failed_on.size() > kRetryMoversKept)
    e.failed_on.erase(e.failed_on.begin());
  return e.failures;
}

const RetryEntry* RetryMemory::Find(const ItemId& key) {
  Expire();
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.entry;
}

const RetryEntry* RetryMemory::Peek(const ItemId& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end() ||
      clock_.Now() >= it->second.entry.last_failure + ttl_)
    return nullptr;
  return &it->second.entry;
}

boost::json::object RetryMemory::Status(uint32_t max_attempts,
                                        size_t max_listed) const {
  boost::json::object o{
      {"max_attempts", max_attempts}, {"remembered", entries_.size()},
      {"returned", returned_},        {"given_up", given_up_},
      {"expired", expired_},          {"evicted", evicted_}};
  boost::json::array requests;
  for (auto it = order_.rbegin();
       it != order_.rend() && requests.size() < max_listed; ++it) {
    const RetryEntry& e = entries_.at(*it).entry;
    boost::json::array movers;
    for (const MoverId& m : e.failed_on) movers.emplace_back(m);
    requests.push_back({{"hai_fid", protocol::FidToJson(it->dfid)},
                        {"hai_cookie", static_cast<int64_t>(it->cookie)},
                        {"failed_attempts", e.failures},
                        {"failed_on", std::move(movers)},
                        {"last_error", e.last_error}});
  }
  o["requests"] = std::move(requests);
  return o;
}

void RetryMemory::Forget(const ItemId& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  order_.erase(it->second.pos);
  entries_.erase(it);
}

MoverId ChooseRetryMover(
    const std::vector<std::pair<MoverId, uint64_t>>& movers,
    const std::vector<MoverId>& failed_on) {
  const std::pair<MoverId, uint64_t>* best = nullptr;
  for (const auto& candidate : movers) {
    if (std::find(failed_on.begin(), failed_on.end(), candidate.first) !=
        failed_on.end())
      continue;
    if (!best || candidate.second < best->second ||
        (candidate.second == best->second && candidate.first < best->first))
      best = &candidate;
  }
  return best ? best->first : MoverId();
}

}  // namespace server
