// FileTable: the simulated MDT's inode table. Gives each file of the mount a
// FID on first sight (keyed by device and inode), keeps a hard link to it as
// MOUNT/.lustre/fid/<FID>, and holds its HSM attributes (what Lustre keeps in
// the trusted.hsm xattr). It also carries out the file-side HSM operations
// that touch data: release, import, state_set and the restore copy.
//
// Data version: a hash of (inode, size, mtime in ns), see docs/simulator.md.
// Dirty rule: whenever the table stats a file that is EXISTS|ARCHIVED, not
// RELEASED, and whose data version differs from arch_ver, it sets DIRTY.
//
// Every change to a persistent entry is appended to the journal (if any).
// All calls return 0 or a negative errno, as the matching Lustre call would.
//
// Thread-safety: none; owned by the daemon's single event-loop thread.
#ifndef SIM_MDT_FILE_TABLE_H_
#define SIM_MDT_FILE_TABLE_H_

#include <linux/lustre/lustre_idl.h>
#include <linux/lustre/lustre_user.h>
#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "common/unique_fd.h"
#include "hsm/fid.h"

namespace sim::mdt {

class Journal;

using hsm::operator==;

// Equality for hashed containers keyed by FID (hsm's operator== is not
// found by std::equal_to, lu_fid being a global C struct).
struct FidEq {
  bool operator()(const lu_fid& a, const lu_fid& b) const { return a == b; }
};

inline constexpr uint64_t kFidSeq = 0x200000401ULL;
inline constexpr lu_fid kRootFid = {0x200000007ULL, 1, 0};

struct HsmAttrs {
  uint32_t flags = 0;
  uint32_t archive_id = 0;
  uint64_t arch_ver = 0;
};

struct FileEntry {
  lu_fid fid{};
  uint64_t dev = 0;
  uint64_t ino = 0;
  // Relative to the mount ("" for the root), recorded at first sight and
  // refreshed when fid2path has to search for the file.
  std::string path;
  HsmAttrs hsm;
  bool is_dir = false;
  // An unlinked file (O_TMPFILE restore volatile): no hard link, not
  // journaled, forgotten at restart.
  bool is_volatile = false;
};

// Lustre's data version as the simulator defines it.
uint64_t DataVersion(const struct stat& st);

class FileTable {
 public:
  // `journal` may be null (tests). Call Init() before anything else.
  FileTable(std::string mount, Journal* journal);
  FileTable(const FileTable&) = delete;
  FileTable& operator=(const FileTable&) = delete;

  // Opens the mount and creates .lustre/fid. Returns 0 or -errno.
  int Init();

  const std::string& mount() const { return mount_; }
  size_t size() const { return by_fid_.size(); }

  // The entry of the file open as `fd`, giving it a FID on first sight.
  // Fills *st with its fstat. -ENOTTY if the file is not inside the mount.
  int Identify(int fd, FileEntry** out, struct stat* st);
  // Current attributes of the file with this FID: -ENOENT if unknown or
  // deleted (only our hard link was left; the link is then removed).
  int Stat(const lu_fid& fid, FileEntry** out, struct stat* st);
  FileEntry* Find(const lu_fid& fid);
  // The entry of the file with this device and inode number, null when it
  // has no FID yet (the FUSE mount's HSM checks, which have no descriptor).
  FileEntry* FindByInode(uint64_t dev, uint64_t ino);

  // Changes the HSM attributes of `entry` and journals them.
  void SetHsm(FileEntry* entry, const HsmAttrs& hsm);

  // LL_IOC_HSM_STATE_SET on a file (docs/lustre.md, state and request
  // calls). `privileged`: caller is root.
  int StateSet(FileEntry* entry, const struct stat& st,
               const hsm_state_set& hss, bool privileged);
  // The MDT side of `lfs hsm_release` (docs/lustre.md, lfs commands).
  int Release(const lu_fid& fid);
  // LL_IOC_HSM_IMPORT on the file open as `fd`.
  int Import(int fd, const hsm_user_import& hui, lu_fid* fid);
  // Copies the restore volatile `volatile_fd` into the file, puts back its
  // mtime, clears RELEASED and DIRTY and sets arch_ver to the new data
  // version. -EXDEV if the volatile is not on the mount's filesystem.
  int CompleteRestore(const lu_fid& fid, int volatile_fd);
  // Path relative to the mount ("/" for the root), -ENOENT if unknown/gone.
  int Fid2Path(const lu_fid& fid, std::string* path);

  // Replay and snapshot support.
  void Load(const FileEntry& entry);
  void Drop(const lu_fid& fid);
  void ForEach(const std::function<void(const FileEntry&)>& fn) const;
  uint32_t next_oid() const { return next_oid_; }
  void set_next_oid(uint32_t oid) { next_oid_ = oid; }

  // Opens the file by FID (its .lustre/fid link) with `flags`.
  int OpenByFid(const lu_fid& fid, int flags, common::UniqueFd* out);

 private:
  struct Key {
    uint64_t dev, ino;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()(k.ino * 0x9E3779B97F4A7C15ULL ^ k.dev);
    }
  };

  int FirstSight(int fd, const struct stat& st, FileEntry** out);
  void ApplyDirtyRule(FileEntry* entry, const struct stat& st);
  int StatEntry(const FileEntry& entry, struct stat* st);
  bool FindPath(uint64_t dev, uint64_t ino, std::string* path);
  void Persist(const FileEntry& entry);
  FileEntry* Insert(FileEntry entry);

  std::string mount_;
  Journal* journal_;
  common::UniqueFd mount_fd_;
  common::UniqueFd fid_dir_fd_;
  uint64_t mount_dev_ = 0;
  uint64_t mount_ino_ = 0;
  uint32_t next_oid_ = 1;
  std::unordered_map<lu_fid, FileEntry, hsm::FidHash, FidEq> by_fid_;
  std::unordered_map<Key, lu_fid, KeyHash> by_key_;
};

}  // namespace sim::mdt

#endif  // SIM_MDT_FILE_TABLE_H_
