#include "server/log_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "hsm/hal.h"
#include "server/log_format.h"
#include "server/request_log.h"

namespace server {
namespace {

// A pipe the test reads without blocking.
class Pipe {
 public:
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) {
      read_ = fds[0];
      write_ = fds[1];
    }
  }
  ~Pipe() {
    close(read_);
    close(write_);
  }
  int fd() const { return write_; }
  std::string Read() {
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = read(read_, buffer, sizeof(buffer))) > 0;)
      text.append(buffer, n);
    return text;
  }

 private:
  int read_ = -1, write_ = -1;
};

std::shared_ptr<spdlog::logger> Logger(const std::string& name,
                                       std::shared_ptr<BufferedFdSink> sink) {
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  logger->set_formatter(EscapingLogFormatter(LogTarget::kJournal));
  return logger;
}

// The request log's lines wait for the flush, and go in one write.
TEST(BufferedFdSinkTest, HeldLinesWaitForTheFlush) {
  Pipe out;
  auto logger =
      Logger("request", std::make_shared<BufferedFdSink>(out.fd(), "request"));
  logger->info("one");
  logger->info("two");
  EXPECT_EQ(out.Read(), "");
  logger->flush();
  EXPECT_EQ(out.Read(), "<6>info one\n<6>info two\n");
  logger->flush();
  EXPECT_EQ(out.Read(), "");
}

// Any other line is written at once, with the held ones before it.
TEST(BufferedFdSinkTest, OtherLinesGoAtOnceWithWhatCameBefore) {
  Pipe out;
  auto sink = std::make_shared<BufferedFdSink>(out.fd(), "request");
  auto requests = Logger("request", sink);
  auto server = Logger("coordinatool", sink);
  requests->info("before");
  EXPECT_EQ(out.Read(), "");
  server->info("mover m1 ready");
  EXPECT_EQ(out.Read(), "<6>info before\n<6>info mover m1 ready\n");
  server->debug("not logged");
  EXPECT_EQ(out.Read(), "");
}

TEST(BufferedFdSinkTest, BoundedBuffer) {
  Pipe out;
  auto logger = Logger(
      "request", std::make_shared<BufferedFdSink>(out.fd(), "request", 64));
  for (int i = 0; i < 10; ++i) logger->info("line {}", i);
  const std::string written = out.Read();
  EXPECT_GE(written.size(), 64u);
  EXPECT_EQ(written.substr(0, 14), "<6>info line 0");
  logger->flush();
  EXPECT_EQ(written + out.Read(),
            "<6>info line 0\n<6>info line 1\n<6>info line 2\n<6>info line "
            "3\n<6>info line 4\n<6>info line 5\n<6>info line 6\n<6>info line "
            "7\n<6>info line 8\n<6>info line 9\n");
}

TEST(BufferedFdSinkTest, WrittenWhenDestroyed) {
  Pipe out;
  {
    auto logger = Logger("request",
                         std::make_shared<BufferedFdSink>(out.fd(), "request"));
    logger->info("last words");
  }
  EXPECT_EQ(out.Read(), "<6>info last words\n");
}

// The request log's way in gives the line the logger's path gives, with
// either target's formatter, peer bytes escaped, held until the flush.
TEST(BufferedFdSinkTest, HoldLineIsTheLoggersLine) {
  const auto time = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(int64_t{1'700'000'123'456}));
  const std::string messages[] = {"request sent mover=m1",
                                  std::string("mover=\x01\n\xff"),
                                  std::string("a\nb\0c", 5), ""};
  for (LogTarget target : {LogTarget::kTerminal, LogTarget::kJournal}) {
    Pipe by_logger, by_hold;
    auto logged = std::make_shared<BufferedFdSink>(by_logger.fd(), "request");
    auto held = std::make_shared<BufferedFdSink>(by_hold.fd(), "request");
    spdlog::logger logger("request", logged);
    logger.set_formatter(EscapingLogFormatter(target));
    held->set_formatter(EscapingLogFormatter(target));
    for (const std::string& message : messages) {
      logger.log(time, spdlog::source_loc{}, spdlog::level::info, message);
      EXPECT_TRUE(held->HoldLine(time, message));
    }
    EXPECT_EQ(by_hold.Read(), "");  // held
    logger.flush();
    held->flush();
    const std::string expected = by_logger.Read();
    EXPECT_NE(expected.find("info request sent mover=m1\n"), std::string::npos)
        << expected;
    EXPECT_EQ(by_hold.Read(), expected);
  }
}

// A sink whose formatter is not the server's, or that does not log info,
// takes nothing that way: the caller logs through spdlog.
TEST(BufferedFdSinkTest, HoldLineRefusedWhenItCannotFormatTheLine) {
  Pipe out;
  auto sink = std::make_shared<BufferedFdSink>(out.fd(), "request");
  const auto now = std::chrono::system_clock::now();
  EXPECT_FALSE(sink->HoldLine(now, "default pattern"));
  sink->set_formatter(EscapingLogFormatter(LogTarget::kJournal));
  EXPECT_TRUE(sink->HoldLine(now, "taken"));
  sink->set_pattern("%v");
  EXPECT_FALSE(sink->HoldLine(now, "pattern"));
  sink->set_formatter(EscapingLogFormatter(LogTarget::kJournal));
  sink->set_level(spdlog::level::warn);
  EXPECT_FALSE(sink->HoldLine(now, "below the sink's level"));
  sink->flush();
  EXPECT_EQ(out.Read(), "<6>info taken\n");
}

hsm_action_item RequestItem() {
  hsm_action_item hai{};
  hai.hai_action = HSMA_ARCHIVE;
  hai.hai_cookie = 0x1f;
  hai.hai_fid = hai.hai_dfid = {0x200000401, 0x1f, 0};
  return hai;
}

// The request log on the server's sink: its lines as before (the same
// text as through spdlog's logger, held until the end of the turn), and a
// logger that flushes on info (flush_on) still writes each at once.
TEST(BufferedFdSinkTest, RequestLogLinesStraightIntoTheSink) {
  const hsm_action_item hai = RequestItem();
  const int64_t t = int64_t{1'700'000'123} * 1'000'000'000;
  Pipe reference;
  {
    spdlog::logger logger("reference", std::make_shared<BufferedFdSink>(
                                           reference.fd(), "reference"));
    logger.set_formatter(EscapingLogFormatter(LogTarget::kJournal));
    SetRequestLogger(nullptr);
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(
        std::shared_ptr<spdlog::logger>(&logger, [](spdlog::logger*) {}));
    LogDoneEventAt(t, hai, "m\x01", 0, 12, false);
    LogSentEventAt(t, hai, "m1");
    spdlog::set_default_logger(previous);
    logger.flush();
  }
  const std::string expected = reference.Read();
  ASSERT_NE(expected.find("<6>info request done [0x200000401:0x1f:0x0] "
                          "cookie=0x1f action=ARCHIVE mover=m\\x01 status=0 "
                          "duration_ms=12\n"),
            std::string::npos)
      << expected;

  Pipe out;
  auto sink = std::make_shared<BufferedFdSink>(out.fd(), kRequestLoggerName);
  auto requests = std::make_shared<spdlog::logger>(kRequestLoggerName, sink);
  requests->set_formatter(EscapingLogFormatter(LogTarget::kJournal));
  SetRequestLogger(requests);
  LogDoneEventAt(t, hai, "m\x01", 0, 12, false);
  LogSentEventAt(t, hai, "m1");
  EXPECT_EQ(out.Read(), "");  // held until the turn's flush
  requests->flush();
  EXPECT_EQ(out.Read(), expected);

  requests->flush_on(spdlog::level::info);
  LogSentEventAt(t, hai, "m1");
  EXPECT_EQ(out.Read(), expected.substr(expected.find("<6>info request sent")));
  SetRequestLogger(nullptr);
}

}  // namespace
}  // namespace server
