// ExtentSet: a union of byte ranges, for the "bytes moved" of a request
// (Lustre merges progress extents in an interval tree: docs/lustre.md,
// per-action calls).
//
// Thread-safety: plain value type.
#ifndef SIM_MDT_EXTENT_SET_H_
#define SIM_MDT_EXTENT_SET_H_

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>

namespace sim::mdt {

class ExtentSet {
 public:
  // Adds [offset, offset + length), clamped at 2^64.
  void Add(uint64_t offset, uint64_t length) {
    if (length == 0) return;
    uint64_t end = offset + length < offset ? UINT64_MAX : offset + length;
    auto it = ranges_.upper_bound(offset);
    if (it != ranges_.begin() && std::prev(it)->second >= offset) --it;
    while (it != ranges_.end() && it->first <= end) {
      offset = std::min(offset, it->first);
      end = std::max(end, it->second);
      it = ranges_.erase(it);
    }
    ranges_[offset] = end;
  }
  uint64_t Total() const {
    uint64_t total = 0;
    for (const auto& [start, end] : ranges_) total += end - start;
    return total;
  }

 private:
  std::map<uint64_t, uint64_t> ranges_;  // start -> end (exclusive)
};

}  // namespace sim::mdt

#endif  // SIM_MDT_EXTENT_SET_H_
