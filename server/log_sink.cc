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
