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
// The FIFO was made by register (unregister removes only such a one).
bool g_created_fifo = false;  // GUARDED_BY(g_event_mu)

// Lustre's llapi_msg_level2str(): the level's name, nullptr beyond
// LLAPI_MSG_DEBUG.
const char* LevelName(int level) {
  static const char* const kNames[] = {"OFF",    "FATAL", "ERROR", "WARNING",
                                       "NORMAL", "INFO",  "DEBUG"};
  if (level < 0 || level >= LLAPI_MSG_MAX) return nullptr;
  return kNames[level];
}

// Lustre's event_time: local time as "%Y-%m-%d %T %z".
std::string EventTime() {
  time_t now = time(nullptr);
  struct tm parts;
  localtime_r(&now, &parts);
  char text[40];
  if (strftime(text, sizeof(text), "%Y-%m-%d %T %z", &parts) == 0) return "";
  return text;
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
  // Lustre's escaping (liblustreapi_json.c) writes two backslashes before
  // the letter of \b \f \n \r \t and four for a backslash, so a reader
  // decodes "\\n", not a newline: kept, as it is valid JSON. Its quote
  // escape ends the string early (invalid JSON) and it leaves other control
  // characters raw: there the simulator writes valid JSON instead.
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '\b':
        *out += "\\\\b";
        break;
      case '\f':
        *out += "\\\\f";
        break;
      case '\n':
        *out += "\\\\n";
        break;
      case '\r':
        *out += "\\\\r";
        break;
      case '\t':
        *out += "\\\\t";
        break;
      case '\\':
        *out += "\\\\\\\\";
        break;
      case '"':
        *out += "\\\\\\\"";
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

JsonObject& JsonObject::Append(const JsonObject& other) {
  if (!other.body_.empty()) {
    if (!body_.empty()) body_ += ", ";
    body_ += other.body_;
  }
  return *this;
}

bool EventsEnabled() {
  std::lock_guard lock(g_event_mu);
  return g_event_fd >= 0;
}

void WriteEvent(JsonObject event) {
  int saved_errno = errno;
  // Lustre adds event_time last to a list it writes backwards: it comes
  // first.
  JsonObject line;
  line.Add("event_time", EventTime()).Append(event);
  std::string text = line.str() + "\n";
  {
    std::lock_guard lock(g_event_mu);
    if (g_event_fd >= 0) WriteNoSigpipe(g_event_fd, text);
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
  // As Lustre: create the FIFO (mode 0644) unless it exists; an existing
  // path must be a FIFO of mode 0644. Only a FIFO created here is removed
  // by unregister.
  if (path == nullptr) return -EINVAL;
  bool created = true;
  if (mkfifo(path, 0644) < 0) {
    int rc = -errno;
    if (rc != -EEXIST) {
      llapi_error(LLAPI_MSG_ERROR, rc, "mkfifo(%s) failed", path);
      return rc;
    }
    created = false;
    struct stat st;
    if (stat(path, &st) < 0) {
      rc = -errno;
      llapi_error(LLAPI_MSG_ERROR, rc, "mkfifo(%s) failed", path);
      return rc;
    }
    if (!S_ISFIFO(st.st_mode) || (st.st_mode & 0777) != 0644) {
      llapi_error(LLAPI_MSG_ERROR, EEXIST,
                  "%s exists but is not a pipe or has a wrong mode", path);
      return -EEXIST;
    }
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
  {
    std::lock_guard lock(sim::llapi::g_event_mu);
    if (sim::llapi::g_event_fd >= 0) close(sim::llapi::g_event_fd);
    sim::llapi::g_event_fd = fd;
    sim::llapi::g_created_fifo = created;
  }
  // Lustre ignores SIGPIPE in the whole process from here on (a reader
  // that goes away); copytools may rely on it.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
  return 0;
}

int llapi_hsm_unregister_event_fifo(const char* path) {
  std::lock_guard lock(sim::llapi::g_event_mu);
  if (sim::llapi::g_event_fd < 0) return 0;  // never registered: a no-op
  if (close(sim::llapi::g_event_fd) < 0) return -errno;
  if (sim::llapi::g_created_fifo && path != nullptr) unlink(path);
  sim::llapi::g_created_fifo = false;
  sim::llapi::g_event_fd = -1;
  return 0;
}

void llapi_hsm_log_error(enum llapi_message_level level, int _rc,
                         const char* fmt, va_list args) {
  // As Lustre: with an event FIFO registered, the message becomes a
  // LOGGED_MESSAGE event there and nothing else (no stderr line); without
  // one it goes nowhere.
  int saved_errno = errno;
  if (!sim::llapi::EventsEnabled()) return;
  const int bits = sim::llapi::Bits(level);
  const char* name = sim::llapi::LevelName(bits & ~LLAPI_MSG_NO_ERRNO);
  if (name == nullptr) {
    // Lustre's own complaint, when the level has no name.
    fprintf(stderr, "\nFATAL ERROR IN llapi_hsm_log_error(): rc %d,", -EINVAL);
    errno = saved_errno;
    return;
  }
  va_list copy;
  va_copy(copy, args);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  int len = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string message = "INTERNAL ERROR: message failed";
  if (len >= 0) {
    message.assign(static_cast<size_t>(len) + 1, '\0');
    vsnprintf(message.data(), message.size(), fmt, args);
    message.resize(static_cast<size_t>(len));
  }
#pragma GCC diagnostic pop
  // Keys in Lustre's order: it prepends each one to the list it writes.
  sim::llapi::JsonObject event;
  event.Add("event_type", "LOGGED_MESSAGE")
      .Add("level", name)
      .Add("message", message);
  if (!(bits & LLAPI_MSG_NO_ERRNO)) {
    event.Add("error", strerror(abs(_rc)))
        .Add("errno", static_cast<int64_t>(_rc));
  }
  sim::llapi::WriteEvent(std::move(event));
  errno = saved_errno;
}

}  // extern "C"
