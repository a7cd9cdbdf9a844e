#include "server/log_format.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

namespace server {
namespace {

std::string LogOnce(const std::string& id) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("test", sink);
  logger.set_formatter(EscapingLogFormatter());
  logger.info("{}: mover {} ready, {} items re-announced", "127.0.0.1:4000", id,
              0);
  return out.str();
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

}  // namespace
}  // namespace server
