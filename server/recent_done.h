// RecentDone: the last requests that ended, so that `show` can answer "it
// is done" for a file whose request already left the queues.
//
// A fixed ring (the oldest entry goes when a new one comes): memory bounded
// whatever the load; a lookup reads the ring (a few thousand entries, once
// per `show`).
//
// Thread-safety: none; the server's event loop owns it.
#ifndef SERVER_RECENT_DONE_H_
#define SERVER_RECENT_DONE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "server/item.h"

namespace server {

struct DoneEntry {
  ItemId id;     // cookie and data FID
  lu_fid fid{};  // the file's FID (hai_fid)
  ItemType type = ItemType::kArchive;
  int32_t status = 0;  // the mover's: 0 succeeded, else an errno
  int64_t end_ns = 0;  // Unix ns
  MoverId mover;
};

class RecentDone {
 public:
  explicit RecentDone(size_t capacity = 4096) : capacity_(capacity) {}

  void Add(DoneEntry entry);
  // Visits the entries whose file or data FID is `fid`, newest first.
  void ForEachOf(const lu_fid& fid,
                 const std::function<void(const DoneEntry&)>& visit) const;
  size_t size() const { return ring_.size(); }

 private:
  const size_t capacity_;
  std::vector<DoneEntry> ring_;
  size_t next_ = 0;  // where the next entry goes once full
};

}  // namespace server

#endif  // SERVER_RECENT_DONE_H_
