#include "server/recent_done.h"

#include "hsm/fid.h"

namespace server {

void RecentDone::Add(DoneEntry entry) {
  if (capacity_ == 0) return;
  if (ring_.size() < capacity_) {
    ring_.push_back(std::move(entry));
    return;
  }
  ring_[next_] = std::move(entry);
  next_ = (next_ + 1) % capacity_;
}

void RecentDone::ForEachOf(
    const lu_fid& fid,
    const std::function<void(const DoneEntry&)>& visit) const {
  // Newest first: backwards from the last written.
  const size_t n = ring_.size();
  const size_t newest = n < capacity_ ? n : next_ + capacity_;
  for (size_t i = 0; i < n; ++i) {
    const DoneEntry& e = ring_[(newest - 1 - i) % n];
    if (hsm::operator==(e.fid, fid) || hsm::operator==(e.id.dfid, fid))
      visit(e);
  }
}

}  // namespace server
