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
// Thread-safety: spdlog's base_sink with a mutex: any thread may log.
#ifndef SERVER_LOG_SINK_H_
#define SERVER_LOG_SINK_H_

#include <spdlog/sinks/base_sink.h>

#include <mutex>
#include <string>

namespace server {

class BufferedFdSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Writes to `fd` (not owned); holds the lines of the logger named
  // `held_logger`. Past `max_held` bytes they are written.
  BufferedFdSink(int fd, std::string held_logger, size_t max_held = 1 << 20)
      : fd_(fd), held_logger_(std::move(held_logger)), max_held_(max_held) {}
  ~BufferedFdSink() override;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  const int fd_;
  const std::string held_logger_;
  const size_t max_held_;
  spdlog::memory_buf_t buffer_;
};

}  // namespace server

#endif  // SERVER_LOG_SINK_H_
