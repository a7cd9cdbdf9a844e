#include "sim/mdt/copy_tracker.h"

#include <fmt/format.h>
#include <linux/lustre/lustre_user.h>

namespace sim::mdt {

CopyTracker::Counts* CopyTracker::CountsOf(uint32_t pid, uint32_t action) {
  Process& p = processes_[pid];
  if (action == HSMA_ARCHIVE) return &p.archive;
  if (action == HSMA_RESTORE) return &p.restore;
  return nullptr;
}

void CopyTracker::Started(uint32_t pid, uint64_t cookie, uint32_t action) {
  Counts* counts = CountsOf(pid, action);
  if (!counts || copies_.contains(cookie)) return;
  copies_[cookie] = {pid, action};
  ++counts->running;
  if (counts->running > counts->peak) counts->peak = counts->running;
}

void CopyTracker::Ended(uint64_t cookie) {
  auto it = copies_.find(cookie);
  if (it == copies_.end()) return;
  if (Counts* counts = CountsOf(it->second.pid, it->second.action))
    --counts->running;
  copies_.erase(it);
}

std::string CopyTracker::Format() const {
  std::string out;
  for (const auto& [pid, p] : processes_)
    out += fmt::format("pid={} archive={}/{} restore={}/{}\n", pid,
                       p.archive.running, p.archive.peak, p.restore.running,
                       p.restore.peak);
  return out;
}

}  // namespace sim::mdt
