#include "server/log_format.h"

#include <spdlog/pattern_formatter.h>

#include <string>
#include <string_view>

#include "common/escape.h"

namespace server {

namespace {

// %* : the message, escaped.
class EscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (common::IsPrintable(text)) {
      dest.append(text.data(), text.data() + text.size());
      return;
    }
    const std::string escaped = common::Escape(text);
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessage>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> EscapingLogFormatter() {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<EscapedMessage>('*').set_pattern(
      "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %*");
  return formatter;
}

}  // namespace server
