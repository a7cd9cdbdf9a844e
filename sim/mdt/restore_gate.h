// RestoreGate: the I/O on released files that waits for an implicit restore
// (the FUSE mount's side of Lustre's layout restore, docs/simulator.md).
//
// Which operations wait follows Lustre's client: the layout of a released
// file has no data objects, so any I/O that needs them fails in the layout
// layer with "restore needed" and the client sends a restore
// (HUA_RESTORE, HSM_REQ_BLOCKING, extent 0..EOF) and retries once the
// restore ends: read, write, page fault, SEEK_DATA/SEEK_HOLE, truncate and
// fallocate. Metadata calls (open, stat, chmod, xattrs, close) do not.
//
// The gate keeps, per FID, the operations waiting, each with an id the FUSE
// layer can cancel (an interrupted request), and resumes them all when no
// restore holds the file any more. No I/O, no clock: unit-tested alone.
//
// Thread-safety: none; owned by the daemon's single event-loop thread.
#ifndef SIM_MDT_RESTORE_GATE_H_
#define SIM_MDT_RESTORE_GATE_H_

#include <linux/lustre/lustre_user.h>

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "hsm/fid.h"
#include "sim/mdt/file_table.h"

namespace sim::mdt {

// The file operations the FUSE mount distinguishes.
enum class FileOp {
  kOpen,
  kGetattr,
  kSetattr,   // attributes other than the size
  kTruncate,  // setattr with a size (any size: see docs/simulator.md)
  kRead,
  kWrite,
  kFallocate,
  kSeekData,  // lseek SEEK_DATA / SEEK_HOLE
  kSeek,      // other lseek whences
  kFlush,
  kRelease,
  kFsync,
  kXattr,
};

// True when `op` on a released file must wait for a restore first.
bool NeedsRestore(FileOp op);

class RestoreGate {
 public:
  // Called when the restore ended; the operation re-checks the file's state.
  using Resume = std::function<void()>;

  // Parks `resume` until Release(fid). Returns its id (never 0).
  uint64_t Wait(const lu_fid& fid, Resume resume);
  // Forgets a waiting operation (its request was interrupted). True if it
  // was waiting; its Resume is then never called.
  bool Cancel(uint64_t id);
  // Resumes, in arrival order, every operation waiting on `fid`. Returns
  // how many. Operations parked by a Resume run at the next Release.
  size_t Release(const lu_fid& fid);

  size_t waiting(const lu_fid& fid) const;
  size_t waiting() const { return where_.size(); }

 private:
  struct Waiter {
    uint64_t id;
    Resume resume;
  };
  uint64_t next_id_ = 1;
  std::unordered_map<lu_fid, std::vector<Waiter>, hsm::FidHash, FidEq> by_fid_;
  std::unordered_map<uint64_t, lu_fid> where_;
};

}  // namespace sim::mdt

#endif  // SIM_MDT_RESTORE_GATE_H_
