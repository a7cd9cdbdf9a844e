// Env: the file and directory operations the embedded journal needs, behind
// a small interface (as leveldb's Env), so that tests can make any of them
// fail: a disk that fills up, an I/O error on a write or on a sync, a write
// cut short. PosixEnv() is the real thing; store/fault_env.h wraps it with
// faults for tests.
//
// Errors are errno values: 0 is success. Short reads and writes are not
// retried here (the caller loops), so that a fault can cut one short.
//
// Thread-safety: a File is used by one thread at a time; an Env may be used
// from several.
#ifndef STORE_ENV_H_
#define STORE_ENV_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace store {

class File {
 public:
  virtual ~File() = default;
  // Bytes read at `offset` (0 at the end of the file), or -errno.
  virtual ssize_t ReadAt(uint64_t offset, char* out, size_t size) = 0;
  // Bytes written at `offset` (possibly fewer than `data`), or -errno.
  virtual ssize_t WriteAt(uint64_t offset, std::string_view data) = 0;
  // Copies `size` bytes at `from_offset` of `from` to `offset` of this file
  // inside the kernel (copy_file_range(2)): the bytes are not copied into
  // the process and out again. Bytes copied (possibly fewer; 0 at the end
  // of `from`), or -errno; -EOPNOTSUPP when these two files cannot be
  // copied that way (the caller reads and writes instead), which is what a
  // File that does not override this says.
  virtual ssize_t CopyFrom(File& from, uint64_t from_offset, uint64_t offset,
                           size_t size);
  // fdatasync: what was written is on disk. 0 or errno.
  virtual int Sync() = 0;
  virtual int Truncate(uint64_t size) = 0;
  virtual int Size(uint64_t* size) = 0;
  // The first `size` bytes (not 0) mapped read-only in memory, private to
  // the process, every page read in now (MADV_POPULATE_READ): an I/O
  // error is returned here, never met later as a SIGBUS. Returns the
  // address or nullptr with *error set; EOPNOTSUPP (what a File that does
  // not override this says) when the file cannot be mapped so: the caller
  // reads it instead. Unmap with UnmapFile().
  virtual const char* Map(uint64_t size, int* error);
};

// Undoes File::Map.
void UnmapFile(const char* data, uint64_t size);

// The bytes of a file, read whole: mapped from the page cache when the
// file can be mapped (no copy, no zero-filled buffer, no second half
// gigabyte for a large journal), else held in a string. Move-only; what
// it maps is unmapped with it.
class FileBytes {
 public:
  FileBytes() = default;
  // Bytes held in memory (a journal written afresh, a file read).
  FileBytes(std::string text)  // NOLINT: a string is such bytes
      : text_(std::move(text)) {}
  FileBytes(FileBytes&& other) noexcept { *this = std::move(other); }
  FileBytes& operator=(FileBytes&& other) noexcept;
  ~FileBytes() { Reset(); }

  std::string_view view() const {
    return mapped_ ? std::string_view(mapped_, mapped_size_) : text_;
  }
  size_t size() const { return view().size(); }
  bool empty() const { return size() == 0; }
  bool mapped() const { return mapped_ != nullptr; }
  // Says the bytes of [from, to) will not be read again: a mapping gives
  // their pages back (held bytes stay). What a long read front to back
  // calls behind itself, so that the file is not all in memory at once.
  // Pages given back would be read from the file again if touched, where
  // an I/O error is a SIGBUS: do not read them again.
  void Release(uint64_t from, uint64_t to);

 private:
  friend int ReadWhole(File& file, FileBytes* out);
  void Reset();
  const char* mapped_ = nullptr;
  uint64_t mapped_size_ = 0;
  std::string text_;
};

class Env {
 public:
  enum class Mode {
    kReadWrite,  // created if missing, kept otherwise
    kTruncate,   // created if missing, emptied otherwise
    kReadOnly,
  };
  virtual ~Env() = default;
  virtual int Open(const std::string& path, Mode mode,
                   std::unique_ptr<File>* file) = 0;
  // Creates `dir` and its parents (mode 0700) if missing.
  virtual int MakeDirs(const std::string& dir) = 0;
  // Takes an exclusive lock on `path` (created if missing) for as long as
  // *lock lives. EWOULDBLOCK if another process holds it.
  virtual int Lock(const std::string& path, std::unique_ptr<File>* lock) = 0;
  virtual int Rename(const std::string& from, const std::string& to) = 0;
  // A second name for the file `from` (a hard link).
  virtual int Link(const std::string& from, const std::string& to) = 0;
  virtual int Remove(const std::string& path) = 0;
  // Makes the directory's entries (renames, creations) durable.
  virtual int SyncDir(const std::string& dir) = 0;
};

// The process-wide POSIX implementation.
Env* PosixEnv();

// Helpers looping over short transfers; 0 or errno (EIO for a read that
// ends early, ENOSPC for a write that makes no progress).
int ReadFully(File& file, uint64_t offset, char* out, size_t size);
int WriteFully(File& file, uint64_t offset, std::string_view data);
// File::CopyFrom until `size` bytes are copied: 0, EOPNOTSUPP (nothing or
// only part copied: read and write them instead), or errno (EIO when
// `from` ends early).
int CopyFully(File& from, uint64_t from_offset, File& to, uint64_t offset,
              uint64_t size);
// The whole file.
int ReadWhole(File& file, std::string* out);
// The same, mapped when File::Map can (else read as above). A file that
// grows while it is mapped is read instead: the bytes are the file's at
// one moment, as the read's are.
int ReadWhole(File& file, FileBytes* out);

}  // namespace store

#endif  // STORE_ENV_H_
