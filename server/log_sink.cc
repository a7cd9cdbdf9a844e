#include "server/log_sink.h"

#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace server {

BufferedFdSink::~BufferedFdSink() {
  std::lock_guard<std::mutex> lock(mutex_);
  flush_();
}

void BufferedFdSink::sink_it_(const spdlog::details::log_msg& msg) {
  // Formatted where it is held: no line copied twice.
  formatter_->format(msg, buffer_);
  const std::string_view name(msg.logger_name.data(), msg.logger_name.size());
  if (name != held_logger_ || buffer_.size() >= max_held_) flush_();
}

bool BufferedFdSink::HoldLine(std::chrono::system_clock::time_point time,
                              std::string_view message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (line_formatter_ == nullptr || !should_log(spdlog::level::info))
    return false;
  size_t color_start = 0, color_end = 0;
  line_formatter_->FormatLine(time, spdlog::level::info, message, buffer_,
                              &color_start, &color_end);
  if (buffer_.size() >= max_held_) flush_();
  return true;
}

void BufferedFdSink::set_formatter_(
    std::unique_ptr<spdlog::formatter> formatter) {
  line_formatter_ = dynamic_cast<LineFormatter*>(formatter.get());
  formatter_ = std::move(formatter);
}

void BufferedFdSink::flush_() {
  size_t written = 0;
  while (written < buffer_.size()) {
    ssize_t n = write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // nowhere to log to: dropped, as spdlog does
    written += static_cast<size_t>(n);
  }
  buffer_.clear();
}

}  // namespace server
