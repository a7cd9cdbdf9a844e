#include "client/session.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "protocol/messages.h"

namespace client {

namespace json = boost::json;

namespace {

// connect() bounded by `timeout_ms` (negative: the system's bound); 0 or
// -1 with errno set (ETIMEDOUT when the bound passed). The socket is left
// blocking, as the rest of Session expects.
int ConnectWithin(int fd, const sockaddr* address, socklen_t length,
                  int timeout_ms) {
  if (timeout_ms < 0) return connect(fd, address, length);
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
  int rc = connect(fd, address, length);
  if (rc < 0 && errno == EINPROGRESS) {
    pollfd pfd{fd, POLLOUT, 0};
    do {
      rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    if (rc < 0) return -1;
    int failure = 0;
    socklen_t size = sizeof(failure);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &size) < 0) return -1;
    if (failure != 0) {
      errno = failure;
      return -1;
    }
    rc = 0;
  }
  if (rc < 0) return -1;
  return fcntl(fd, F_SETFL, flags) < 0 ? -1 : 0;
}

}  // namespace

bool Session::Connect(const std::string& host, const std::string& port,
                      std::string* error) {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0) {
    *error =
        fmt::format("cannot resolve {}:{}: {}", host, port, gai_strerror(rc));
    return false;
  }
  int last_errno = 0;
  for (addrinfo* ai = result; ai; ai = ai->ai_next) {
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    if (ConnectWithin(fd, ai->ai_addr, ai->ai_addrlen, connect_timeout_ms_) ==
        0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_.Reset(fd);
      break;
    }
    last_errno = errno;
    close(fd);
  }
  freeaddrinfo(result);
  if (!fd_) {
    *error = fmt::format("cannot connect to {}:{}: {}", host, port,
                         strerror(last_errno));
    return false;
  }
  if (tls_.enabled) {
    TlsOptions tls = tls_;
    if (tls.server_name.empty()) tls.server_name = host;
    channel_ = TlsChannel::Handshake(fd_.get(), tls, error);
    if (!channel_) {
      *error = fmt::format("{}:{}: {}", host, port, *error);
      fd_.Reset();
      return false;
    }
  }
  reader_ = std::make_unique<protocol::JsonStreamReader>(max_reply_bytes_);
  ready_.clear();
  return true;
}

void Session::Close() {
  channel_.reset();
  fd_.Reset();
  ready_.clear();
}

bool Session::Send(const json::object& message, std::string* error) {
  return SendText(json::serialize(message), error);
}

bool Session::SendText(std::string_view text, std::string* error) {
  if (!fd_) {
    *error = "not connected";
    return false;
  }
  if (channel_) return channel_->Write(text, error);
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t n =
        ::send(fd_.get(), text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = fmt::format("send: {}", strerror(errno));
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool Session::HasBuffered() { return !ready_.empty(); }

bool Session::Feed(const char* data, size_t size, std::string* error) {
  if (!reader_->Feed(std::string_view(data, size))) {
    *error = reader_->error();
    return false;
  }
  json::object object(reader_->storage());
  while (reader_->Next(&object)) ready_.push_back(std::move(object));
  return true;
}

bool Session::PumpTls(std::string* error) {
  char buffer[64 * 1024];
  for (;;) {
    size_t got = 0;
    switch (channel_->Read(buffer, sizeof(buffer), &got, error)) {
      case TlsChannel::ReadResult::kData:
        if (!Feed(buffer, got, error)) return false;
        continue;  // until OpenSSL holds nothing more
      case TlsChannel::ReadResult::kWouldBlock:
        return true;
      case TlsChannel::ReadResult::kClosed:
        *error = "the server closed the connection";
        return false;
      case TlsChannel::ReadResult::kError:
        return false;
    }
  }
}

bool Session::Pump(std::string* error) {
  if (channel_) return PumpTls(error);
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = recv(fd_.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      *error = fmt::format("recv: {}", strerror(errno));
      return false;
    }
    if (n == 0) {
      *error = "the server closed the connection";
      return false;
    }
    if (!Feed(buffer, static_cast<size_t>(n), error)) return false;
    if (static_cast<size_t>(n) < sizeof(buffer)) return true;
  }
}

bool Session::Receive(json::object* out, int timeout_ms, std::string* error) {
  if (!fd_) {
    *error = "not connected";
    return false;
  }
  while (ready_.empty()) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      *error = fmt::format("poll: {}", strerror(errno));
      return false;
    }
    if (rc == 0) {
      *error = "timed out";
      return false;
    }
    if (!Pump(error)) return false;
  }
  *out = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

bool Session::Call(const json::object& request, json::object* reply,
                   int timeout_ms, std::string* error) {
  if (!Send(request, error)) return false;
  const json::value* command = request.if_contains("command");
  for (;;) {
    if (!Receive(reply, timeout_ms, error)) return false;
    const json::value* got = reply->if_contains("command");
    if (!command || !got || *got == *command) return true;
  }
}

bool Session::Authenticate(const std::string& token, std::string* error,
                           bool* refused, json::object* reply_out) {
  if (refused) *refused = false;
  json::object reply;
  if (!Call(protocol::ToJson(protocol::AuthRequest{token}), &reply, 30'000,
            error)) {
    *error = "auth: " + *error;
    return false;
  }
  if (reply_out) *reply_out = reply;
  protocol::AuthReply answer;
  protocol::Parse(reply, &answer);
  if (answer.header.status != 0) {
    if (refused) *refused = true;
    *error = fmt::format("auth refused: {}",
                         answer.header.error.empty()
                             ? std::string(strerror(answer.header.status))
                             : answer.header.error);
    return false;
  }
  return true;
}

int ReplyStatus(const json::object& reply) {
  return protocol::ReadReplyHeader(reply).status;
}

}  // namespace client
