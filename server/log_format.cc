#include "server/log_format.h"

#include <spdlog/pattern_formatter.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

#include "common/escape.h"

namespace server {

namespace {

void AppendEscaped(std::string_view text, spdlog::memory_buf_t& dest) {
  if (common::IsPrintable(text)) {
    dest.append(text.data(), text.data() + text.size());
    return;
  }
  const std::string escaped = common::Escape(text);
  dest.append(escaped.data(), escaped.data() + escaped.size());
}

// The sd-daemon priority of the level, "<0>" to "<7>" (syslog's).
std::string_view JournalPrefix(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return "<2>";  // SD_CRIT
    case spdlog::level::err:
      return "<3>";  // SD_ERR
    case spdlog::level::warn:
      return "<4>";  // SD_WARNING
    case spdlog::level::info:
      return "<6>";  // SD_INFO
    default:
      return "<7>";  // SD_DEBUG: debug and trace
  }
}

// %* : the message, escaped.
class EscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    AppendEscaped(std::string_view(msg.payload.data(), msg.payload.size()),
                  dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessage>();
  }
};

// %& : the sd-daemon priority of the level, "<0>" to "<7>" (syslog's).
class JournalPriority : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string_view prefix = JournalPrefix(msg.level);
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriority>();
  }
};

}  // namespace

// What PatternLogFormatter writes, without its general machinery: the
// time's text is made once per second, the rest appended.
void LineFormatter::format(const spdlog::details::log_msg& msg,
                           spdlog::memory_buf_t& dest) {
  size_t color_start = 0, color_end = 0;
  FormatLine(msg.time, msg.level,
             std::string_view(msg.payload.data(), msg.payload.size()), dest,
             &color_start, &color_end);
  if (target_ == LogTarget::kTerminal) {
    msg.color_range_start = color_start;
    msg.color_range_end = color_end;
  }
}

void LineFormatter::FormatLine(std::chrono::system_clock::time_point time,
                               spdlog::level::level_enum level,
                               std::string_view message,
                               spdlog::memory_buf_t& dest, size_t* color_start,
                               size_t* color_end) {
  if (target_ == LogTarget::kJournal) {
    const std::string_view prefix = JournalPrefix(level);
    dest.append(prefix.data(), prefix.data() + prefix.size());
  } else {
    const auto since_epoch = time.time_since_epoch();
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    if (seconds != cached_second_) {
      cached_second_ = seconds;
      const std::time_t t = seconds.count();
      std::tm tm{};
      localtime_r(&t, &tm);
      cached_length_ =
          std::strftime(cached_, sizeof(cached_), "%Y-%m-%dT%H:%M:%S.", &tm);
    }
    dest.append(cached_, cached_ + cached_length_);
    const auto ms = static_cast<unsigned>(
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch -
                                                              seconds)
            .count());
    const char millis[3] = {static_cast<char>('0' + ms / 100),
                            static_cast<char>('0' + ms / 10 % 10),
                            static_cast<char>('0' + ms % 10)};
    dest.append(millis, millis + 3);
    dest.push_back(' ');
  }
  // %^%l%$ (the level, the colour range of a colour sink); the journal's
  // lines have no colour.
  *color_start = dest.size();
  const auto level_name = spdlog::level::to_string_view(level);
  dest.append(level_name.data(), level_name.data() + level_name.size());
  *color_end = dest.size();
  dest.push_back(' ');
  AppendEscaped(message, dest);
  const std::string_view eol = spdlog::details::os::default_eol;
  dest.append(eol.data(), eol.data() + eol.size());
}

std::unique_ptr<spdlog::formatter> LineFormatter::clone() const {
  return std::make_unique<LineFormatter>(target_);
}

std::unique_ptr<spdlog::formatter> EscapingLogFormatter(LogTarget target) {
  return std::make_unique<LineFormatter>(target);
}

std::unique_ptr<spdlog::formatter> PatternLogFormatter(LogTarget target) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<EscapedMessage>('*');
  if (target == LogTarget::kJournal) {
    formatter->add_flag<JournalPriority>('&').set_pattern("%&%l %*");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %*");
  }
  return formatter;
}

bool IsJournalStream(const char* journal_stream, dev_t stderr_dev,
                     ino_t stderr_ino) {
  if (journal_stream == nullptr) return false;
  uintmax_t dev = 0, ino = 0;
  int end = 0;
  if (std::sscanf(journal_stream, "%ju:%ju%n", &dev, &ino, &end) != 2 ||
      journal_stream[end] != '\0')
    return false;
  return dev == static_cast<uintmax_t>(stderr_dev) &&
         ino == static_cast<uintmax_t>(stderr_ino);
}

LogTarget LogTargetOfStderr() {
  const char* journal_stream = std::getenv("JOURNAL_STREAM");
  struct stat st;
  if (journal_stream == nullptr || fstat(STDERR_FILENO, &st) != 0)
    return LogTarget::kTerminal;
  return IsJournalStream(journal_stream, st.st_dev, st.st_ino)
             ? LogTarget::kJournal
             : LogTarget::kTerminal;
}

}  // namespace server
