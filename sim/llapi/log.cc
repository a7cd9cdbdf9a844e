// Messages (llapi_error, llapi_printf and their callbacks) and the HSM event
// FIFO, with Lustre's formats (docs/lustre.md, helpers copytools use).
#include "sim/llapi/api.h"
// (api.h first: it gives the llapi_* declarations default visibility.)
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>

#include "sim/llapi/log.h"

namespace sim::llapi {
namespace {

std::atomic<int> g_msg_level{LLAPI_MSG_MAX};

// The level with its flag bits. Lustre's llapi_err_noerrno() ors
// LLAPI_MSG_NO_ERRNO (0x10) into the level, beyond the values of the enum
// (0..7): loading such a value as the enum is undefined in C++ (clang's
// UBSan reports it), so its bits are read as an int.
int Bits(const enum llapi_message_level& level) {
  int bits;
  static_assert(sizeof(bits) == sizeof(level));
  memcpy(&bits, &level, sizeof(bits));
  return bits;
}

void ErrorCallbackDefault(enum llapi_message_level level, int err,
                          const char* fmt, va_list ap) {
  size_t len = strlen(fmt);
  bool has_nl = len > 0 && fmt[len - 1] == '\n';
  fprintf(stderr, "%s: ", program_invocation_short_name);
  if (Bits(level) & LLAPI_MSG_NO_ERRNO) {
    vfprintf(stderr, fmt, ap);
    if (!has_nl) fputc('\n', stderr);
    return;
  }
  // Strip one trailing newline so the errno text lands on the same line.
  std::string trimmed(fmt, has_nl ? len - 1 : len);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  vfprintf(stderr, trimmed.c_str(), ap);
#pragma GCC diagnostic pop
  fprintf(stderr, ": %s (%d)\n", strerror(err), err);
}

void InfoCallbackDefault(enum llapi_message_level, int, const char* fmt,
                         va_list ap) {
  vfprintf(stdout, fmt, ap);
}

std::atomic<llapi_log_callback_t> g_error_cb{ErrorCallbackDefault};
std::atomic<llapi_log_callback_t> g_info_cb{InfoCallbackDefault};

// The event FIFO. g_event_mu guards g_event_fd's use for writes, so one
// event line is never interleaved with another.
std::mutex g_event_mu;
int g_event_fd = -1;  // GUARDED_BY(g_event_mu)

const char* LevelName(int level) {
  switch (level & LLAPI_MSG_MASK) {
    case LLAPI_MSG_OFF:
      return "off";
    case LLAPI_MSG_FATAL:
      return "fatal";
    case LLAPI_MSG_ERROR:
      return "error";
    case LLAPI_MSG_WARN:
      return "warning";
    case LLAPI_MSG_NORMAL:
      return "normal";
    case LLAPI_MSG_INFO:
      return "info";
    case LLAPI_MSG_DEBUG:
      return "debug";
    default:
      return "max";
  }
}

// write() that turns a vanished reader into EPIPE without delivering
// SIGPIPE to the process: SIGPIPE is blocked in this thread for the write and
// a pending one is consumed.
void WriteNoSigpipe(int fd, const std::string& line) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n;
  do {
    n = write(fd, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EPIPE && !sigismember(&old_set, SIGPIPE)) {
    timespec zero{};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20)
          *out += fmt::format("\\u{:04x}", c);
        else
          out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

void JsonObject::Key(std::string_view key) {
  if (!body_.empty()) body_ += ", ";
  AppendJsonString(key, &body_);
  body_ += ": ";
}

JsonObject& JsonObject::Add(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(value, &body_);
  return *this;
}

JsonObject& JsonObject::Add(std::string_view key, int64_t value) {
  Key(key);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::AddUnsigned(std::string_view key, uint64_t value) {
  Key(key);
  body_ += std::to_string(value);
  return *this;
}

bool EventsEnabled() {
  std::lock_guard lock(g_event_mu);
  return g_event_fd >= 0;
}

void WriteEvent(JsonObject event) {
  int saved_errno = errno;
  event.Add("event_time", static_cast<int64_t>(time(nullptr)));
  std::string line = event.str() + "\n";
  {
    std::lock_guard lock(g_event_mu);
    if (g_event_fd >= 0) WriteNoSigpipe(g_event_fd, line);
  }
  errno = saved_errno;
}

}  // namespace sim::llapi

using sim::llapi::g_error_cb;
using sim::llapi::g_info_cb;
using sim::llapi::g_msg_level;

extern "C" {

void llapi_msg_set_level(int level) {
  if (level < LLAPI_MSG_OFF) level = LLAPI_MSG_OFF;
  if (level > LLAPI_MSG_MAX) level = LLAPI_MSG_MAX;
  g_msg_level.store(level);
}

int llapi_msg_get_level(void) { return g_msg_level.load(); }

llapi_log_callback_t llapi_error_callback_set(llapi_log_callback_t cb) {
  return g_error_cb.exchange(cb ? cb : sim::llapi::ErrorCallbackDefault);
}

llapi_log_callback_t llapi_info_callback_set(llapi_log_callback_t cb) {
  return g_info_cb.exchange(cb ? cb : sim::llapi::InfoCallbackDefault);
}

void llapi_error(enum llapi_message_level level, int err, const char* fmt,
                 ...) {
  int saved_errno = errno;
  const int bits = sim::llapi::Bits(level);
  if ((bits & LLAPI_MSG_MASK) > g_msg_level.load()) return;
  va_list args;
  va_start(args, fmt);
  g_error_cb.load()(static_cast<enum llapi_message_level>(bits), abs(err), fmt,
                    args);
  va_end(args);
  errno = saved_errno;
}

void llapi_printf(enum llapi_message_level level, const char* fmt, ...) {
  int saved_errno = errno;
  const int bits = sim::llapi::Bits(level);
  if ((bits & LLAPI_MSG_MASK) > g_msg_level.load()) return;
  va_list args;
  va_start(args, fmt);
  g_info_cb.load()(static_cast<enum llapi_message_level>(bits), 0, fmt, args);
  va_end(args);
  errno = saved_errno;
}

int llapi_hsm_register_event_fifo(const char* path) {
  if (path == nullptr) return -EINVAL;
  if (mkfifo(path, 0644) < 0 && errno != EEXIST) {
    int rc = -errno;
    llapi_error(LLAPI_MSG_ERROR, rc, "mkfifo(%s) failed", path);
    return rc;
  }
  // Open a reader first so the non-blocking writer open succeeds, then drop
  // it: a monitoring process opens its own. Events with no reader are lost.
  int read_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (read_fd < 0) {
    int rc = -errno;
    llapi_error(LLAPI_MSG_ERROR, rc, "cannot open(%s) for read", path);
    return rc;
  }
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  int rc = fd < 0 ? -errno : 0;
  close(read_fd);
  if (fd < 0) {
    llapi_error(LLAPI_MSG_ERROR, rc, "cannot open(%s) for write", path);
    return rc;
  }
  std::lock_guard lock(sim::llapi::g_event_mu);
  if (sim::llapi::g_event_fd >= 0) close(sim::llapi::g_event_fd);
  sim::llapi::g_event_fd = fd;
  return 0;
}

int llapi_hsm_unregister_event_fifo(const char* path) {
  if (path == nullptr) return -EINVAL;
  {
    std::lock_guard lock(sim::llapi::g_event_mu);
    if (sim::llapi::g_event_fd < 0) return -EINVAL;
    if (close(sim::llapi::g_event_fd) < 0) {
      sim::llapi::g_event_fd = -1;
      return -errno;
    }
    sim::llapi::g_event_fd = -1;
  }
  unlink(path);
  return 0;
}

void llapi_hsm_log_error(enum llapi_message_level level, int _rc,
                         const char* fmt, va_list args) {
  // Like Lustre: the message goes to stderr as usual, and to the event FIFO
  // as a LOGGED_MESSAGE event.
  int saved_errno = errno;
  va_list copy;
  va_copy(copy, args);
  const int bits = sim::llapi::Bits(level);
  sim::llapi::ErrorCallbackDefault(static_cast<enum llapi_message_level>(bits),
                                   _rc, fmt, copy);
  va_end(copy);
  if (sim::llapi::EventsEnabled()) {
    char message[4096];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(message, sizeof(message), fmt, args);
#pragma GCC diagnostic pop
    std::string text = message;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (!(bits & LLAPI_MSG_NO_ERRNO) && _rc != 0)
      text += fmt::format(": {} ({})", strerror(abs(_rc)), abs(_rc));
    sim::llapi::JsonObject event;
    event.Add("event_type", "LOGGED_MESSAGE")
        .Add("level", sim::llapi::LevelName(bits))
        .Add("message", text);
    sim::llapi::WriteEvent(std::move(event));
  }
  errno = saved_errno;
}

}  // extern "C"
