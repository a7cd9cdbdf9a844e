#include "server/redispatch.h"

#include <algorithm>
#include <cerrno>

namespace server {

RequestAtLustre JudgeCurrentAction(uint32_t hsma_action, int rc,
                                   const hsm_current_action& hca) {
  if (rc == -ENOENT) return RequestAtLustre::kLive;
  if (rc < 0) return RequestAtLustre::kUnknown;
  uint32_t user_action;
  switch (hsma_action) {
    case HSMA_ARCHIVE:
      user_action = HUA_ARCHIVE;
      break;
    case HSMA_RESTORE:
      user_action = HUA_RESTORE;
      break;
    case HSMA_REMOVE:
      user_action = HUA_REMOVE;
      break;
    default:
      return RequestAtLustre::kUnknown;
  }
  // Lustre reports the first waiting or started request of the file, and
  // keeps at most one such request per file and action.
  if (hca.hca_action != user_action ||
      (hca.hca_state != HPS_WAITING && hca.hca_state != HPS_RUNNING))
    return RequestAtLustre::kEnded;
  // For a running request the location's length is the volume copied so
  // far, known only from a copy's progress, which names its volatile file.
  if (hsma_action == HSMA_RESTORE && hca.hca_state == HPS_RUNNING &&
      hca.hca_location.length > 0)
    return RequestAtLustre::kBound;
  return RequestAtLustre::kLive;
}

Redispatch::Redispatch(const common::Clock& clock, RedispatchOptions options)
    : clock_(clock), options_(options) {}

bool Redispatch::held(const ItemId& id) const {
  auto it = entries_.find(id);
  return it != entries_.end() && it->second.held;
}

std::chrono::nanoseconds Redispatch::Backoff(uint32_t n) const {
  std::chrono::nanoseconds delay = options_.first_backoff;
  for (uint32_t i = 1; i < n && delay < options_.max_backoff; ++i) delay *= 2;
  return std::min<std::chrono::nanoseconds>(delay, options_.max_backoff);
}

void Redispatch::Hold(const ItemId& id) {
  Entry& e = entries_[id];
  if (e.held) return;
  e.held = true;
  e.checking = false;
  e.errors = 0;
  // A retry waits for its backoff; a first hand-out again is checked now.
  if (e.attempts == 0) e.due = clock_.Now();
  ++held_;
}

std::vector<ItemId> Redispatch::Due(size_t max) {
  auto now = clock_.Now();
  std::vector<std::pair<common::Clock::TimePoint, ItemId>> due;
  for (const auto& [id, e] : entries_)
    if (e.held && !e.checking && e.due <= now) due.emplace_back(e.due, id);
  std::sort(due.begin(), due.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  if (due.size() > max) due.resize(max);
  std::vector<ItemId> out;
  for (const auto& [when, id] : due) {
    entries_[id].checking = true;
    out.push_back(id);
  }
  return out;
}

std::optional<common::Clock::TimePoint> Redispatch::NextDue() const {
  std::optional<common::Clock::TimePoint> next;
  for (const auto& [id, e] : entries_)
    if (e.held && !e.checking && (!next || e.due < *next)) next = e.due;
  return next;
}

Redispatch::Verdict Redispatch::OnCheck(const ItemId& id,
                                        RequestAtLustre answer) {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.held) return Verdict::kWait;
  Entry& e = it->second;
  e.checking = false;
  ++counters_.checks;
  switch (answer) {
    case RequestAtLustre::kLive:
      ++counters_.handed_out;
      e.held = false;
      --held_;
      // Attempts are kept: the next failure counts on.
      if (e.attempts == 0) entries_.erase(it);
      return Verdict::kHandOut;
    case RequestAtLustre::kEnded:
      ++counters_.forgotten;
      --held_;
      entries_.erase(it);
      return Verdict::kForget;
    case RequestAtLustre::kBound:
      e.checking = false;
      return OnFailedRedispatch(id);
    case RequestAtLustre::kUnknown:
      break;
  }
  ++counters_.check_errors;
  e.due = clock_.Now() + Backoff(++e.errors);
  return Verdict::kWait;
}

Redispatch::Verdict Redispatch::OnFailedRedispatch(const ItemId& id) {
  Entry& e = entries_[id];
  ++counters_.failed;
  ++e.attempts;
  if (e.attempts >= options_.max_attempts) {
    ++counters_.ended_failed;
    if (e.held) --held_;
    entries_.erase(id);
    return Verdict::kEndFailed;
  }
  if (!e.held) ++held_;
  e.held = true;
  e.checking = false;
  e.errors = 0;
  e.due = clock_.Now() + Backoff(e.attempts);
  return Verdict::kRetryLater;
}

uint32_t Redispatch::attempts(const ItemId& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? 0 : it->second.attempts;
}

void Redispatch::Forget(const ItemId& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.held) --held_;
  entries_.erase(it);
}

}  // namespace server
