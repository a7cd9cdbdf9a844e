// Helpers shared by the fuzz targets: a property check that aborts (so
// libFuzzer records the input as a crash) and a scratch directory.
#ifndef FUZZ_FUZZ_UTIL_H_
#define FUZZ_FUZZ_UTIL_H_

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

// Aborts with the failed property: a crash for libFuzzer, kept as a
// reproducer.
#define FUZZ_CHECK(cond)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
              #cond);                                                     \
      abort();                                                            \
    }                                                                     \
  } while (0)

namespace fuzz {

// A directory in memory (/dev/shm: the targets fsync) or under $TMPDIR,
// removed with its contents at exit unless FUZZ_KEEP_SCRATCH is set (to
// look at what a run left, e.g. the journal a simulator request wrote).
class ScratchDir {
 public:
  ScratchDir() {
    std::filesystem::path base = access("/dev/shm", W_OK) == 0
                                     ? std::filesystem::path("/dev/shm")
                                     : std::filesystem::temp_directory_path();
    std::string tmpl = (base / "coordinatool-fuzz-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    if (getenv("FUZZ_KEEP_SCRATCH")) {
      fprintf(stderr, "scratch directory kept: %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Replaces `path` with `bytes`; aborts on failure (the machine, not the
// input, is at fault).
inline void WriteFile(const std::string& path, std::string_view bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) abort();
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) abort();
    done += static_cast<size_t>(n);
  }
  close(fd);
}

}  // namespace fuzz

#endif  // FUZZ_FUZZ_UTIL_H_
