// Helpers for the liblustreapi unit tests: temporary directories that look
// like simulated mounts (no daemon behind them) and capture of llapi's
// messages.
#ifndef SIM_LLAPI_TEST_UTIL_H_
#define SIM_LLAPI_TEST_UTIL_H_

#include <lustre/lustreapi.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace sim::llapi::testing {

// A fresh directory under TMPDIR, removed with its contents at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "llapi_test.XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A directory with .lustre/fsname and .lustre/fid, as the daemon leaves a
// mount, but no daemon: RPCs find no socket.
class FakeMount : public TempDir {
 public:
  explicit FakeMount(const std::string& fsname = "testfs") {
    std::filesystem::create_directories(path() + "/.lustre/fid");
    std::ofstream(path() + "/.lustre/fsname") << fsname << "\n";
  }
};

// Sets an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_.c_str(), old_.c_str(), 1);
    else
      unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

// Captures llapi_error() messages through the error callback.
struct LoggedMessage {
  int level;
  int err;
  std::string text;
};

class ErrorCapture {
 public:
  ErrorCapture() { old_ = llapi_error_callback_set(&Callback); }
  ~ErrorCapture() {
    llapi_error_callback_set(old_);
    messages().clear();
  }
  static std::vector<LoggedMessage>& messages() {
    static std::vector<LoggedMessage> m;
    return m;
  }

 private:
  static void Callback(enum llapi_message_level level, int err, const char* fmt,
                       va_list ap) {
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    messages().push_back({static_cast<int>(level), err, buf});
  }
  llapi_log_callback_t old_;
};

}  // namespace sim::llapi::testing

#endif  // SIM_LLAPI_TEST_UTIL_H_
