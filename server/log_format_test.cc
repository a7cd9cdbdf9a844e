#include "server/log_format.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

namespace server {
namespace {

std::string LogOnce(const std::string& id,
                    LogTarget target = LogTarget::kTerminal,
                    spdlog::level::level_enum level = spdlog::level::info) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("test", sink);
  logger.set_level(spdlog::level::trace);
  logger.set_formatter(EscapingLogFormatter(target));
  logger.log(level, "{}: mover {} ready, {} items re-announced",
             "127.0.0.1:4000", id, 0);
  return out.str();
}

// The hand-written formatter writes what spdlog's pattern formatter
// writes: every target, level, time (the milliseconds' zeros, a new
// second) and message, colour range included.
TEST(LogFormatTest, SameLinesAsThePatternFormatter) {
  using Clock = spdlog::log_clock;
  const Clock::time_point base =
      Clock::time_point(std::chrono::seconds(1796000000));
  for (LogTarget target : {LogTarget::kTerminal, LogTarget::kJournal}) {
    auto fast = EscapingLogFormatter(target);
    auto reference = PatternLogFormatter(target);
    for (auto level :
         {spdlog::level::trace, spdlog::level::debug, spdlog::level::info,
          spdlog::level::warn, spdlog::level::err, spdlog::level::critical}) {
      for (auto offset :
           {std::chrono::milliseconds(0), std::chrono::milliseconds(7),
            std::chrono::milliseconds(45), std::chrono::milliseconds(999),
            std::chrono::milliseconds(1000),
            std::chrono::milliseconds(86'400'123)}) {
        for (std::string_view text :
             {std::string_view("request done [0x200000401:0x1:0x0] "
                               "cookie=0x5f action=ARCHIVE mover=m1"),
              std::string_view("peer \n bytes\x1b]0;\x07 caf\xc3\xa9"),
              std::string_view("")}) {
          spdlog::details::log_msg a(base + offset, {}, "request", level, text);
          spdlog::details::log_msg b = a;
          spdlog::memory_buf_t fast_out, reference_out;
          fast->format(a, fast_out);
          reference->format(b, reference_out);
          EXPECT_EQ(fmt::to_string(fast_out), fmt::to_string(reference_out));
          EXPECT_EQ(a.color_range_start, b.color_range_start);
          EXPECT_EQ(a.color_range_end, b.color_range_end);
        }
      }
    }
  }
}

// A mover id (or any peer text) with a newline cannot add a log line.
TEST(LogFormatTest, OneCallIsOneLineWhateverThePeerSent) {
  const std::string line =
      LogOnce("m1\n2026-12-06T00:00:00.000 warn lock and quit");
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_NE(line.find("mover m1\\n2026-12-06T00:00:00.000 warn lock and quit "
                      "ready"),
            std::string::npos)
      << line;
  EXPECT_EQ(LogOnce("\x1b]0;owned\x07").find('\x1b'), std::string::npos);
}

TEST(LogFormatTest, TimeLevelAndPlainMessage) {
  const std::string line = LogOnce("m1");
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} info )"
                       R"(127\.0\.0\.1:4000: mover m1 ready, 0 items )"
                       R"(re-announced\n)")))
      << line;
}

// journald takes the priority from the prefix and stamps the line itself.
TEST(LogFormatTest, JournalLinesCarryThePriorityAndNoTime) {
  EXPECT_EQ(LogOnce("m1", LogTarget::kJournal),
            "<6>info 127.0.0.1:4000: mover m1 ready, 0 items re-announced\n");
  EXPECT_EQ(LogOnce("m1", LogTarget::kJournal, spdlog::level::err).substr(0, 9),
            "<3>error ");
  EXPECT_EQ(
      LogOnce("m1", LogTarget::kJournal, spdlog::level::warn).substr(0, 3),
      "<4>");
  EXPECT_EQ(
      LogOnce("m1", LogTarget::kJournal, spdlog::level::critical).substr(0, 3),
      "<2>");
  EXPECT_EQ(
      LogOnce("m1", LogTarget::kJournal, spdlog::level::debug).substr(0, 3),
      "<7>");
  // Still escaped: a peer cannot forge a line, nor its priority.
  const std::string line =
      LogOnce("m1\n<0>emergency", LogTarget::kJournal, spdlog::level::info);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_NE(line.find("mover m1\\n<0>emergency ready"), std::string::npos)
      << line;
}

TEST(LogFormatTest, JournalStreamMustNameStderr) {
  EXPECT_TRUE(IsJournalStream("8:12345", 8, 12345));
  EXPECT_FALSE(IsJournalStream(nullptr, 8, 12345));
  EXPECT_FALSE(IsJournalStream("", 8, 12345));
  EXPECT_FALSE(IsJournalStream("8:12346", 8, 12345));  // stderr redirected
  EXPECT_FALSE(IsJournalStream("9:12345", 8, 12345));
  EXPECT_FALSE(IsJournalStream("8:12345x", 8, 12345));
  EXPECT_FALSE(IsJournalStream("8", 8, 12345));
}

}  // namespace
}  // namespace server
