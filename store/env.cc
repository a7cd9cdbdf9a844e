#include "store/env.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <utility>

#include "common/unique_fd.h"

namespace store {

namespace {

class PosixFile : public File {
 public:
  explicit PosixFile(common::UniqueFd fd) : fd_(std::move(fd)) {}

  ssize_t ReadAt(uint64_t offset, char* out, size_t size) override {
    for (;;) {
      ssize_t n = pread(fd_.get(), out, size, static_cast<off_t>(offset));
      if (n >= 0) return n;
      if (errno != EINTR) return -errno;
    }
  }
  ssize_t WriteAt(uint64_t offset, std::string_view data) override {
    for (;;) {
      ssize_t n = pwrite(fd_.get(), data.data(), data.size(),
                         static_cast<off_t>(offset));
      if (n >= 0) return n;
      if (errno != EINTR) return -errno;
    }
  }
  ssize_t CopyFrom(File& from, uint64_t from_offset, uint64_t offset,
                   size_t size) override {
    auto* source = dynamic_cast<PosixFile*>(&from);
    if (!source) return -EOPNOTSUPP;
    auto in = static_cast<off_t>(from_offset);
    auto out = static_cast<off_t>(offset);
    for (;;) {
      ssize_t n =
          copy_file_range(source->fd_.get(), &in, fd_.get(), &out, size, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      // Not between these files, or not on this kernel or filesystem.
      if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
          errno == EOPNOTSUPP || errno == EBADF)
        return -EOPNOTSUPP;
      return -errno;
    }
  }
  int Sync() override { return fdatasync(fd_.get()) == 0 ? 0 : errno; }
  int Truncate(uint64_t size) override {
    return ftruncate(fd_.get(), static_cast<off_t>(size)) == 0 ? 0 : errno;
  }
  int Size(uint64_t* size) override {
    struct stat st {};
    if (fstat(fd_.get(), &st) < 0) return errno;
    *size = static_cast<uint64_t>(st.st_size);
    return 0;
  }
  const char* Map(uint64_t size, int* error) override {
    void* data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd_.get(), 0);
    if (data == MAP_FAILED) {
      *error = errno;
      return nullptr;
    }
    // Read ahead in large steps, and every page in now: an I/O error is
    // an errno here, where a first touch later would be a SIGBUS.
    madvise(data, size, MADV_SEQUENTIAL);
    if (madvise(data, size, MADV_POPULATE_READ) < 0) {
      // EINVAL: a kernel before 5.14; EFAULT: a page could not be read.
      *error = errno == EINVAL ? EOPNOTSUPP : errno;
      munmap(data, size);
      return nullptr;
    }
    return static_cast<const char*>(data);
  }

 private:
  common::UniqueFd fd_;
};

class Posix : public Env {
 public:
  int Open(const std::string& path, Mode mode,
           std::unique_ptr<File>* file) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case Mode::kReadWrite:
        flags |= O_RDWR | O_CREAT;
        break;
      case Mode::kTruncate:
        flags |= O_RDWR | O_CREAT | O_TRUNC;
        break;
      case Mode::kReadOnly:
        flags |= O_RDONLY;
        break;
    }
    common::UniqueFd fd(open(path.c_str(), flags, 0600));
    if (!fd.valid()) return errno;
    *file = std::make_unique<PosixFile>(std::move(fd));
    return 0;
  }
  int MakeDirs(const std::string& dir) override {
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
      if (pos != dir.size() && dir[pos] != '/') continue;
      std::string part = dir.substr(0, pos);
      if (mkdir(part.c_str(), 0700) < 0 && errno != EEXIST) return errno;
    }
    return 0;
  }
  int Lock(const std::string& path, std::unique_ptr<File>* lock) override {
    common::UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid()) return errno;
    if (flock(fd.get(), LOCK_EX | LOCK_NB) < 0) return errno;
    *lock = std::make_unique<PosixFile>(std::move(fd));
    return 0;
  }
  int Rename(const std::string& from, const std::string& to) override {
    return rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
  }
  int Link(const std::string& from, const std::string& to) override {
    return link(from.c_str(), to.c_str()) == 0 ? 0 : errno;
  }
  int Remove(const std::string& path) override {
    return unlink(path.c_str()) == 0 ? 0 : errno;
  }
  int SyncDir(const std::string& dir) override {
    common::UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return errno;
    return fsync(fd.get()) == 0 ? 0 : errno;
  }
};

}  // namespace

Env* PosixEnv() {
  static Posix env;
  return &env;
}

int ReadFully(File& file, uint64_t offset, char* out, size_t size) {
  while (size > 0) {
    ssize_t n = file.ReadAt(offset, out, size);
    if (n < 0) return static_cast<int>(-n);
    if (n == 0) return EIO;
    out += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

int WriteFully(File& file, uint64_t offset, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = file.WriteAt(offset, data);
    if (n < 0) return static_cast<int>(-n);
    if (n == 0) return ENOSPC;
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

ssize_t File::CopyFrom(File&, uint64_t, uint64_t, size_t) {
  return -EOPNOTSUPP;
}

const char* File::Map(uint64_t, int* error) {
  *error = EOPNOTSUPP;
  return nullptr;
}

void UnmapFile(const char* data, uint64_t size) {
  munmap(const_cast<char*>(data), size);
}

FileBytes& FileBytes::operator=(FileBytes&& other) noexcept {
  if (this == &other) return *this;
  Reset();
  mapped_ = std::exchange(other.mapped_, nullptr);
  mapped_size_ = std::exchange(other.mapped_size_, 0);
  text_ = std::move(other.text_);
  other.text_.clear();
  return *this;
}

void FileBytes::Reset() {
  if (mapped_) UnmapFile(mapped_, mapped_size_);
  mapped_ = nullptr;
  mapped_size_ = 0;
  text_ = std::string();
}

namespace {

// The pages wholly inside [from, to) of a mapping of `size` bytes at
// `base`: [begin, end) addresses, begin == end if none.
std::pair<uintptr_t, uintptr_t> InnerPages(const char* base, uint64_t size,
                                           uint64_t from, uint64_t to) {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  to = std::min(to, size);
  from = std::min(from, to);
  const uintptr_t begin =
      (reinterpret_cast<uintptr_t>(base) + from + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(base) + to) / page * page;
  return {begin, std::max(begin, end)};
}

}  // namespace

void FileBytes::Release(uint64_t from, uint64_t to) {
  if (!mapped_) return;
  // Only pages wholly in the range: the one it shares with bytes still
  // wanted stays. The mapping is private and never written: its pages
  // are the page cache's, dropped here and found there again if needed.
  auto [begin, end] = InnerPages(mapped_, mapped_size_, from, to);
  if (begin < end)
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

int CopyFully(File& from, uint64_t from_offset, File& to, uint64_t offset,
              uint64_t size) {
  while (size > 0) {
    ssize_t n = to.CopyFrom(from, from_offset, offset,
                            static_cast<size_t>(std::min<uint64_t>(
                                size, std::numeric_limits<ssize_t>::max())));
    if (n < 0) return static_cast<int>(-n);
    if (n == 0) return EIO;
    size -= static_cast<uint64_t>(n);
    from_offset += static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

int ReadWhole(File& file, std::string* out) {
  // Sized from the file, read in large blocks straight into place: a
  // journal of a million requests is half a gigabyte, read at each start.
  out->clear();
  uint64_t size = 0;
  if (int e = file.Size(&size)) return e;
  constexpr size_t kBlock = 8u << 20;
  out->resize(size);
  uint64_t offset = 0;
  for (;;) {
    if (offset == out->size()) {
      // At the size the file had: one byte tells its end from growth
      // since Size() without growing the buffer (growing it copies all
      // that was read: half a gigabyte, twice the memory at its peak).
      char probe;
      ssize_t n = file.ReadAt(offset, &probe, 1);
      if (n < 0) {
        out->clear();
        return static_cast<int>(-n);
      }
      if (n == 0) break;
      // It grew: the rest in blocks past it.
      out->resize(offset + kBlock);
      (*out)[offset++] = probe;
    }
    size_t want = std::min<uint64_t>(out->size() - offset, kBlock);
    ssize_t n = file.ReadAt(offset, out->data() + offset, want);
    if (n < 0) {
      out->clear();
      return static_cast<int>(-n);
    }
    if (n == 0) break;
    offset += static_cast<uint64_t>(n);
  }
  out->resize(offset);
  return 0;
}

int ReadWhole(File& file, FileBytes* out) {
  *out = FileBytes();
  uint64_t size = 0;
  if (file.Size(&size) == 0 && size > 0) {
    int error = 0;
    if (const char* data = file.Map(size, &error)) {
      // The end of the file where it was when mapped: one byte past it
      // tells (as the read below does). Grown, or anything unusual: the
      // mapping is dropped and the file read, which says what is wrong.
      char probe;
      if (file.ReadAt(size, &probe, 1) == 0) {
        out->mapped_ = data;
        out->mapped_size_ = size;
        return 0;
      }
      UnmapFile(data, size);
    }
  }
  return ReadWhole(file, &out->text_);
}

}  // namespace store
