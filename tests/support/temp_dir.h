// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its
// contents on destruction unless KEEP_TEST_DIRS is set in the environment.
//
// Thread-compatible.
#ifndef TESTS_SUPPORT_TEMP_DIR_H_
#define TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace testing_support {

class TempDir {
 public:
  // `prefix` starts the directory's name. Aborts the test binary if the
  // directory cannot be created (nothing useful can run without it).
  explicit TempDir(const std::string& prefix = "coordinatool");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace testing_support

#endif  // TESTS_SUPPORT_TEMP_DIR_H_
