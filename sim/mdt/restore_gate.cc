#include "sim/mdt/restore_gate.h"

#include <algorithm>
#include <utility>

namespace sim::mdt {

bool NeedsRestore(FileOp op) {
  switch (op) {
    case FileOp::kTruncate:
    case FileOp::kRead:
    case FileOp::kWrite:
    case FileOp::kFallocate:
    case FileOp::kSeekData:
      return true;
    case FileOp::kOpen:
    case FileOp::kGetattr:
    case FileOp::kSetattr:
    case FileOp::kSeek:
    case FileOp::kFlush:
    case FileOp::kRelease:
    case FileOp::kFsync:
    case FileOp::kXattr:
      return false;
  }
  return false;
}

uint64_t RestoreGate::Wait(const lu_fid& fid, Resume resume) {
  uint64_t id = next_id_++;
  by_fid_[fid].push_back(Waiter{id, std::move(resume)});
  where_[id] = fid;
  return id;
}

bool RestoreGate::Cancel(uint64_t id) {
  auto it = where_.find(id);
  if (it == where_.end()) return false;
  auto list = by_fid_.find(it->second);
  where_.erase(it);
  if (list == by_fid_.end()) return false;
  std::erase_if(list->second, [id](const Waiter& w) { return w.id == id; });
  if (list->second.empty()) by_fid_.erase(list);
  return true;
}

size_t RestoreGate::Release(const lu_fid& fid) {
  auto it = by_fid_.find(fid);
  if (it == by_fid_.end()) return 0;
  // Taken out first: a Resume may park itself again, or cancel another.
  std::vector<Waiter> waiters = std::move(it->second);
  by_fid_.erase(it);
  for (const Waiter& w : waiters) where_.erase(w.id);
  for (Waiter& w : waiters) w.resume();
  return waiters.size();
}

size_t RestoreGate::waiting(const lu_fid& fid) const {
  auto it = by_fid_.find(fid);
  return it == by_fid_.end() ? 0 : it->second.size();
}

}  // namespace sim::mdt
