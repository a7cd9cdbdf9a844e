// The server's log line format: time, level, and the message escaped
// (common/escape.h). Messages carry what peers chose (mover ids, error
// texts, hsm data, parse errors quoting their bytes); escaping the whole
// message in the formatter, rather than at each call, leaves no call that
// can forget it: one log call is one line, whatever a peer sent.
//
// Under systemd, with stderr connected to the journal, each line starts
// with its sd-daemon priority ("<3>" for an error, sd-daemon(3)) so that
// journald files it at that priority, and carries no time of its own (the
// journal stamps every line).
//
// Thread-safety: the formatter is spdlog's, used under its sink's lock.
#ifndef SERVER_LOG_FORMAT_H_
#define SERVER_LOG_FORMAT_H_

#include <spdlog/formatter.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string_view>

namespace server {

enum class LogTarget {
  kTerminal,  // "2026-12-06T17:45:00.123 info <escaped message>"
  kJournal,   // "<6>info <escaped message>"
};

// The server's formatter (what EscapingLogFormatter returns): the level
// coloured on a colour sink. Written by hand, not by spdlog's pattern
// formatter: at one line per request event its per-field calls were a
// tenth of the server's time per request.
class LineFormatter : public spdlog::formatter {
 public:
  explicit LineFormatter(LogTarget target) : target_(target) {}

  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

  // The same line from its parts, without a log_msg (the request log's
  // own path, server/log_sink.h); the level's range in `dest` is set in
  // *color_start and *color_end.
  void FormatLine(std::chrono::system_clock::time_point time,
                  spdlog::level::level_enum level, std::string_view message,
                  spdlog::memory_buf_t& dest, size_t* color_start,
                  size_t* color_end);

 private:
  const LogTarget target_;
  // The time's text up to the second, made once per second.
  std::chrono::seconds cached_second_{-1};
  char cached_[64] = {};
  size_t cached_length_ = 0;
};

std::unique_ptr<spdlog::formatter> EscapingLogFormatter(
    LogTarget target = LogTarget::kTerminal);
// The same lines through spdlog's pattern formatter (the reference the
// tests compare EscapingLogFormatter with).
std::unique_ptr<spdlog::formatter> PatternLogFormatter(
    LogTarget target = LogTarget::kTerminal);

// Whether stderr is the journal: JOURNAL_STREAM ("DEVICE:INODE", set by
// systemd for a service whose output goes to the journal) names the
// device and inode of stderr. A child of the service that inherits the
// variable with its stderr sent elsewhere does not match.
bool IsJournalStream(const char* journal_stream, dev_t stderr_dev,
                     ino_t stderr_ino);

// The target for this process: kJournal when IsJournalStream holds for
// the environment's JOURNAL_STREAM and the actual stderr.
LogTarget LogTargetOfStderr();

}  // namespace server

#endif  // SERVER_LOG_FORMAT_H_
