// llapi_error/llapi_printf formats, levels and callbacks, and the HSM event
// FIFO (docs/lustre.md, helpers copytools use).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "sim/llapi/test_util.h"

namespace {

using sim::llapi::testing::ErrorCapture;
using sim::llapi::testing::TempDir;

// Redirects a stdio stream's descriptor into a pipe for the scope.
class StreamCapture {
 public:
  StreamCapture(FILE* stream) : stream_(stream), fd_(fileno(stream)) {
    fflush(stream_);
    EXPECT_EQ(pipe2(pipe_, O_CLOEXEC), 0);
    saved_ = dup(fd_);
    dup2(pipe_[1], fd_);
  }
  ~StreamCapture() { Restore(); }
  std::string Take() {
    Restore();
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(pipe_[0], buf, sizeof(buf))) > 0) out.append(buf, n);
    return out;
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    fflush(stream_);
    dup2(saved_, fd_);
    close(saved_);
    close(pipe_[1]);
    saved_ = -1;
  }
  FILE* stream_;
  int fd_;
  int pipe_[2] = {-1, -1};
  int saved_ = -1;
};

std::string Prefix() {
  return std::string(program_invocation_short_name) + ": ";
}

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { llapi_msg_set_level(LLAPI_MSG_MAX); }
};

TEST_F(LogTest, DefaultLevelIsMaxAndSetLevelClamps) {
  EXPECT_EQ(llapi_msg_get_level(), LLAPI_MSG_MAX);
  llapi_msg_set_level(-3);
  EXPECT_EQ(llapi_msg_get_level(), LLAPI_MSG_OFF);
  llapi_msg_set_level(42);
  EXPECT_EQ(llapi_msg_get_level(), LLAPI_MSG_MAX);
  llapi_msg_set_level(LLAPI_MSG_WARN);
  EXPECT_EQ(llapi_msg_get_level(), LLAPI_MSG_WARN);
}

TEST_F(LogTest, ErrorAppendsStrerrorAndAbsoluteErrno) {
  StreamCapture err(stderr);
  llapi_error(LLAPI_MSG_ERROR, -ENOENT, "cannot open '%s'", "x");
  EXPECT_EQ(err.Take(),
            Prefix() + "cannot open 'x': No such file or directory (2)\n");
}

TEST_F(LogTest, ErrorStripsOneTrailingNewlineBeforeTheErrnoText) {
  StreamCapture err(stderr);
  llapi_error(LLAPI_MSG_ERROR, EPERM, "denied %d\n", 7);
  EXPECT_EQ(err.Take(), Prefix() + "denied 7: Operation not permitted (1)\n");
}

TEST_F(LogTest, NoErrnoAddsANewlineOnlyWhenMissing) {
  StreamCapture err(stderr);
  llapi_err_noerrno(LLAPI_MSG_ERROR, "plain %s", "text");
  llapi_err_noerrno(LLAPI_MSG_WARN, "with newline\n");
  EXPECT_EQ(err.Take(),
            Prefix() + "plain text\n" + Prefix() + "with newline\n");
}

TEST_F(LogTest, ErrorPreservesErrno) {
  StreamCapture err(stderr);
  errno = EXDEV;
  llapi_error(LLAPI_MSG_ERROR, -EIO, "x");
  EXPECT_EQ(errno, EXDEV);
  StreamCapture out(stdout);
  errno = EXDEV;
  llapi_printf(LLAPI_MSG_NORMAL, "y");
  EXPECT_EQ(errno, EXDEV);
  EXPECT_EQ(out.Take(), "y");
}

TEST_F(LogTest, MessagesAboveTheLevelAreDropped) {
  StreamCapture err(stderr);
  llapi_msg_set_level(LLAPI_MSG_WARN);
  llapi_error(LLAPI_MSG_INFO, 0, "hidden");
  llapi_err_noerrno(LLAPI_MSG_ERROR, "shown");
  EXPECT_EQ(err.Take(), Prefix() + "shown\n");
}

TEST_F(LogTest, PrintfGoesToStdoutWithoutPrefix) {
  StreamCapture out(stdout);
  llapi_printf(LLAPI_MSG_NORMAL, "%s=%d\n", "a", 1);
  EXPECT_EQ(out.Take(), "a=1\n");
}

TEST_F(LogTest, ErrorCallbackReceivesLevelFlagsAndAbsoluteErr) {
  ErrorCapture capture;
  llapi_error(LLAPI_MSG_WARN, -EAGAIN, "value %d", 5);
  llapi_err_noerrno(LLAPI_MSG_ERROR, "no errno");
  auto& m = ErrorCapture::messages();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].level, LLAPI_MSG_WARN);
  EXPECT_EQ(m[0].err, EAGAIN);
  EXPECT_EQ(m[0].text, "value 5");
  EXPECT_EQ(m[1].level, LLAPI_MSG_ERROR | LLAPI_MSG_NO_ERRNO);
  EXPECT_EQ(m[1].err, 0);
}

void NullInfo(enum llapi_message_level, int, const char*, va_list) {}

TEST_F(LogTest, CallbackSettersReturnThePreviousOneAndNullRestoresDefault) {
  llapi_log_callback_t def = llapi_info_callback_set(NullInfo);
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(llapi_info_callback_set(nullptr), NullInfo);
  EXPECT_EQ(llapi_info_callback_set(nullptr), def);
}

TEST_F(LogTest, HsmLogErrorWritesLoggedMessageEventsToTheFifo) {
  TempDir dir;
  std::string fifo = dir.path() + "/events";
  ASSERT_EQ(llapi_hsm_register_event_fifo(fifo.c_str()), 0);
  int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  llapi_log_callback_t old = llapi_error_callback_set(llapi_hsm_log_error);
  {
    StreamCapture err(stderr);
    llapi_error(LLAPI_MSG_ERROR, -ENOENT, "lost \"%s\"", "f");
    EXPECT_EQ(err.Take(),
              Prefix() + "lost \"f\": No such file or directory (2)\n");
  }
  llapi_error_callback_set(old);
  char buf[4096] = {};
  ssize_t n = read(reader, buf, sizeof(buf) - 1);
  ASSERT_GT(n, 0);
  std::string line(buf, n);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one object per line
  EXPECT_NE(line.find("\"event_type\": \"LOGGED_MESSAGE\""), std::string::npos)
      << line;
  EXPECT_NE(line.find("\"level\": \"error\""), std::string::npos) << line;
  EXPECT_NE(
      line.find(
          "\"message\": \"lost \\\"f\\\": No such file or directory (2)\""),
      std::string::npos)
      << line;
  close(reader);
  EXPECT_EQ(llapi_hsm_unregister_event_fifo(fifo.c_str()), 0);
  EXPECT_NE(access(fifo.c_str(), F_OK), 0);  // unlinked
}

TEST_F(LogTest, EventsWithoutAReaderAreDroppedWithoutSigpipe) {
  TempDir dir;
  std::string fifo = dir.path() + "/events";
  ASSERT_EQ(llapi_hsm_register_event_fifo(fifo.c_str()), 0);
  StreamCapture err(stderr);
  // No reader: the write fails with EPIPE, which must not kill us.
  llapi_log_callback_t old = llapi_error_callback_set(llapi_hsm_log_error);
  llapi_err_noerrno(LLAPI_MSG_ERROR, "nobody listens");
  llapi_error_callback_set(old);
  EXPECT_EQ(err.Take(), Prefix() + "nobody listens\n");
  EXPECT_EQ(llapi_hsm_unregister_event_fifo(fifo.c_str()), 0);
}

TEST_F(LogTest, UnregisterWithoutFifoIsEinval) {
  EXPECT_EQ(llapi_hsm_unregister_event_fifo(nullptr), -EINVAL);
  EXPECT_EQ(llapi_hsm_register_event_fifo(nullptr), -EINVAL);
}

}  // namespace
