// llapi_error/llapi_printf formats, levels and callbacks, and the HSM event
// FIFO (docs/lustre.md, helpers copytools use).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

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

// An event FIFO registered for the test, with a reader.
class EventFifo {
 public:
  EventFifo() : path_(dir_.path() + "/events") {
    EXPECT_EQ(llapi_hsm_register_event_fifo(path_.c_str()), 0);
    reader_ = open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    EXPECT_GE(reader_, 0);
  }
  ~EventFifo() {
    if (reader_ >= 0) close(reader_);
    llapi_hsm_unregister_event_fifo(path_.c_str());
  }
  const std::string& path() const { return path_; }
  // Everything written so far, one event per line.
  std::vector<std::string> Lines() {
    std::string all;
    char buf[4096];
    ssize_t n;
    while ((n = read(reader_, buf, sizeof(buf))) > 0) all.append(buf, n);
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl; (nl = all.find('\n', start)) != std::string::npos;
         start = nl + 1)
      lines.push_back(all.substr(start, nl - start));
    EXPECT_EQ(start, all.size()) << "unterminated line: " << all;
    return lines;
  }

 private:
  TempDir dir_;
  std::string path_;
  int reader_ = -1;
};

// The keys of a JSON object line in their order (Boost.JSON keeps it).
std::vector<std::string> Keys(const boost::json::object& o) {
  std::vector<std::string> keys;
  for (const auto& kv : o) keys.push_back(kv.key());
  return keys;
}

boost::json::object Parse(const std::string& line) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << ec.message() << ": " << line;
  EXPECT_TRUE(v.is_object()) << line;
  return v.is_object() ? v.as_object() : boost::json::object{};
}

// Lustre's event_time: strftime("%Y-%m-%d %T %z") of the local time.
void ExpectEventTime(const boost::json::object& o) {
  ASSERT_TRUE(o.contains("event_time"));
  ASSERT_TRUE(o.at("event_time").is_string());
  std::string t(o.at("event_time").as_string());
  EXPECT_TRUE(std::regex_match(
      t, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4})")))
      << t;
}

TEST_F(LogTest, HsmLogErrorWritesLustresLoggedMessageEvent) {
  EventFifo fifo;
  llapi_log_callback_t old = llapi_error_callback_set(llapi_hsm_log_error);
  StreamCapture err(stderr);
  llapi_error(LLAPI_MSG_ERROR, -ENOENT, "lost %s", "file");
  llapi_err_noerrno(LLAPI_MSG_INFO, "fine %d", 7);
  llapi_error(LLAPI_MSG_WARN, EPERM, "two\nlines\t");
  // Lustre's callback writes the event only: nothing on stderr.
  EXPECT_EQ(err.Take(), "");
  llapi_error_callback_set(old);

  std::vector<std::string> lines = fifo.Lines();
  ASSERT_EQ(lines.size(), 3u);
  // Exactly Lustre's bytes, event_time aside.
  const std::string t = R"("event_time": "[^"]+", )";
  EXPECT_TRUE(std::regex_match(
      lines[0],
      std::regex(R"(\{)" + t +
                 R"("event_type": "LOGGED_MESSAGE", "level": "ERROR", )"
                 R"("message": "lost file", )"
                 R"("error": "No such file or directory", "errno": 2\})")))
      << lines[0];
  boost::json::object o = Parse(lines[0]);
  ExpectEventTime(o);
  EXPECT_EQ(Keys(o),
            (std::vector<std::string>{"event_time", "event_type", "level",
                                      "message", "error", "errno"}));
  EXPECT_EQ(o.at("errno").as_int64(), ENOENT);

  o = Parse(lines[1]);
  EXPECT_EQ(Keys(o), (std::vector<std::string>{"event_time", "event_type",
                                               "level", "message"}));
  EXPECT_EQ(o.at("level").as_string(), "INFO");
  EXPECT_EQ(o.at("message").as_string(), "fine 7");

  // Lustre doubles the backslash of its escapes: the reader gets "\n" as
  // two characters.
  EXPECT_NE(lines[2].find(R"("message": "two\\nlines\\t")"), std::string::npos)
      << lines[2];
  o = Parse(lines[2]);
  EXPECT_EQ(o.at("level").as_string(), "WARNING");
  EXPECT_EQ(o.at("message").as_string(), "two\\nlines\\t");
  EXPECT_EQ(o.at("errno").as_int64(), EPERM);
}

TEST_F(LogTest, EventStringsWithQuotesAndControlCharactersStayValidJson) {
  EventFifo fifo;
  llapi_log_callback_t old = llapi_error_callback_set(llapi_hsm_log_error);
  llapi_err_noerrno(LLAPI_MSG_ERROR, "a \"quoted\" \\ path\x01");
  llapi_error_callback_set(old);
  std::vector<std::string> lines = fifo.Lines();
  ASSERT_EQ(lines.size(), 1u);
  boost::json::object o = Parse(lines[0]);
  EXPECT_EQ(o.at("message").as_string(), "a \\\"quoted\\\" \\\\ path\x01");
}

TEST_F(LogTest, HsmLogErrorWithoutFifoWritesNothing) {
  StreamCapture err(stderr);
  llapi_log_callback_t old = llapi_error_callback_set(llapi_hsm_log_error);
  llapi_error(LLAPI_MSG_ERROR, EIO, "nowhere");
  llapi_error_callback_set(old);
  EXPECT_EQ(err.Take(), "");
}

TEST_F(LogTest, EventsWithoutAReaderAreDroppedWithoutSigpipe) {
  TempDir dir;
  std::string fifo = dir.path() + "/events";
  ASSERT_EQ(llapi_hsm_register_event_fifo(fifo.c_str()), 0);
  // No reader: the write fails with EPIPE, which must not kill us.
  llapi_log_callback_t old = llapi_error_callback_set(llapi_hsm_log_error);
  llapi_err_noerrno(LLAPI_MSG_ERROR, "nobody listens");
  llapi_error_callback_set(old);
  EXPECT_EQ(llapi_hsm_unregister_event_fifo(fifo.c_str()), 0);
  EXPECT_NE(access(fifo.c_str(), F_OK), 0);  // made by register: removed
}

TEST_F(LogTest, UnregisterWithoutRegisterIsANoop) {
  EXPECT_EQ(llapi_hsm_unregister_event_fifo("/nonexistent/fifo"), 0);
  EXPECT_EQ(llapi_hsm_unregister_event_fifo(nullptr), 0);
  EXPECT_EQ(llapi_hsm_register_event_fifo(nullptr), -EINVAL);
}

TEST_F(LogTest, RegisterKeepsAnExistingFifoAndRefusesOtherFiles) {
  TempDir dir;
  std::string fifo = dir.path() + "/events";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  ASSERT_EQ(chmod(fifo.c_str(), 0644), 0);  // whatever the umask
  ASSERT_EQ(llapi_hsm_register_event_fifo(fifo.c_str()), 0);
  EXPECT_EQ(llapi_hsm_unregister_event_fifo(fifo.c_str()), 0);
  EXPECT_EQ(access(fifo.c_str(), F_OK), 0);  // not ours: kept

  ErrorCapture capture;
  ASSERT_EQ(chmod(fifo.c_str(), 0600), 0);
  EXPECT_EQ(llapi_hsm_register_event_fifo(fifo.c_str()), -EEXIST);
  std::string plain = dir.path() + "/plain";
  std::ofstream(plain) << "x";
  ASSERT_EQ(chmod(plain.c_str(), 0644), 0);
  EXPECT_EQ(llapi_hsm_register_event_fifo(plain.c_str()), -EEXIST);
  ASSERT_EQ(ErrorCapture::messages().size(), 2u);
  EXPECT_EQ(ErrorCapture::messages()[1].text,
            plain + " exists but is not a pipe or has a wrong mode");
}

}  // namespace
