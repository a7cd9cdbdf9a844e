// BufferedFdSink: the server's log sink when stderr is not a terminal (a
// file, a pipe, the journal). spdlog's stderr sinks write and flush each
// line: one write(2) per line, which at one line per request event made
// the request log cost several times the server's own work per request
// (docs/performance.md, "Request log"). This sink holds the lines of one
// logger, the request log's (server/request_log.h), and writes them in one
// write(2) at flush(): the server flushes at the end of each turn of its
// event loop (a burst handled in one turn is one write), and every second.
// Any other line is written at once, with the held lines before it (order
// kept): every other message is where it was when the server acted on it,
// as before.
//
// What a crash can lose: request lines of the turn it interrupts, never
// another line.
//
// HoldLine is the request log's own way in (server/request_log.cc): the
// line formatted straight into the held buffer, without spdlog's logger
// path (its message record, the logger's and sink's dispatch), which was a
// tenth of the server's time per request. Held and written as any other
// request line: the same text, the same flushes.
//
// Thread-safety: spdlog's base_sink with a mutex: any thread may log.
#ifndef SERVER_LOG_SINK_H_
#define SERVER_LOG_SINK_H_

#include <spdlog/sinks/base_sink.h>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "server/log_format.h"

namespace server {

class BufferedFdSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Writes to `fd` (not owned); holds the lines of the logger named
  // `held_logger`. Past `max_held` bytes they are written.
  BufferedFdSink(int fd, std::string held_logger, size_t max_held = 1 << 20)
      : fd_(fd), held_logger_(std::move(held_logger)), max_held_(max_held) {}
  ~BufferedFdSink() override;

  const std::string& held_logger() const { return held_logger_; }

  // An info line of the held logger, stamped `time`, formatted and held
  // as the logger's own lines are. False, and nothing done, when this sink
  // cannot: its formatter is not the server's LineFormatter (only that one
  // has a way in without a log_msg), or it does not log info; the caller
  // logs through spdlog then.
  bool HoldLine(std::chrono::system_clock::time_point time,
                std::string_view message);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;
  // Notes whether the new formatter is a LineFormatter (HoldLine); a
  // pattern set comes here too.
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  const int fd_;
  const std::string held_logger_;
  const size_t max_held_;
  spdlog::memory_buf_t buffer_;
  LineFormatter* line_formatter_ = nullptr;  // formatter_, or nullptr
};

}  // namespace server

#endif  // SERVER_LOG_SINK_H_
