#include "server/log_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "server/log_format.h"

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

}  // namespace
}  // namespace server
