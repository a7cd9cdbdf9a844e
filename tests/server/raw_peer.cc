#include "tests/server/raw_peer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

namespace testing_support {
namespace {

constexpr int kSilenceMs = 30'000;

bool Readable(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return poll(&pfd, 1, kSilenceMs) > 0;
}

}  // namespace

common::UniqueFd ConnectTo(int port) {
  common::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n =
        send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadObject(int fd) {
  std::string text;
  int depth = 0;
  bool in_string = false, escaped = false;
  char c;
  for (;;) {
    if (!Readable(fd)) return "timeout";
    if (recv(fd, &c, 1, 0) <= 0) return "";
    text.push_back(c);
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return text;
    }
  }
}

bool ClosedWithNothingMore(int fd) {
  char c;
  if (!Readable(fd)) return false;
  return recv(fd, &c, 1, 0) <= 0;
}

bool ClosedAfterDraining(int fd) {
  char buffer[4096];
  for (;;) {
    if (!Readable(fd)) return false;
    if (recv(fd, buffer, sizeof(buffer), 0) <= 0) return true;
  }
}

}  // namespace testing_support
