#include "sim/mdt/file_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>
#include <vector>

#include "sim/mdt/journal.h"
#include "sim/mdt/state_codec.h"

namespace sim::mdt {

namespace {

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 29;
  return h;
}

std::string ProcFdPath(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

// A file's two names under .lustre/fid: `seq:oid:ver` and `[seq:oid:ver]`.
// Lustre's lookup in .lustre/fid (obf_lookup on the MDT, and the client's
// open-by-FID shortcut) skips leading '[' before reading the FID, so both
// forms open the file there; in directory mode each is a hard link.
std::string BracketName(const std::string& no_brace) {
  return "[" + no_brace + "]";
}

// Links `name` in `dir_fd` to the file `from` (a /proc/self/fd path with
// AT_SYMLINK_FOLLOW, or a name in `dir_fd`), replacing a stale entry.
int LinkReplacing(int from_dir, const char* from, int dir_fd,
                  const std::string& name, int flags) {
  int rc = linkat(from_dir, from, dir_fd, name.c_str(), flags);
  if (rc < 0 && errno == EEXIST) {
    unlinkat(dir_fd, name.c_str(), 0);
    rc = linkat(from_dir, from, dir_fd, name.c_str(), flags);
  }
  return rc < 0 ? -errno : 0;
}

// Copies all of `in` into `out` from offset 0; copy_file_range first, plain
// read/write when the kernel cannot do it between these files.
int CopyData(int in, int out, uint64_t size) {
  loff_t in_off = 0, out_off = 0;
  while (static_cast<uint64_t>(in_off) < size) {
    ssize_t n = copy_file_range(in, &in_off, out, &out_off,
                                size - static_cast<uint64_t>(in_off), 0);
    if (n > 0) continue;
    if (n == 0) return 0;  // the volatile is shorter than it said
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
        errno != EOPNOTSUPP)
      return -errno;
    break;
  }
  char buf[1 << 16];
  while (static_cast<uint64_t>(in_off) < size) {
    ssize_t n = pread(in, buf, sizeof(buf), in_off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return 0;
    for (ssize_t done = 0; done < n;) {
      ssize_t w =
          pwrite(out, buf + done, static_cast<size_t>(n - done), out_off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return -errno;
      done += w;
      out_off += w;
    }
    in_off += n;
  }
  return 0;
}

}  // namespace

uint64_t DataVersion(const struct stat& st) {
  uint64_t mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ULL +
                      static_cast<uint64_t>(st.st_mtim.tv_nsec);
  uint64_t h = Mix(0, st.st_ino);
  h = Mix(h, static_cast<uint64_t>(st.st_size));
  return Mix(h, mtime_ns);
}

FileTable::FileTable(std::string mount, Journal* journal)
    : mount_(std::move(mount)), journal_(journal) {}

int FileTable::Init() {
  char resolved[PATH_MAX];
  if (!realpath(mount_.c_str(), resolved)) return -errno;
  mount_ = resolved;
  mount_fd_.Reset(open(mount_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!mount_fd_) return -errno;
  struct stat st;
  if (fstat(mount_fd_.get(), &st) < 0) return -errno;
  mount_dev_ = st.st_dev;
  mount_ino_ = st.st_ino;
  if (mkdirat(mount_fd_.get(), ".lustre", 0755) < 0 && errno != EEXIST)
    return -errno;
  if (mkdirat(mount_fd_.get(), ".lustre/fid", 0755) < 0 && errno != EEXIST)
    return -errno;
  fid_dir_fd_.Reset(openat(mount_fd_.get(), ".lustre/fid",
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fid_dir_fd_) return -errno;
  return 0;
}

FileEntry* FileTable::Find(const lu_fid& fid) {
  auto it = by_fid_.find(fid);
  return it == by_fid_.end() ? nullptr : &it->second;
}

FileEntry* FileTable::FindByInode(uint64_t dev, uint64_t ino) {
  auto it = by_key_.find(Key{dev, ino});
  return it == by_key_.end() ? nullptr : Find(it->second);
}

FileEntry* FileTable::Insert(FileEntry entry) {
  by_key_[Key{entry.dev, entry.ino}] = entry.fid;
  lu_fid fid = entry.fid;
  auto [it, inserted] = by_fid_.insert_or_assign(fid, std::move(entry));
  return &it->second;
}

void FileTable::Persist(const FileEntry& entry) {
  if (journal_ && !entry.is_volatile) journal_->Append(EncodeFile(entry));
}

void FileTable::SetHsm(FileEntry* entry, const HsmAttrs& hsm) {
  entry->hsm = hsm;
  Persist(*entry);
}

void FileTable::Load(const FileEntry& entry) {
  if (entry.fid.f_seq == kFidSeq && entry.fid.f_oid >= next_oid_)
    next_oid_ = entry.fid.f_oid + 1;
  Insert(entry);
}

void FileTable::Drop(const lu_fid& fid) {
  auto it = by_fid_.find(fid);
  if (it == by_fid_.end()) return;
  auto key = by_key_.find(Key{it->second.dev, it->second.ino});
  if (key != by_key_.end() && key->second == fid) by_key_.erase(key);
  by_fid_.erase(it);
}

void FileTable::ForEach(const std::function<void(const FileEntry&)>& fn) const {
  for (const auto& [fid, entry] : by_fid_)
    if (!entry.is_volatile) fn(entry);
}

void FileTable::ApplyDirtyRule(FileEntry* entry, const struct stat& st) {
  if (entry->is_dir || entry->is_volatile) return;
  uint32_t f = entry->hsm.flags;
  if ((f & HS_EXISTS) && (f & HS_ARCHIVED) && !(f & (HS_RELEASED | HS_DIRTY)) &&
      DataVersion(st) != entry->hsm.arch_ver) {
    entry->hsm.flags |= HS_DIRTY;
    Persist(*entry);
  }
}

int FileTable::Identify(int fd, FileEntry** out, struct stat* st) {
  if (fstat(fd, st) < 0) return -errno;
  if (st->st_dev != mount_dev_) return -ENOTTY;
  auto it = by_key_.find(Key{st->st_dev, st->st_ino});
  if (it != by_key_.end()) {
    FileEntry* entry = Find(it->second);
    // An unlinked volatile's inode may have been reused by a new file.
    if (entry && !(entry->is_volatile && st->st_nlink > 0)) {
      ApplyDirtyRule(entry, *st);
      *out = entry;
      return 0;
    }
    if (entry) Drop(entry->fid);
  }
  return FirstSight(fd, *st, out);
}

int FileTable::FirstSight(int fd, const struct stat& st, FileEntry** out) {
  FileEntry entry;
  entry.dev = st.st_dev;
  entry.ino = st.st_ino;
  entry.is_dir = S_ISDIR(st.st_mode);
  if (entry.is_dir && st.st_ino == mount_ino_) {
    entry.fid = kRootFid;
    *out = Insert(std::move(entry));
    Persist(**out);
    return 0;
  }
  if (!entry.is_dir && !S_ISREG(st.st_mode)) return -ENOTTY;
  char target[PATH_MAX];
  ssize_t n = readlink(ProcFdPath(fd).c_str(), target, sizeof(target) - 1);
  if (n < 0) return -errno;
  std::string path(target, static_cast<size_t>(n));
  if (path.size() <= mount_.size() ||
      path.compare(0, mount_.size(), mount_) != 0 || path[mount_.size()] != '/')
    return -ENOTTY;
  entry.path = path.substr(mount_.size() + 1);
  entry.is_volatile = !entry.is_dir && st.st_nlink == 0;
  if (entry.is_volatile) entry.path.clear();
  entry.fid = lu_fid{kFidSeq, next_oid_++, 0};
  if (!entry.is_dir && !entry.is_volatile) {
    std::string name = hsm::FormatFidNoBrace(entry.fid);
    if (int rc = LinkReplacing(AT_FDCWD, ProcFdPath(fd).c_str(),
                               fid_dir_fd_.get(), name, AT_SYMLINK_FOLLOW);
        rc < 0)
      return rc;
    if (int rc = LinkReplacing(fid_dir_fd_.get(), name.c_str(),
                               fid_dir_fd_.get(), BracketName(name), 0);
        rc < 0) {
      unlinkat(fid_dir_fd_.get(), name.c_str(), 0);
      return rc;
    }
  }
  *out = Insert(std::move(entry));
  Persist(**out);
  return 0;
}

int FileTable::StatEntry(const FileEntry& entry, struct stat* st) {
  if (entry.is_volatile) return -ENOENT;
  if (entry.fid == kRootFid) return fstat(mount_fd_.get(), st) < 0 ? -errno : 0;
  if (entry.is_dir) {
    std::string path;
    if (fstatat(mount_fd_.get(), entry.path.c_str(), st, AT_SYMLINK_NOFOLLOW) ==
            0 &&
        st->st_ino == entry.ino)
      return 0;
    if (!FindPath(entry.dev, entry.ino, &path)) return -ENOENT;
    return fstatat(mount_fd_.get(), path.c_str(), st, AT_SYMLINK_NOFOLLOW) < 0
               ? -errno
               : 0;
  }
  const std::string name = hsm::FormatFidNoBrace(entry.fid);
  const std::string bracket = BracketName(name);
  if (fstatat(fid_dir_fd_.get(), name.c_str(), st, AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  struct stat bst;
  const bool has_bracket = fstatat(fid_dir_fd_.get(), bracket.c_str(), &bst,
                                   AT_SYMLINK_NOFOLLOW) == 0 &&
                           bst.st_ino == st->st_ino && bst.st_dev == st->st_dev;
  // Only our links are left: the file was deleted.
  if (st->st_nlink <= (has_bracket ? 2u : 1u)) {
    unlinkat(fid_dir_fd_.get(), name.c_str(), 0);
    if (has_bracket) unlinkat(fid_dir_fd_.get(), bracket.c_str(), 0);
    return -ENOENT;
  }
  // A mount kept from before the bracketed names: add the missing one.
  if (!has_bracket &&
      LinkReplacing(fid_dir_fd_.get(), name.c_str(), fid_dir_fd_.get(), bracket,
                    0) == 0 &&
      fstatat(fid_dir_fd_.get(), name.c_str(), st, AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  return 0;
}

int FileTable::Stat(const lu_fid& fid, FileEntry** out, struct stat* st) {
  FileEntry* entry = Find(fid);
  if (!entry) return -ENOENT;
  int rc = StatEntry(*entry, st);
  if (rc == -ENOENT && !entry->is_volatile) {
    if (journal_) journal_->Append(EncodeFileDrop(fid));
    Drop(fid);
  }
  if (rc < 0) return rc;
  ApplyDirtyRule(entry, *st);
  *out = entry;
  return 0;
}

int FileTable::OpenByFid(const lu_fid& fid, int flags, common::UniqueFd* out) {
  std::string name = hsm::FormatFidNoBrace(fid);
  out->Reset(
      openat(fid_dir_fd_.get(), name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW));
  return out->valid() ? 0 : -errno;
}

int FileTable::StateSet(FileEntry* entry, const struct stat& st,
                        const hsm_state_set& hss, bool privileged) {
  uint64_t set = (hss.hss_valid & HSS_SETMASK) ? hss.hss_setmask : 0;
  uint64_t clear = (hss.hss_valid & HSS_CLEARMASK) ? hss.hss_clearmask : 0;
  if ((set | clear) & ~uint64_t{HSM_FLAGS_MASK}) return -EINVAL;
  if (!privileged && ((set | clear) & ~uint64_t{HSM_USER_MASK})) return -EPERM;
  HsmAttrs hsm = entry->hsm;
  uint32_t f = static_cast<uint32_t>((hsm.flags | set) & ~clear);
  // Lustre saves nothing (and succeeds) when an archive id comes without
  // EXISTS in the result.
  if ((hss.hss_valid & HSS_ARCHIVE_ID) && !(f & HS_EXISTS)) return 0;
  if (((f & HS_DIRTY) && !(f & HS_EXISTS)) ||
      ((f & HS_RELEASED) && (f & HS_DIRTY)) ||
      ((f & HS_RELEASED) && !(f & HS_ARCHIVED)) ||
      ((f & HS_LOST) && !(f & HS_ARCHIVED)))
    return -EINVAL;
  // The simulator's dirty rule compares with arch_ver: a file declared
  // archived by hand gets its current version, so it is not dirty at once.
  if ((f & HS_ARCHIVED) && !(hsm.flags & HS_ARCHIVED))
    hsm.arch_ver = DataVersion(st);
  hsm.flags = f;
  if (hss.hss_valid & HSS_ARCHIVE_ID) hsm.archive_id = hss.hss_archive_id;
  SetHsm(entry, hsm);
  return 0;
}

int FileTable::Release(const lu_fid& fid) {
  FileEntry* entry;
  struct stat st;
  if (int rc = Stat(fid, &entry, &st); rc < 0) return rc;
  uint32_t f = entry->hsm.flags;
  if (entry->is_dir || !(f & HS_ARCHIVED) ||
      (f & (HS_DIRTY | HS_NORELEASE | HS_LOST)))
    return -EPERM;
  if (DataVersion(st) != entry->hsm.arch_ver) return -EPERM;
  if (f & HS_RELEASED) return 0;
  common::UniqueFd fd;
  if (int rc = OpenByFid(fid, O_WRONLY, &fd); rc < 0) return rc;
  const struct timespec times[2] = {{0, UTIME_OMIT}, st.st_mtim};
  if (ftruncate(fd.get(), 0) < 0 || ftruncate(fd.get(), st.st_size) < 0 ||
      futimens(fd.get(), times) < 0)
    return -errno;
  HsmAttrs hsm = entry->hsm;
  hsm.flags |= HS_RELEASED;
  SetHsm(entry, hsm);
  return 0;
}

int FileTable::Import(int fd, const hsm_user_import& hui, lu_fid* fid) {
  FileEntry* entry;
  struct stat st;
  if (int rc = Identify(fd, &entry, &st); rc < 0) return rc;
  if (entry->is_dir || entry->is_volatile) return -EINVAL;
  common::UniqueFd out;
  if (int rc = OpenByFid(entry->fid, O_WRONLY, &out); rc < 0) return rc;
  if (ftruncate(out.get(), static_cast<off_t>(hui.hui_size)) < 0) return -errno;
  if (fchmod(out.get(), hui.hui_mode & 07777) < 0) return -errno;
  // Only root may give a file away; an unprivileged daemon keeps the owner.
  if (fchown(out.get(), hui.hui_uid, hui.hui_gid) < 0 && errno != EPERM)
    return -errno;
  const struct timespec times[2] = {
      {static_cast<time_t>(hui.hui_atime), static_cast<long>(hui.hui_atime_ns)},
      {static_cast<time_t>(hui.hui_mtime),
       static_cast<long>(hui.hui_mtime_ns)}};
  if (futimens(out.get(), times) < 0) return -errno;
  if (fstat(out.get(), &st) < 0) return -errno;
  HsmAttrs hsm;
  hsm.flags = HS_ARCHIVED | HS_EXISTS | HS_RELEASED;
  hsm.archive_id = hui.hui_archive_id;
  hsm.arch_ver = DataVersion(st);
  SetHsm(entry, hsm);
  *fid = entry->fid;
  return 0;
}

int FileTable::CompleteRestore(const lu_fid& fid, int volatile_fd) {
  FileEntry* entry;
  struct stat st;
  if (int rc = Stat(fid, &entry, &st); rc < 0) return rc;
  struct stat vst;
  if (fstat(volatile_fd, &vst) < 0) return -errno;
  if (vst.st_dev != mount_dev_) return -EXDEV;
  if (!S_ISREG(vst.st_mode)) return -EINVAL;
  common::UniqueFd out;
  if (int rc = OpenByFid(fid, O_WRONLY, &out); rc < 0) return rc;
  if (ftruncate(out.get(), 0) < 0) return -errno;
  if (int rc =
          CopyData(volatile_fd, out.get(), static_cast<uint64_t>(vst.st_size));
      rc < 0)
    return rc;
  const struct timespec times[2] = {{0, UTIME_OMIT}, st.st_mtim};
  if (ftruncate(out.get(), vst.st_size) < 0 || futimens(out.get(), times) < 0)
    return -errno;
  struct stat done;
  if (fstat(out.get(), &done) < 0) return -errno;
  HsmAttrs hsm = entry->hsm;
  hsm.flags &= ~(HS_RELEASED | HS_DIRTY);
  hsm.arch_ver = DataVersion(done);
  SetHsm(entry, hsm);
  auto key = by_key_.find(Key{vst.st_dev, vst.st_ino});
  if (key != by_key_.end()) {
    FileEntry* v = Find(key->second);
    if (v && v->is_volatile) Drop(v->fid);
  }
  return 0;
}

bool FileTable::FindPath(uint64_t dev, uint64_t ino, std::string* path) {
  // Breadth-first walk of the mount, skipping .lustre.
  std::vector<std::string> queue = {""};
  for (size_t i = 0; i < queue.size(); ++i) {
    std::string dir = queue[i];
    int dfd = dir.empty()
                  ? dup(mount_fd_.get())
                  : openat(mount_fd_.get(), dir.c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) continue;
    DIR* d = fdopendir(dfd);
    if (!d) {
      close(dfd);
      continue;
    }
    while (dirent* de = readdir(d)) {
      std::string name = de->d_name;
      if (name == "." || name == "..") continue;
      if (dir.empty() && name == ".lustre") continue;
      std::string child = dir.empty() ? name : dir + "/" + name;
      struct stat st;
      if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
      if (st.st_ino == ino && st.st_dev == dev) {
        closedir(d);
        *path = child;
        return true;
      }
      if (S_ISDIR(st.st_mode)) queue.push_back(child);
    }
    closedir(d);
  }
  return false;
}

int FileTable::Fid2Path(const lu_fid& fid, std::string* path) {
  FileEntry* entry;
  struct stat st;
  if (int rc = Stat(fid, &entry, &st); rc < 0) return rc;
  if (entry->fid == kRootFid) {
    *path = "/";
    return 0;
  }
  struct stat at;
  if (!entry->path.empty() &&
      fstatat(mount_fd_.get(), entry->path.c_str(), &at, AT_SYMLINK_NOFOLLOW) ==
          0 &&
      at.st_ino == entry->ino && at.st_dev == entry->dev) {
    *path = entry->path;
    return 0;
  }
  if (!FindPath(entry->dev, entry->ino, path)) return -ENOENT;
  entry->path = *path;
  Persist(*entry);
  return 0;
}

}  // namespace sim::mdt
