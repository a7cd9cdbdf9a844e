#include "sim/wire/packet.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace sim::wire {

namespace {

int SendVec(int sock, const iovec* iov, int iovcnt, int fd) {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = iovcnt;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n >= 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

// Receives one packet into `buf`; returns its length (0 is a valid empty
// packet only if MSG_EOR... for SEQPACKET a 0 return means EOF) or -errno.
ssize_t RecvVec(int sock, char* buf, size_t len, common::UniqueFd* fd,
                bool* truncated) {
  iovec iov{buf, len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  for (;;) {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
  // Take ownership of every descriptor received so none leaks; keep the
  // first.
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int received;
      memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (fd && !fd->valid())
        fd->Reset(received);
      else
        close(received);
    }
  }
  *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  return n;
}

}  // namespace

int SendPacket(int sock, MsgType type, uint32_t seq, int32_t status,
               std::string_view payload, int fd) {
  MsgHeader header{};
  header.magic = kMagic;
  header.version = kVersion;
  header.type = static_cast<uint16_t>(type);
  header.seq = seq;
  header.status = status;
  header.payload_len = static_cast<uint32_t>(payload.size());
  if (sizeof(header) + payload.size() > kMaxMessage) return -E2BIG;
  iovec iov[2] = {{&header, sizeof(header)},
                  {const_cast<char*>(payload.data()), payload.size()}};
  return SendVec(sock, iov, payload.empty() ? 1 : 2, fd);
}

int SendRaw(int sock, std::string_view bytes, int fd) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  return SendVec(sock, &iov, 1, fd);
}

int RecvRaw(int sock, std::string* out, size_t max, common::UniqueFd* fd) {
  out->resize(max);
  bool truncated = false;
  ssize_t n = RecvVec(sock, out->data(), max, fd, &truncated);
  if (n < 0) {
    out->clear();
    return static_cast<int>(n);
  }
  out->resize(static_cast<size_t>(n));
  if (truncated) return -EMSGSIZE;
  if (n == 0) return -EPIPE;
  return 0;
}

int RecvPacket(int sock, Packet* out, std::string* error) {
  std::string buf;
  out->fd.Reset();
  int rc = RecvRaw(sock, &buf, kMaxMessage, &out->fd);
  if (rc == -EMSGSIZE) {
    *error = fmt::format("packet longer than {} bytes", kMaxMessage);
    return -EPROTO;
  }
  if (rc < 0) return rc;
  return ParsePacket(buf, out, error);
}

int ParsePacket(std::string_view bytes, Packet* out, std::string* error) {
  if (bytes.size() < sizeof(MsgHeader)) {
    *error =
        fmt::format("packet of {} bytes is shorter than the {}-byte header",
                    bytes.size(), sizeof(MsgHeader));
    return -EPROTO;
  }
  memcpy(&out->header, bytes.data(), sizeof(MsgHeader));
  if (out->header.magic != kMagic) {
    *error = fmt::format("bad magic {:#x}", out->header.magic);
    return -EPROTO;
  }
  if (out->header.version != kVersion) {
    *error =
        fmt::format("unsupported protocol version {}", out->header.version);
    return -EPROTO;
  }
  size_t body = bytes.size() - sizeof(MsgHeader);
  if (out->header.payload_len != body) {
    *error = fmt::format("header announces {} payload bytes, packet has {}",
                         out->header.payload_len, body);
    return -EPROTO;
  }
  out->payload.assign(bytes.substr(sizeof(MsgHeader)));
  return 0;
}

int ConnectSeqPacket(const std::string& path) {
  int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (sock < 0) return -errno;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string target = path;
  common::UniqueFd dir;
  if (target.size() >= sizeof(addr.sun_path)) {
    // Too long for sun_path: go through the directory's descriptor.
    size_t slash = target.rfind('/');
    std::string parent =
        slash == std::string::npos ? "." : target.substr(0, slash);
    dir.Reset(open(parent.c_str(), O_PATH | O_CLOEXEC));
    if (!dir) {
      int err = -errno;
      close(sock);
      return err;
    }
    target =
        fmt::format("/proc/self/fd/{}/{}", dir.get(), target.substr(slash + 1));
    if (target.size() >= sizeof(addr.sun_path)) {
      close(sock);
      return -ENAMETOOLONG;
    }
  }
  memcpy(addr.sun_path, target.c_str(), target.size() + 1);
  for (;;) {
    if (connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0)
      return sock;
    if (errno == EINTR) continue;
    int err = -errno;
    close(sock);
    return err;
  }
}

}  // namespace sim::wire
