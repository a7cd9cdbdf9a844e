#define FUSE_USE_VERSION 312
#include "sim/mdt/fuse_mount.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fuse3/fuse_lowlevel.h>
#include <limits.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "hsm/fid.h"
#include "sim/mdt/coordinator.h"
#include "sim/mdt/fid_name.h"
#include "sim/mdt/file_table.h"
#include "sim/mdt/layout.h"
#include "sim/wire/messages.h"

namespace sim::mdt {

namespace asio = boost::asio;

namespace {

constexpr uint64_t kSockLinkId = 2;

std::string ProcFd(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

// The device of the mount at `path`, from /proc/self/mountinfo (a stat()
// of the mount point would be a request to ourselves).
bool MountDevice(const std::string& path, dev_t* dev) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  bool found = false;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, majmin, root, point;
    if (!(fields >> id >> parent >> majmin >> root >> point)) continue;
    if (point != path) continue;
    unsigned maj = 0, min = 0;
    if (sscanf(majmin.c_str(), "%u:%u", &maj, &min) != 2) continue;
    *dev = makedev(maj, min);
    found = true;  // the last one is the top mount
  }
  return found;
}

}  // namespace

struct FuseMount::Node {
  uint64_t id = 0;
  common::UniqueFd fd;  // O_PATH on the backing file
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;  // S_IFMT bits
  uint64_t nlookup = 0;
};

namespace {

struct DirHandle {
  DIR* dir = nullptr;
  ~DirHandle() {
    if (dir) closedir(dir);
  }
};

FuseMount* Self(fuse_req_t req) {
  return static_cast<FuseMount*>(fuse_req_userdata(req));
}

void FillEntry(fuse_entry_param* e, uint64_t id, const struct stat& st) {
  memset(e, 0, sizeof(*e));
  e->ino = id;
  e->attr = st;
  // No caching of names or attributes: the daemon changes files behind
  // the kernel's back (release, restore, .lustre/fid links).
  e->attr_timeout = 0;
  e->entry_timeout = 0;
}

}  // namespace

// ---- Operations ----

struct FuseMount::Ops {
  static void Init(void*, fuse_conn_info* conn) {
    // O_TRUNC comes as a separate setattr (which the HSM gate sees), and no
    // splice: requests are read from a non-blocking descriptor.
    conn->want &= ~(FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_SPLICE_READ |
                    FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
                    FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_READDIRPLUS);
  }

  static void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    FuseMount* self = Self(req);
    Node* p = self->Get(parent);
    if (!p) return (void)fuse_reply_err(req, ESTALE);
    fuse_entry_param e;
    if (self->UnderDotLustre(p) &&
        std::make_pair(p->dev, p->ino) == self->dot_lustre_ &&
        strcmp(name, "mdt.sock") == 0) {
      struct stat st;
      std::string sock = self->backing_ + "/" + wire::kSocketPath;
      if (lstat(sock.c_str(), &st) < 0) return (void)fuse_reply_err(req, errno);
      st.st_mode = S_IFLNK | 0777;
      st.st_size = static_cast<off_t>(sock.size());
      st.st_nlink = 1;
      FillEntry(&e, kSockLinkId, st);
      return (void)fuse_reply_entry(req, &e);
    }
    std::string lookup_name = name;
    if (self->IsFidDir(p)) {
      std::optional<lu_fid> fid = ParseDotLustreFidName(name);
      if (!fid) return (void)fuse_reply_err(req, ENOENT);
      lookup_name = hsm::FormatFidNoBrace(*fid);
    }
    uint64_t id;
    struct stat st;
    int rc = self->Lookup(p, lookup_name.c_str(), &id, &st);
    if (rc < 0) return (void)fuse_reply_err(req, -rc);
    FillEntry(&e, id, st);
    fuse_reply_entry(req, &e);
  }

  static void Forget(fuse_req_t req, fuse_ino_t ino, uint64_t n) {
    Self(req)->Forget(ino, n);
    fuse_reply_none(req);
  }

  static void ForgetMulti(fuse_req_t req, size_t count,
                          fuse_forget_data* forgets) {
    for (size_t i = 0; i < count; ++i)
      Self(req)->Forget(forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
  }

  static int StatNode(FuseMount* self, fuse_ino_t ino, struct stat* st) {
    if (ino == kSockLinkId) {
      std::string sock = self->backing_ + "/" + wire::kSocketPath;
      if (lstat(sock.c_str(), st) < 0) return -errno;
      st->st_mode = S_IFLNK | 0777;
      st->st_size = static_cast<off_t>(sock.size());
      st->st_nlink = 1;
      return 0;
    }
    Node* n = self->Get(ino);
    if (!n) return -ESTALE;
    if (fstatat(n->fd.get(), "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
      return -errno;
    return 0;
  }

  static void Getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    struct stat st;
    int rc = StatNode(Self(req), ino, &st);
    if (rc < 0) return (void)fuse_reply_err(req, -rc);
    fuse_reply_attr(req, &st, 0);
  }

  static void Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr,
                      int to_set, fuse_file_info* fi) {
    SetattrImpl(req, ino, *attr, to_set,
                fi ? std::optional<uint64_t>(fi->fh) : std::nullopt, false);
  }

  static void SetattrImpl(fuse_req_t req, fuse_ino_t ino, struct stat attr,
                          int to_set, std::optional<uint64_t> fh, bool waited) {
    FuseMount* self = Self(req);
    if (ino == kSockLinkId) return (void)fuse_reply_err(req, EPERM);
    Node* n = self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ESTALE);
    if ((to_set & FUSE_SET_ATTR_SIZE) &&
        !self->Gate(req, n, FileOp::kTruncate, waited,
                    [=] { SetattrImpl(req, ino, attr, to_set, fh, true); }))
      return;
    std::string path = ProcFd(n->fd.get());
    bool is_link = S_ISLNK(n->type);
    if ((to_set & FUSE_SET_ATTR_MODE) && !is_link &&
        chmod(path.c_str(), attr.st_mode & 07777) < 0)
      return (void)fuse_reply_err(req, errno);
    if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
      uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr.st_uid : uid_t(-1);
      gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr.st_gid : gid_t(-1);
      if (fchownat(n->fd.get(), "", uid, gid,
                   AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
        return (void)fuse_reply_err(req, errno);
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
      int rc = fh ? ftruncate(static_cast<int>(*fh), attr.st_size)
                  : truncate(path.c_str(), attr.st_size);
      if (rc < 0) return (void)fuse_reply_err(req, errno);
    }
    if ((to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) && !is_link) {
      timespec tv[2];
      tv[0].tv_sec = tv[1].tv_sec = 0;
      tv[0].tv_nsec = tv[1].tv_nsec = UTIME_OMIT;
      if (to_set & FUSE_SET_ATTR_ATIME_NOW)
        tv[0].tv_nsec = UTIME_NOW;
      else if (to_set & FUSE_SET_ATTR_ATIME)
        tv[0] = attr.st_atim;
      if (to_set & FUSE_SET_ATTR_MTIME_NOW)
        tv[1].tv_nsec = UTIME_NOW;
      else if (to_set & FUSE_SET_ATTR_MTIME)
        tv[1] = attr.st_mtim;
      if (utimensat(AT_FDCWD, path.c_str(), tv, 0) < 0)
        return (void)fuse_reply_err(req, errno);
    }
    if (to_set & FUSE_SET_ATTR_SIZE) self->DataWritten(n);
    struct stat st;
    int rc = StatNode(self, ino, &st);
    if (rc < 0) return (void)fuse_reply_err(req, -rc);
    fuse_reply_attr(req, &st, 0);
  }

  static void Readlink(fuse_req_t req, fuse_ino_t ino) {
    FuseMount* self = Self(req);
    if (ino == kSockLinkId) {
      std::string sock = self->backing_ + "/" + wire::kSocketPath;
      return (void)fuse_reply_readlink(req, sock.c_str());
    }
    Node* n = self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ESTALE);
    char buf[PATH_MAX + 1];
    ssize_t len = readlinkat(n->fd.get(), "", buf, PATH_MAX);
    if (len < 0) return (void)fuse_reply_err(req, errno);
    buf[len] = '\0';
    fuse_reply_readlink(req, buf);
  }

  // Gives a new entry to its creator (the daemon runs as root), counts
  // the lookup and answers with it.
  static void NewEntry(fuse_req_t req, Node* parent, const char* name,
                       fuse_file_info* fi) {
    FuseMount* self = Self(req);
    const fuse_ctx* ctx = fuse_req_ctx(req);
    if (geteuid() == 0)
      (void)fchownat(parent->fd.get(), name, ctx->uid, ctx->gid,
                     AT_SYMLINK_NOFOLLOW);
    uint64_t id;
    struct stat st;
    int rc = self->Lookup(parent, name, &id, &st);
    if (rc < 0) {
      if (fi) close(static_cast<int>(fi->fh));
      return (void)fuse_reply_err(req, -rc);
    }
    fuse_entry_param e;
    FillEntry(&e, id, st);
    if (fi)
      fuse_reply_create(req, &e, fi);
    else
      fuse_reply_entry(req, &e);
  }

  // Parent of a change of the namespace: not under .lustre/.
  static Node* Writable(fuse_req_t req, fuse_ino_t parent) {
    FuseMount* self = Self(req);
    Node* p = self->Get(parent);
    if (!p) {
      fuse_reply_err(req, ESTALE);
      return nullptr;
    }
    if (self->UnderDotLustre(p)) {
      fuse_reply_err(req, EPERM);
      return nullptr;
    }
    return p;
  }

  static void Mknod(fuse_req_t req, fuse_ino_t parent, const char* name,
                    mode_t mode, dev_t rdev) {
    Node* p = Writable(req, parent);
    if (!p) return;
    if (mknodat(p->fd.get(), name, mode, rdev) < 0)
      return (void)fuse_reply_err(req, errno);
    NewEntry(req, p, name, nullptr);
  }

  static void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name,
                    mode_t mode) {
    Node* p = Writable(req, parent);
    if (!p) return;
    if (mkdirat(p->fd.get(), name, mode) < 0)
      return (void)fuse_reply_err(req, errno);
    NewEntry(req, p, name, nullptr);
  }

  static void Symlink(fuse_req_t req, const char* link, fuse_ino_t parent,
                      const char* name) {
    Node* p = Writable(req, parent);
    if (!p) return;
    if (symlinkat(link, p->fd.get(), name) < 0)
      return (void)fuse_reply_err(req, errno);
    NewEntry(req, p, name, nullptr);
  }

  static void Create(fuse_req_t req, fuse_ino_t parent, const char* name,
                     mode_t mode, fuse_file_info* fi) {
    Node* p = Writable(req, parent);
    if (!p) return;
    int fd = openat(p->fd.get(), name,
                    (fi->flags | O_CREAT | O_CLOEXEC) & ~O_NOCTTY, mode);
    if (fd < 0) return (void)fuse_reply_err(req, errno);
    fi->fh = static_cast<uint64_t>(fd);
    fi->direct_io = 1;
    fi->noflush = 1;
    NewEntry(req, p, name, fi);
  }

  static void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
    Node* p = Writable(req, parent);
    if (!p) return;
    fuse_reply_err(req, unlinkat(p->fd.get(), name, 0) < 0 ? errno : 0);
  }

  static void Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
    Node* p = Writable(req, parent);
    if (!p) return;
    fuse_reply_err(req,
                   unlinkat(p->fd.get(), name, AT_REMOVEDIR) < 0 ? errno : 0);
  }

  static void Rename(fuse_req_t req, fuse_ino_t parent, const char* name,
                     fuse_ino_t newparent, const char* newname,
                     unsigned int flags) {
    Node* p = Writable(req, parent);
    if (!p) return;
    Node* np = Writable(req, newparent);
    if (!np) return;
    fuse_reply_err(
        req, renameat2(p->fd.get(), name, np->fd.get(), newname, flags) < 0
                 ? errno
                 : 0);
  }

  static void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                   const char* newname) {
    FuseMount* self = Self(req);
    Node* n = self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ESTALE);
    Node* np = Writable(req, newparent);
    if (!np) return;
    if (linkat(n->fd.get(), "", np->fd.get(), newname, AT_EMPTY_PATH) < 0)
      return (void)fuse_reply_err(req, errno);
    NewEntry(req, np, newname, nullptr);
  }

  static void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    FuseMount* self = Self(req);
    Node* n = self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ESTALE);
    // Opening does not restore (Lustre restores at the first I/O).
    int fd = open(
        ProcFd(n->fd.get()).c_str(),
        (fi->flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_NOFOLLOW)) |
            O_CLOEXEC);
    if (fd < 0) return (void)fuse_reply_err(req, errno);
    fi->fh = static_cast<uint64_t>(fd);
    fi->direct_io = 1;
    fi->noflush = 1;
    fi->keep_cache = 0;
    fuse_reply_open(req, fi);
  }

  static void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                   fuse_file_info* fi) {
    ReadImpl(req, ino, size, off, fi->fh, false);
  }

  static void ReadImpl(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       uint64_t fh, bool waited) {
    FuseMount* self = Self(req);
    Node* n = self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ESTALE);
    if (!self->Gate(req, n, FileOp::kRead, waited,
                    [=] { ReadImpl(req, ino, size, off, fh, true); }))
      return;
    std::vector<char> buf(size);
    ssize_t got = pread(static_cast<int>(fh), buf.data(), size, off);
    if (got < 0) return (void)fuse_reply_err(req, errno);
    fuse_reply_buf(req, buf.data(), static_cast<size_t>(got));
  }

  static void Write(fuse_req_t req, fuse_ino_t ino, const char* data,
                    size_t size, off_t off, fuse_file_info* fi) {
    // The request buffer is reused for the next request: keep a copy in
    // case the write has to wait.
    WriteImpl(req, ino, std::make_shared<std::string>(data, size), off, fi->fh,
              false);
  }

  static void WriteImpl(fuse_req_t req, fuse_ino_t ino,
                        std::shared_ptr<std::string> data, off_t off,
                        uint64_t fh, bool waited) {
    FuseMount* self = Self(req);
    Node* n = self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ESTALE);
    if (!self->Gate(req, n, FileOp::kWrite, waited,
                    [=] { WriteImpl(req, ino, data, off, fh, true); }))
      return;
    ssize_t put = pwrite(static_cast<int>(fh), data->data(), data->size(), off);
    if (put < 0) return (void)fuse_reply_err(req, errno);
    self->DataWritten(n);
    fuse_reply_write(req, static_cast<size_t>(put));
  }

  static void Flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) {
    fuse_reply_err(req, 0);
  }

  static void Release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    close(static_cast<int>(fi->fh));
    fuse_reply_err(req, 0);
  }

  static void Fsync(fuse_req_t req, fuse_ino_t, int datasync,
                    fuse_file_info* fi) {
    int fd = static_cast<int>(fi->fh);
    int rc = datasync ? fdatasync(fd) : fsync(fd);
    fuse_reply_err(req, rc < 0 ? errno : 0);
  }

  static void Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
                        off_t len, fuse_file_info* fi) {
    FallocateImpl(req, ino, mode, off, len, fi->fh, false);
  }

  static void FallocateImpl(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
                            off_t len, uint64_t fh, bool waited) {
    FuseMount* self = Self(req);
    Node* n = self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ESTALE);
    if (!self->Gate(req, n, FileOp::kFallocate, waited,
                    [=] { FallocateImpl(req, ino, mode, off, len, fh, true); }))
      return;
    if (fallocate(static_cast<int>(fh), mode, off, len) < 0)
      return (void)fuse_reply_err(req, errno);
    self->DataWritten(n);
    fuse_reply_err(req, 0);
  }

  static void Lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                    fuse_file_info* fi) {
    LseekImpl(req, ino, off, whence, fi->fh, false);
  }

  static void LseekImpl(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                        uint64_t fh, bool waited) {
    FuseMount* self = Self(req);
    Node* n = self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ESTALE);
    FileOp op = (whence == SEEK_DATA || whence == SEEK_HOLE) ? FileOp::kSeekData
                                                             : FileOp::kSeek;
    if (!self->Gate(req, n, op, waited,
                    [=] { LseekImpl(req, ino, off, whence, fh, true); }))
      return;
    off_t res = lseek(static_cast<int>(fh), off, whence);
    if (res < 0) return (void)fuse_reply_err(req, errno);
    fuse_reply_lseek(req, res);
  }

  static void Opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    FuseMount* self = Self(req);
    Node* n = self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ESTALE);
    int fd = openat(n->fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return (void)fuse_reply_err(req, errno);
    auto handle = std::make_unique<DirHandle>();
    handle->dir = fdopendir(fd);
    if (!handle->dir) {
      int err = errno;
      close(fd);
      return (void)fuse_reply_err(req, err);
    }
    fi->fh = reinterpret_cast<uint64_t>(handle.release());
    fuse_reply_open(req, fi);
  }

  static void Readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off,
                      fuse_file_info* fi) {
    auto* handle = reinterpret_cast<DirHandle*>(fi->fh);
    std::vector<char> buf(size);
    size_t used = 0;
    seekdir(handle->dir, off);
    for (;;) {
      long before = telldir(handle->dir);
      errno = 0;
      dirent* d = readdir(handle->dir);
      if (!d) {
        if (errno != 0 && used == 0) return (void)fuse_reply_err(req, errno);
        break;
      }
      struct stat st {};
      st.st_ino = d->d_ino;
      st.st_mode = static_cast<mode_t>(d->d_type) << 12;
      size_t len = fuse_add_direntry(req, buf.data() + used, size - used,
                                     d->d_name, &st, telldir(handle->dir));
      if (len > size - used) {
        seekdir(handle->dir, before);
        break;
      }
      used += len;
    }
    fuse_reply_buf(req, buf.data(), used);
  }

  static void Releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    delete reinterpret_cast<DirHandle*>(fi->fh);
    fuse_reply_err(req, 0);
  }

  static void Statfs(fuse_req_t req, fuse_ino_t) {
    struct statvfs st;
    if (statvfs(Self(req)->backing_.c_str(), &st) < 0)
      return (void)fuse_reply_err(req, errno);
    fuse_reply_statfs(req, &st);
  }

  static void Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name,
                       size_t size) {
    FuseMount* self = Self(req);
    Node* n = ino == kSockLinkId ? nullptr : self->Get(ino);
    if (!n) return (void)fuse_reply_err(req, ENODATA);
    std::string value;
    ssize_t len;
    if (strcmp(name, kLayoutXattrName) == 0) {
      if (!S_ISREG(n->type)) return (void)fuse_reply_err(req, ENODATA);
      int rc =
          self->lov_xattr ? self->lov_xattr(n->fd.get(), &value) : -ENODATA;
      if (rc < 0) return (void)fuse_reply_err(req, -rc);
      len = static_cast<ssize_t>(value.size());
    } else {
      if (S_ISLNK(n->type)) return (void)fuse_reply_err(req, ENODATA);
      std::string path = ProcFd(n->fd.get());
      len = getxattr(path.c_str(), name, nullptr, 0);
      if (len < 0) return (void)fuse_reply_err(req, errno);
      value.resize(static_cast<size_t>(len));
      len = getxattr(path.c_str(), name, value.data(), value.size());
      if (len < 0) return (void)fuse_reply_err(req, errno);
      value.resize(static_cast<size_t>(len));
    }
    if (size == 0) return (void)fuse_reply_xattr(req, value.size());
    if (value.size() > size) return (void)fuse_reply_err(req, ERANGE);
    fuse_reply_buf(req, value.data(), value.size());
  }

  static void Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
    FuseMount* self = Self(req);
    Node* n = ino == kSockLinkId ? nullptr : self->Get(ino);
    if (!n || S_ISLNK(n->type)) {
      if (size == 0) return (void)fuse_reply_xattr(req, 0);
      return (void)fuse_reply_buf(req, nullptr, 0);
    }
    std::string path = ProcFd(n->fd.get());
    ssize_t len = listxattr(path.c_str(), nullptr, 0);
    if (len < 0) return (void)fuse_reply_err(req, errno);
    std::string value(static_cast<size_t>(len), '\0');
    len = listxattr(path.c_str(), value.data(), value.size());
    if (len < 0) return (void)fuse_reply_err(req, errno);
    value.resize(static_cast<size_t>(len));
    // Every regular file on Lustre lists its layout.
    if (S_ISREG(n->type) && self->lov_xattr)
      value.append(kLayoutXattrName, kLayoutXattrListLength);
    if (size == 0) return (void)fuse_reply_xattr(req, value.size());
    if (value.size() > size) return (void)fuse_reply_err(req, ERANGE);
    fuse_reply_buf(req, value.data(), value.size());
  }

  static void Setxattr(fuse_req_t req, fuse_ino_t ino, const char* name,
                       const char* value, size_t size, int flags) {
    FuseMount* self = Self(req);
    Node* n = ino == kSockLinkId ? nullptr : self->Get(ino);
    if (!n || S_ISLNK(n->type)) return (void)fuse_reply_err(req, EPERM);
    if (strcmp(name, kLayoutXattrName) == 0) {
      // Lustre's client takes a valid layout and keeps the file's own (a
      // restore's volatile gets the archived layout this way): checked,
      // not stored.
      if (!S_ISREG(n->type)) return (void)fuse_reply_err(req, ENODATA);
      return (void)fuse_reply_err(req, -CheckLayoutXattr(value, size));
    }
    std::string path = ProcFd(n->fd.get());
    fuse_reply_err(
        req, setxattr(path.c_str(), name, value, size, flags) < 0 ? errno : 0);
  }

  static void Removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
    FuseMount* self = Self(req);
    Node* n = ino == kSockLinkId ? nullptr : self->Get(ino);
    if (!n || S_ISLNK(n->type)) return (void)fuse_reply_err(req, EPERM);
    std::string path = ProcFd(n->fd.get());
    fuse_reply_err(req, removexattr(path.c_str(), name) < 0 ? errno : 0);
  }

  static fuse_lowlevel_ops Table() {
    fuse_lowlevel_ops ops{};
    ops.init = Init;
    ops.lookup = Lookup;
    ops.forget = Forget;
    ops.forget_multi = ForgetMulti;
    ops.getattr = Getattr;
    ops.setattr = Setattr;
    ops.readlink = Readlink;
    ops.mknod = Mknod;
    ops.mkdir = Mkdir;
    ops.symlink = Symlink;
    ops.create = Create;
    ops.unlink = Unlink;
    ops.rmdir = Rmdir;
    ops.rename = Rename;
    ops.link = Link;
    ops.open = Open;
    ops.read = Read;
    ops.write = Write;
    ops.flush = Flush;
    ops.release = Release;
    ops.fsync = Fsync;
    ops.fallocate = Fallocate;
    ops.lseek = Lseek;
    ops.opendir = Opendir;
    ops.readdir = Readdir;
    ops.releasedir = Releasedir;
    ops.statfs = Statfs;
    ops.getxattr = Getxattr;
    ops.listxattr = Listxattr;
    ops.setxattr = Setxattr;
    ops.removexattr = Removexattr;
    return ops;
  }
};

// ---- FuseMount ----

FuseMount::FuseMount(asio::io_context* io, std::string mountpoint,
                     std::string backing, Coordinator* cdt, FileTable* files)
    : io_(io),
      mountpoint_(std::move(mountpoint)),
      backing_(std::move(backing)),
      cdt_(cdt),
      files_(files) {}

FuseMount::~FuseMount() { Stop(); }

FuseMount::Node* FuseMount::Get(uint64_t id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

FuseMount::Node* FuseMount::FindByKey(dev_t dev, ino_t ino) {
  auto it = by_key_.find({dev, ino});
  return it == by_key_.end() ? nullptr : Get(it->second);
}

int FuseMount::Lookup(Node* parent, const char* name, uint64_t* id,
                      struct stat* st) {
  if (fstatat(parent->fd.get(), name, st, AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  if (Node* n = FindByKey(st->st_dev, st->st_ino)) {
    ++n->nlookup;
    *id = n->id;
    return 0;
  }
  common::UniqueFd fd(
      openat(parent->fd.get(), name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return -errno;
  // The name may have changed between the two calls.
  if (fstatat(fd.get(), "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  if (Node* n = FindByKey(st->st_dev, st->st_ino)) {
    ++n->nlookup;
    *id = n->id;
    return 0;
  }
  auto node = std::make_unique<Node>();
  node->id = next_id_++;
  node->fd = std::move(fd);
  node->dev = st->st_dev;
  node->ino = st->st_ino;
  node->type = st->st_mode & S_IFMT;
  node->nlookup = 1;
  *id = node->id;
  by_key_[{node->dev, node->ino}] = node->id;
  nodes_[node->id] = std::move(node);
  return 0;
}

void FuseMount::Forget(uint64_t id, uint64_t n) {
  if (id == FUSE_ROOT_ID || id == kSockLinkId) return;
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return;
  Node& node = *it->second;
  node.nlookup = node.nlookup > n ? node.nlookup - n : 0;
  if (node.nlookup > 0) return;
  auto key = by_key_.find({node.dev, node.ino});
  if (key != by_key_.end() && key->second == id) by_key_.erase(key);
  nodes_.erase(it);
}

bool FuseMount::UnderDotLustre(const Node* parent) const {
  std::pair<dev_t, ino_t> key{parent->dev, parent->ino};
  if (key == dot_lustre_ || key == fid_dir_) return true;
  // .lustre/state and anything deeper: by the backing path.
  char path[PATH_MAX];
  ssize_t n =
      readlink(ProcFd(parent->fd.get()).c_str(), path, sizeof(path) - 1);
  if (n < 0) return false;
  std::string p(path, static_cast<size_t>(n));
  std::string prefix = backing_ + "/.lustre";
  return p == prefix || p.rfind(prefix + "/", 0) == 0;
}

bool FuseMount::IsFidDir(const Node* n) const {
  return std::make_pair(n->dev, n->ino) == fid_dir_;
}

bool FuseMount::Gate(void* req_ptr, Node* node, FileOp op, bool waited,
                     std::function<void()> retry) {
  auto req = static_cast<fuse_req_t>(req_ptr);
  if (!NeedsRestore(op) || !S_ISREG(node->type)) return true;
  FileEntry* entry = files_->FindByInode(node->dev, node->ino);
  if (!entry || !(entry->hsm.flags & HS_RELEASED)) return true;
  const lu_fid fid = entry->fid;
  if (waited && !cdt_->RestoreLocked(fid)) {
    // The restore ended and the file is still released: it failed.
    spdlog::info("fuse: restore of {} failed: I/O error", hsm::FormatFid(fid));
    fuse_reply_err(req, EIO);
    return false;
  }
  if (!cdt_->RestoreLocked(fid)) {
    // Lustre's client: an implicit restore of the whole file, blocking.
    const wire::ImplicitRestoreReq hur = wire::MakeImplicitRestore(fid);
    Caller caller;
    caller.pid = static_cast<uint32_t>(fuse_req_ctx(req)->pid);
    int rc = cdt_->Request(
        caller,
        std::string_view(reinterpret_cast<const char*>(&hur), sizeof(hur)));
    if (rc < 0) {
      spdlog::info("fuse: implicit restore of {} refused: {}",
                   hsm::FormatFid(fid), strerror(-rc));
      fuse_reply_err(req, -rc);
      return false;
    }
    spdlog::debug("fuse: implicit restore of {} for pid {}",
                  hsm::FormatFid(fid), caller.pid);
    if (!cdt_->RestoreLocked(fid)) {
      fuse_reply_err(req, EIO);
      return false;
    }
  }
  uint64_t id = gate_.Wait(fid, std::move(retry));
  fuse_req_interrupt_func(
      req,
      [](fuse_req_t r, void* data) {
        if (Self(r)->gate_.Cancel(reinterpret_cast<uintptr_t>(data)))
          fuse_reply_err(r, EINTR);
      },
      reinterpret_cast<void*>(static_cast<uintptr_t>(id)));
  return false;
}

void FuseMount::DataWritten(Node* node) {
  FileEntry* entry = files_->FindByInode(node->dev, node->ino);
  if (!entry) return;
  FileEntry* refreshed;
  struct stat st;
  (void)files_->Stat(entry->fid, &refreshed, &st);  // applies the dirty rule
}

void FuseMount::RestoreEnded(const lu_fid& fid) {
  if (gate_.Release(fid) > 0 && after_turn) after_turn();
}

int FuseMount::Translate(int fd, common::UniqueFd* out) {
  if (!se_) return 0;
  struct statx stx;
  // Cached attributes only: a GETATTR would be a request to ourselves.
  if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &stx) < 0)
    return -errno;
  if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != fuse_dev_) return 0;
  Node* n = stx.stx_ino == 0 ? nullptr : FindByKey(backing_dev_, stx.stx_ino);
  if (!n && nodes_.count(FUSE_ROOT_ID) && Get(FUSE_ROOT_ID)->ino == stx.stx_ino)
    n = Get(FUSE_ROOT_ID);
  if (!n) return -ESTALE;
  int flags = O_CLOEXEC | O_NONBLOCK;
  flags |= S_ISREG(n->type) || S_ISDIR(n->type) ? O_RDONLY : O_PATH;
  common::UniqueFd backing(open(ProcFd(n->fd.get()).c_str(), flags));
  if (!backing) return -errno;
  *out = std::move(backing);
  return 1;
}

std::string FuseMount::Start() {
  namespace fs = std::filesystem;
  std::error_code ec;
  // A crashed daemon leaves a dead mount ("Transport endpoint is not
  // connected"): take it away first.
  struct stat st;
  if (stat(mountpoint_.c_str(), &st) < 0 && errno == ENOTCONN) {
    spdlog::warn("{}: dead FUSE mount left behind, unmounting it", mountpoint_);
    if (umount2(mountpoint_.c_str(), MNT_DETACH) < 0)
      return fmt::format("cannot unmount the dead mount {}: {}", mountpoint_,
                         strerror(errno));
  }
  fs::create_directories(mountpoint_, ec);
  fs::path resolved = fs::canonical(mountpoint_, ec);
  if (ec)
    return fmt::format("cannot resolve {}: {}", mountpoint_, ec.message());
  mountpoint_ = resolved.string();
  fs::path backing = fs::canonical(backing_, ec);
  if (ec) return fmt::format("cannot resolve {}: {}", backing_, ec.message());
  backing_ = backing.string();
  if (backing_ == mountpoint_ || backing_.rfind(mountpoint_ + "/", 0) == 0)
    return fmt::format("the backing directory {} must not be under {}",
                       backing_, mountpoint_);

  auto root = std::make_unique<Node>();
  root->id = FUSE_ROOT_ID;
  root->fd.Reset(open(backing_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root->fd)
    return fmt::format("cannot open {}: {}", backing_, strerror(errno));
  if (fstat(root->fd.get(), &st) < 0)
    return fmt::format("cannot stat {}: {}", backing_, strerror(errno));
  root->dev = backing_dev_ = st.st_dev;
  root->ino = st.st_ino;
  root->type = S_IFDIR;
  root->nlookup = 1;
  nodes_[FUSE_ROOT_ID] = std::move(root);
  for (auto [rel, key] : {std::pair{".lustre", &dot_lustre_},
                          std::pair{".lustre/fid", &fid_dir_}}) {
    if (lstat((backing_ + "/" + rel).c_str(), &st) < 0)
      return fmt::format("cannot stat {}/{}: {}", backing_, rel,
                         strerror(errno));
    *key = {st.st_dev, st.st_ino};
  }

  std::string fsname_opt =
      "-ofsname=sim-lustre,subtype=sim-lustre,"
      "default_permissions";
  if (geteuid() == 0) fsname_opt += ",allow_other";
  const char* argv[] = {"sim-mdt", fsname_opt.c_str()};
  fuse_args args = FUSE_ARGS_INIT(2, const_cast<char**>(argv));
  fuse_lowlevel_ops ops = Ops::Table();
  se_ = fuse_session_new(&args, &ops, sizeof(ops), this);
  fuse_opt_free_args(&args);
  if (!se_) return "cannot create the FUSE session";
  if (fuse_session_mount(se_, mountpoint_.c_str()) != 0) {
    fuse_session_destroy(se_);
    se_ = nullptr;
    return fmt::format(
        "cannot mount {} with FUSE (is /dev/fuse there and may this user "
        "mount?)",
        mountpoint_);
  }
  mounted_ = true;
  if (!MountDevice(mountpoint_, &fuse_dev_))
    return fmt::format("{} is not in /proc/self/mountinfo after mounting",
                       mountpoint_);
  int fd = fuse_session_fd(se_);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  dev_ = std::make_unique<asio::posix::stream_descriptor>(*io_, dup(fd));
  spdlog::info("fuse: serving {} from {}", mountpoint_, backing_);
  ArmRead();
  return "";
}

void FuseMount::Stop() {
  if (dev_) {
    boost::system::error_code ignored;
    dev_->cancel(ignored);
    dev_->close(ignored);
    dev_.reset();
  }
  if (se_) {
    if (mounted_) fuse_session_unmount(se_);
    mounted_ = false;
    fuse_session_destroy(se_);
    se_ = nullptr;
  }
  free(buf_mem_);
  buf_mem_ = nullptr;
}

void FuseMount::ArmRead() {
  dev_->async_wait(asio::posix::stream_descriptor::wait_read,
                   [this](const boost::system::error_code& ec) {
                     if (ec) return;
                     OnReadable();
                   });
}

void FuseMount::OnReadable() {
  // A bounded batch per turn, so sockets are served too.
  for (int i = 0; i < 64 && se_; ++i) {
    fuse_buf buf{};
    buf.mem = buf_mem_;
    int rc = fuse_session_receive_buf(se_, &buf);
    buf_mem_ = buf.mem;
    if (rc == -EAGAIN || rc == -EINTR) break;
    if (rc <= 0 || fuse_session_exited(se_)) {
      spdlog::warn("fuse: {} was unmounted{}", mountpoint_,
                   rc < 0 ? fmt::format(" ({})", strerror(-rc)) : "");
      mounted_ = false;
      if (after_turn) after_turn();
      return;
    }
    fuse_session_process_buf(se_, &buf);
  }
  if (after_turn) after_turn();
  if (dev_) ArmRead();
}

}  // namespace sim::mdt
