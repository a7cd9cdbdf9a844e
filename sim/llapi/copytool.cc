// Copytool registration and the KUC channel (docs/lustre.md, copytool
// registration): llapi_hsm_copytool_register/unregister/get_fd/recv.
#include "sim/llapi/api.h"
// (api.h first: it gives the llapi_* declarations default visibility.)

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "hsm/hal.h"
#include "sim/llapi/copytool_private.h"
#include "sim/llapi/log.h"
#include "sim/llapi/mount.h"
#include "sim/llapi/rpc.h"
#include "sim/wire/packet.h"

namespace sim::llapi {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kRecvBufferSize = HAL_MAXSIZE + sizeof(struct kuc_hdr);

// A fresh agent uuid in Lustre's client uuid form
// (a19b2416-0930-fc1f-8c58-c985ba5127ad).
std::string NewUuid() {
  unsigned char b[16] = {};
  if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
    uint64_t seed =
        static_cast<uint64_t>(getpid()) ^
        static_cast<uint64_t>(Clock::now().time_since_epoch().count());
    for (auto& byte : b) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      byte = static_cast<unsigned char>(seed >> 56);
    }
  }
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
      b[12], b[13], b[14], b[15]);
}

std::string RegisterPayload(const std::string& uuid,
                            const std::vector<uint32_t>& archives) {
  wire::RegisterReq req{};
  req.archive_count = static_cast<uint32_t>(archives.size());
  req.pid = static_cast<uint32_t>(getpid());
  snprintf(req.uuid, sizeof(req.uuid), "%s", uuid.c_str());
  std::string payload(Bytes(req));
  payload.append(reinterpret_cast<const char*>(archives.data()),
                 archives.size() * sizeof(uint32_t));
  return payload;
}

// Connects and registers an agent. Returns the socket, now the KUC channel,
// or -errno (-ENOTCONN if the daemon stayed unreachable until `deadline`).
int RegisterAgent(const std::string& root, const std::string& uuid,
                  const std::vector<uint32_t>& archives,
                  Clock::time_point deadline) {
  std::string payload = RegisterPayload(uuid, archives);
  for (;;) {
    int sock = ConnectWithRetry(root, deadline);
    if (sock < 0) return sock;
    int rc = wire::SendPacket(sock, wire::MsgType::kRegister, 1, 0, payload);
    wire::Packet reply;
    std::string error;
    if (rc == 0) rc = wire::RecvPacket(sock, &reply, &error);
    if (rc == 0 &&
        (reply.type() != wire::MsgType::kReply || reply.header.seq != 1)) {
      error = "unexpected packet type";
      rc = -EPROTO;
    }
    if (rc == -EPROTO)
      llapi_err_noerrno(LLAPI_MSG_ERROR, "bad register reply from the MDT: %s",
                        error.c_str());
    if (rc == 0) rc = reply.header.status;
    if (rc == 0) return sock;
    close(sock);
    // The daemon went away, or is still starting (-EINPROGRESS, which the
    // Lustre client resends): try again until the deadline.
    if (!IsUnreachable(rc) && rc != -EINPROGRESS && rc != -EAGAIN) return rc;
    if (Clock::now() >= deadline) return -ENOTCONN;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// After the daemon closed the KUC channel (it restarted): registers again
// with the same uuid and archives and puts the new socket on the same fd
// number with the same file status flags. Returns 0 or -EPIPE.
// REQUIRES: ct->recv_mu held.
int Reregister(hsm_copytool_private* ct) {
  int fd = ct->kuc_fd();
  int flags = fcntl(fd, F_GETFL);
  int sock = RegisterAgent(ct->root, ct->uuid, ct->archives,
                           Clock::now() + RecoveryTimeout());
  if (sock < 0) {
    llapi_error(LLAPI_MSG_ERROR, sock,
                "cannot re-register copytool '%s' on '%s' after the MDT "
                "closed its channel",
                ct->uuid.c_str(), ct->root.c_str());
    return -EPIPE;
  }
  int rc = dup3(sock, fd, O_CLOEXEC) < 0 ? -errno : 0;
  close(sock);
  if (rc < 0) return -EPIPE;
  if (flags >= 0) fcntl(fd, F_SETFL, flags);
  llapi_err_noerrno(LLAPI_MSG_INFO, "copytool '%s' re-registered on '%s'",
                    ct->uuid.c_str(), ct->root.c_str());
  return 0;
}

// True when the peer closed the channel (as opposed to an empty packet).
bool PeerClosed(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP));
}

// Reads one packet into the handle's buffer. Returns its length, 0 at end
// of stream, or -errno. Received descriptors are closed.
ssize_t ReadPacket(hsm_copytool_private* ct, bool* truncated) {
  iovec iov{ct->kuch, kRecvBufferSize};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = recvmsg(ct->kuc_fd(), &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return -errno;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int received;
      memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      close(received);
    }
  }
  *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  return n;
}

bool WantsArchive(const hsm_copytool_private* ct, uint32_t archive_id) {
  if (ct->archives.empty()) return true;
  for (uint32_t a : ct->archives)
    if (a == archive_id) return true;
  return false;
}

// One KUC message, checked as Lustre's libcfs_ukuc_msg_get() and
// llapi_hsm_copytool_recv() check it. Returns 0 with the HAL in the buffer,
// 1 to skip it and read the next, or -errno.
// REQUIRES: ct->recv_mu held.
int ReceiveOne(hsm_copytool_private* ct, size_t* msglen) {
  bool truncated = false;
  ssize_t n = ReadPacket(ct, &truncated);
  if (n == -ECONNRESET || n == -ENOTCONN ||
      (n == 0 && PeerClosed(ct->kuc_fd())))
    return Reregister(ct) < 0 ? -EPIPE : 1;
  if (n < 0) return static_cast<int>(n);
  if (truncated) return -EMSGSIZE;
  const kuc_hdr* kuch = ct->kuch;
  if (static_cast<size_t>(n) < sizeof(*kuch)) {
    llapi_err_noerrno(LLAPI_MSG_ERROR, "short message of %zd bytes", n);
    return -EPROTO;
  }
  if (kuch->kuc_magic != KUC_MAGIC) {
    llapi_err_noerrno(LLAPI_MSG_ERROR, "bad message magic %x != %x",
                      kuch->kuc_magic, KUC_MAGIC);
    return -EPROTO;
  }
  // kuc_msglen is a u16: any length it announces fits the buffer.
  static_assert(kRecvBufferSize > UINT16_MAX);
  if (kuch->kuc_msglen < sizeof(*kuch)) {
    llapi_err_noerrno(LLAPI_MSG_ERROR,
                      "message length %u is shorter than "
                      "the header",
                      kuch->kuc_msglen);
    return -EPROTO;
  }
  if (static_cast<size_t>(n) != kuch->kuc_msglen) {
    llapi_err_noerrno(LLAPI_MSG_ERROR,
                      "short message of %zd bytes, header says %u", n,
                      kuch->kuc_msglen);
    return -EPROTO;
  }
  if (kuch->kuc_transport != KUC_TRANSPORT_HSM &&
      kuch->kuc_transport != KUC_TRANSPORT_GENERIC)
    return 1;  // other transports are dropped silently
  if (kuch->kuc_transport == KUC_TRANSPORT_GENERIC &&
      kuch->kuc_msgtype == KUC_MSG_SHUTDOWN)
    return -ESHUTDOWN;
  if (kuch->kuc_transport != KUC_TRANSPORT_HSM ||
      kuch->kuc_msgtype != HMT_ACTION_LIST) {
    llapi_err_noerrno(LLAPI_MSG_ERROR, "Unknown HSM message type %d:%d",
                      kuch->kuc_transport, kuch->kuc_msgtype);
    return -EPROTO;
  }
  if (kuch->kuc_msglen < sizeof(*kuch) + sizeof(struct hsm_action_list)) {
    llapi_err_noerrno(LLAPI_MSG_ERROR, "Short HSM message %d",
                      kuch->kuc_msglen);
    return -EPROTO;
  }
  *msglen = kuch->kuc_msglen;
  const char* hal = reinterpret_cast<const char*>(kuch) + sizeof(*kuch);
  hsm::DecodedHal decoded;
  std::string error;
  if (!hsm::DecodeHal(hal, *msglen - sizeof(*kuch), &decoded, &error)) {
    llapi_err_noerrno(LLAPI_MSG_ERROR, "invalid HSM action list: %s",
                      error.c_str());
    return -EPROTO;
  }
  return WantsArchive(ct, decoded.archive_id) ? 0 : 1;
}

hsm_copytool_private* NewCopytool(const std::string& root,
                                  std::vector<uint32_t> archives) {
  auto* ct = new hsm_copytool_private;
  ct->root = root;
  ct->mnt = strdup(root.c_str());
  ct->kuch = static_cast<kuc_hdr*>(calloc(1, kRecvBufferSize));
  ct->archives = std::move(archives);
  size_t kuc_size =
      sizeof(lustre_kernelcomm) + ct->archives.size() * sizeof(uint32_t);
  ct->kuc = static_cast<lustre_kernelcomm*>(calloc(1, kuc_size));
  ct->kuc->lk_wfd = LK_NOFD;
  ct->kuc->lk_rfd = LK_NOFD;
  ct->kuc->lk_uid = static_cast<uint32_t>(getpid());
  ct->kuc->lk_group = KUC_GRP_HSM;
  ct->kuc->lk_data_count = static_cast<uint32_t>(ct->archives.size());
  ct->kuc->lk_flags = LK_FLG_DATANR;
  for (size_t i = 0; i < ct->archives.size(); ++i)
    ct->kuc->lk_data[i] = ct->archives[i];
  return ct;
}

// Lustre's llapi_hsm_log_ct_registration(): "archive" is the number of
// archive ids registered (lk_data_count, 0 for all), not an archive id.
void RegisterEvent(const hsm_copytool_private* ct, const char* type) {
  if (!EventsEnabled()) return;
  JsonObject event;
  event.Add("event_type", type)
      .Add("archive", static_cast<int64_t>(ct->kuc->lk_data_count))
      .Add("mount_point", ct->mnt)
      .Add("uuid", ct->uuid);
  WriteEvent(std::move(event));
}

bool ValidCopytool(const hsm_copytool_private* ct) {
  return ct != nullptr && ct->magic == CT_PRIV_MAGIC;
}

}  // namespace

void FreeCopytool(hsm_copytool_private* ct) {
  if (ct == nullptr) return;
  // The KUC channel first: closing it unregisters the agent.
  if (ct->kuc && ct->kuc->lk_rfd != LK_NOFD) close(ct->kuc_fd());
  if (ct->mnt_fd >= 0) close(ct->mnt_fd);
  if (ct->open_by_fid_fd >= 0) close(ct->open_by_fid_fd);
  free(ct->kuc);
  free(ct->kuch);
  free(ct->mnt);
  ct->magic = 0;
  delete ct;
}

hsm_copytool_private* TEST_MakeCopytool(int kuc_fd, const std::string& root,
                                        std::vector<uint32_t> archives) {
  hsm_copytool_private* ct = NewCopytool(root, std::move(archives));
  ct->kuc->lk_rfd = static_cast<uint32_t>(kuc_fd);
  ct->magic = CT_PRIV_MAGIC;
  return ct;
}

}  // namespace sim::llapi

using sim::llapi::FreeCopytool;

extern "C" {

int llapi_hsm_copytool_register(struct hsm_copytool_private** priv,
                                const char* mnt, int archive_count,
                                int* archives, int rfd_flags) {
  if (priv == nullptr || mnt == nullptr) return -EINVAL;
  *priv = nullptr;
  if (archive_count > 0 && archives == nullptr) {
    llapi_err_noerrno(LLAPI_MSG_ERROR, "NULL archive numbers");
    return -EINVAL;
  }
  // As Lustre: a 0 anywhere in the list is a wildcard (all archives) and
  // then nothing else in it is looked at.
  for (int i = 0; i < archive_count; ++i) {
    if (archives[i] == 0) {
      archive_count = 0;
      break;
    }
  }
  std::vector<uint32_t> ids;
  for (int i = 0; i < archive_count; ++i) {
    if (archives[i] < 0) {
      llapi_err_noerrno(LLAPI_MSG_ERROR,
                        "%d requested when archive id >= 0 is supported",
                        archives[i]);
      return -EINVAL;
    }
    ids.push_back(static_cast<uint32_t>(archives[i]));
  }

  std::unique_ptr<char, decltype(&free)> resolved(realpath(mnt, nullptr),
                                                  &free);
  std::string root = resolved ? resolved.get() : mnt;
  hsm_copytool_private* ct = sim::llapi::NewCopytool(root, std::move(ids));
  int rc = 0;
  ct->mnt_fd = open(mnt, O_RDONLY | O_CLOEXEC);
  if (ct->mnt_fd < 0) rc = -errno;
  if (rc == 0) {
    ct->open_by_fid_fd =
        openat(ct->mnt_fd, sim::wire::kFidDir, O_RDONLY | O_CLOEXEC);
    if (ct->open_by_fid_fd < 0) rc = -errno;
  }
  if (rc == 0) rc = sim::llapi::ReadFsname(root, &ct->fsname);
  if (rc == 0) {
    const char* env_uuid = getenv("LUSTRE_SIM_CLIENT_UUID");
    ct->uuid = env_uuid && *env_uuid ? env_uuid : sim::llapi::NewUuid();
    if (ct->uuid.size() >= sizeof(sim::wire::RegisterReq::uuid)) rc = -EINVAL;
  }
  if (rc == 0) {
    int sock = sim::llapi::RegisterAgent(
        root, ct->uuid, ct->archives,
        std::chrono::steady_clock::now() + sim::llapi::RecoveryTimeout());
    if (sock < 0)
      rc = sock;
    else
      ct->kuc->lk_rfd = static_cast<uint32_t>(sock);
  }
  if (rc == 0 && fcntl(ct->kuc_fd(), F_SETFL, rfd_flags) < 0) rc = -errno;
  if (rc < 0) {
    FreeCopytool(ct);
    return rc;
  }
  ct->magic = CT_PRIV_MAGIC;
  sim::llapi::RegisterEvent(ct, "REGISTER");
  *priv = ct;
  return 0;
}

int llapi_hsm_copytool_unregister(struct hsm_copytool_private** priv) {
  if (priv == nullptr || !sim::llapi::ValidCopytool(*priv)) return -EINVAL;
  hsm_copytool_private* ct = *priv;
  sim::llapi::RegisterEvent(ct, "UNREGISTER");
  FreeCopytool(ct);
  *priv = nullptr;
  return 0;
}

int llapi_hsm_copytool_get_fd(struct hsm_copytool_private* ct) {
  if (!sim::llapi::ValidCopytool(ct)) return -EINVAL;
  return ct->kuc_fd();
}

int llapi_hsm_copytool_recv(struct hsm_copytool_private* ct,
                            struct hsm_action_list** hal, int* msgsize) {
  if (!sim::llapi::ValidCopytool(ct) || hal == nullptr || msgsize == nullptr) {
    if (hal) *hal = nullptr;
    if (msgsize) *msgsize = 0;
    return -EINVAL;
  }
  std::lock_guard lock(ct->recv_mu);
  size_t msglen = 0;
  int rc;
  do {
    rc = sim::llapi::ReceiveOne(ct, &msglen);
  } while (rc == 1);
  if (rc < 0) {
    *hal = nullptr;
    *msgsize = 0;
    return rc;
  }
  *hal = reinterpret_cast<hsm_action_list*>(reinterpret_cast<char*>(ct->kuch) +
                                            sizeof(kuc_hdr));
  *msgsize = static_cast<int>(msglen - sizeof(kuc_hdr));
  return 0;
}

}  // extern "C"
