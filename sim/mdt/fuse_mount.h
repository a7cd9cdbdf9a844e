// FuseMount: serves the simulated mount through FUSE (libfuse3, low-level
// API) over the backing directory that holds the files and .lustre/ (the
// directory mode's tree), on the daemon's own event loop: the /dev/fuse
// descriptor is read when readable and each request answered in turn, so
// an operation that waits for a restore is parked in a RestoreGate and
// answered later, without blocking the loop (docs/simulator.md, FUSE mode).
//
// Everything is passed through to the backing files, except:
//  * read, write, truncate, fallocate and SEEK_DATA/SEEK_HOLE of a released
//    file send an implicit restore (HSM_REQ_BLOCKING) unless one already
//    holds the file, and wait until no restore holds it;
//  * writes and truncates refresh the file's HSM state (dirty rule);
//  * .lustre/mdt.sock is a symlink to the backing socket (a socket cannot be
//    reached through FUSE);
//  * .lustre/fid/ looks names up by FID, bracketed or not (fid_name.h);
//  * nothing can be created, renamed or removed under .lustre/.
// Inode numbers are the backing ones, so that the daemon can map a
// descriptor opened on the mount to its backing file (Translate).
// Files are opened in direct I/O mode (no page cache: the daemon changes
// file data behind the kernel's back at release and restore) and without
// FLUSH (the daemon closes descriptors of the mount it received: a FLUSH
// would be a request to itself).
//
// Thread-safety: everything runs on the io_context's one thread.
#ifndef SIM_MDT_FUSE_MOUNT_H_
#define SIM_MDT_FUSE_MOUNT_H_

#include <linux/lustre/lustre_user.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/unique_fd.h"
#include "sim/mdt/restore_gate.h"

struct fuse_session;

namespace sim::mdt {

class Coordinator;
class FileTable;

class FuseMount {
 public:
  // `mountpoint` is served with the contents of `backing` (both existing
  // directories). `cdt` and `files` are the daemon's, on `backing`.
  FuseMount(boost::asio::io_context* io, std::string mountpoint,
            std::string backing, Coordinator* cdt, FileTable* files);
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  // Mounts (after lazily unmounting a dead mount left by a crashed daemon)
  // and starts serving. Returns "" or what went wrong.
  std::string Start();
  // Unmounts; waiting operations get ENOTCONN from the kernel.
  void Stop();

  // No restore holds `fid` any more: resume what waited on it.
  void RestoreEnded(const lu_fid& fid);

  // If `fd` is open on the FUSE mount, opens the same backing file into
  // *out and returns 1; 0 when `fd` is not on the mount; -errno.
  int Translate(int fd, common::UniqueFd* out);

  // The value of the "lustre.lov" xattr of a regular backing file: 0 or
  // -errno (unset: the mount has no layouts, ENODATA).
  std::function<int(int backing_fd, std::string* value)> lov_xattr;
  // Called after a batch of requests was handled (the daemon then runs the
  // coordinator's due work and writes its journal).
  std::function<void()> after_turn;

  // Low-level operations (called by libfuse through C trampolines).
  struct Node;
  struct Ops;

 private:
  friend struct Ops;
  void ArmRead();
  void OnReadable();
  Node* Get(uint64_t id);
  Node* FindByKey(dev_t dev, ino_t ino);
  // Finds or creates the node of `name` in `parent` (stat `st` of it),
  // counting one lookup. -errno on error.
  int Lookup(Node* parent, const char* name, uint64_t* id, struct stat* st);
  void Forget(uint64_t id, uint64_t n);
  bool UnderDotLustre(const Node* parent) const;
  bool IsFidDir(const Node* n) const;
  // The HSM gate: returns true when the operation may go on now; false when
  // it has been answered (error) or parked (`retry` runs when the restore
  // ends).
  bool Gate(void* req, Node* node, FileOp op, bool waited,
            std::function<void()> retry);
  void DataWritten(Node* node);

  boost::asio::io_context* io_;
  std::string mountpoint_, backing_;
  Coordinator* cdt_;
  FileTable* files_;
  fuse_session* se_ = nullptr;
  bool mounted_ = false;
  std::unique_ptr<boost::asio::posix::stream_descriptor> dev_;
  void* buf_mem_ = nullptr;  // libfuse's receive buffer
  dev_t fuse_dev_ = 0;
  dev_t backing_dev_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Node>> nodes_;
  std::map<std::pair<dev_t, ino_t>, uint64_t> by_key_;
  uint64_t next_id_ = 3;
  std::pair<dev_t, ino_t> dot_lustre_{}, fid_dir_{};
  RestoreGate gate_;
};

}  // namespace sim::mdt

#endif  // SIM_MDT_FUSE_MOUNT_H_
