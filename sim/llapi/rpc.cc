#include "sim/llapi/api.h"
// (api.h first: it gives the llapi_* declarations default visibility.)
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "sim/llapi/rpc.h"
#include "sim/wire/packet.h"

namespace sim::llapi {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxIdlePerMount = 16;
constexpr auto kFirstBackoff = std::chrono::milliseconds(5);
constexpr auto kMaxBackoff = std::chrono::milliseconds(200);

// Idle connections per mount root. g_pool_mu guards g_idle; it is taken
// around fork() so a child never inherits it locked.
std::mutex g_pool_mu;
std::map<std::string, std::vector<int>>* g_idle = nullptr;  // GUARDED_BY
std::atomic<uint32_t> g_seq{0};
std::once_flag g_atfork_once;

void AtforkPrepare() { g_pool_mu.lock(); }
void AtforkParent() { g_pool_mu.unlock(); }
void AtforkChild() {
  // The child shares the parent's sockets: using one would mix up replies.
  // Close the child's copies; the parent keeps its own.
  if (g_idle) {
    for (auto& [root, fds] : *g_idle)
      for (int fd : fds) close(fd);
    g_idle->clear();
  }
  g_pool_mu.unlock();
}

std::map<std::string, std::vector<int>>& Idle() {
  std::call_once(g_atfork_once, [] {
    pthread_atfork(AtforkPrepare, AtforkParent, AtforkChild);
  });
  if (!g_idle) g_idle = new std::map<std::string, std::vector<int>>;
  return *g_idle;
}

// An idle connection to `root`, or -1.
int TakeIdle(const std::string& root) {
  std::lock_guard lock(g_pool_mu);
  auto& fds = Idle()[root];
  if (fds.empty()) return -1;
  int fd = fds.back();
  fds.pop_back();
  return fd;
}

void GiveBack(const std::string& root, int fd) {
  {
    std::lock_guard lock(g_pool_mu);
    auto& fds = Idle()[root];
    if (fds.size() < kMaxIdlePerMount) {
      fds.push_back(fd);
      return;
    }
  }
  close(fd);
}

std::string SocketPath(const std::string& root) {
  return root + "/" + wire::kSocketPath;
}

// One exchange on `sock`. Returns the reply status, or a transport error
// flagged by *transport_failed.
int Exchange(int sock, wire::MsgType type, std::string_view payload, int fd,
             std::string* reply, bool* transport_failed) {
  *transport_failed = true;
  uint32_t seq = g_seq.fetch_add(1) + 1;
  int rc = wire::SendPacket(sock, type, seq, 0, payload, fd);
  if (rc < 0) return rc;
  wire::Packet packet;
  std::string error;
  rc = wire::RecvPacket(sock, &packet, &error);
  if (rc == -EPROTO) {
    llapi_err_noerrno(LLAPI_MSG_ERROR, "malformed reply from the MDT: %s",
                      error.c_str());
    return rc;
  }
  if (rc < 0) return rc;
  if (packet.type() != wire::MsgType::kReply || packet.header.seq != seq) {
    llapi_err_noerrno(LLAPI_MSG_ERROR,
                      "unexpected reply from the MDT: type %u seq %u, "
                      "expected a reply to seq %u",
                      packet.header.type, packet.header.seq, seq);
    return -EPROTO;
  }
  *transport_failed = false;
  if (reply) *reply = std::move(packet.payload);
  return packet.header.status;
}

}  // namespace

std::chrono::milliseconds RecoveryTimeout() {
  const char* env = getenv("LUSTRE_SIM_TIMEOUT");
  double seconds = 30;
  if (env && *env) {
    char* end;
    double v = strtod(env, &end);
    if (*end == '\0' && v >= 0) seconds = v;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

bool IsUnreachable(int rc) {
  return rc == -ECONNREFUSED || rc == -ENOENT || rc == -EPIPE ||
         rc == -ECONNRESET || rc == -ENOTCONN || rc == -ECONNABORTED;
}

int ConnectWithRetry(const std::string& root, Clock::time_point deadline) {
  auto backoff = std::chrono::duration_cast<Clock::duration>(kFirstBackoff);
  for (;;) {
    int sock = wire::ConnectSeqPacket(SocketPath(root));
    if (sock >= 0 || !IsUnreachable(sock)) return sock;
    auto now = Clock::now();
    if (now >= deadline) return -ENOTCONN;
    std::this_thread::sleep_for(std::min(backoff, deadline - now));
    backoff = std::min<Clock::duration>(backoff * 2, kMaxBackoff);
  }
}

int Call(const std::string& root, wire::MsgType type, std::string_view payload,
         int fd, std::string* reply) {
  if (reply) reply->clear();
  auto deadline = Clock::now() + RecoveryTimeout();
  for (;;) {
    bool pooled = true;
    int sock = TakeIdle(root);
    if (sock < 0) {
      pooled = false;
      sock = ConnectWithRetry(root, deadline);
      if (sock < 0) return sock;
    }
    bool transport_failed;
    int rc = Exchange(sock, type, payload, fd, reply, &transport_failed);
    if (!transport_failed) {
      GiveBack(root, sock);
      return rc;
    }
    close(sock);
    if (!IsUnreachable(rc)) return rc;
    // The daemon went away (a pooled connection from before a restart, or
    // a restart during this call): resend on a new connection.
    if (!pooled && Clock::now() >= deadline) return -ENOTCONN;
    if (!pooled) std::this_thread::sleep_for(kFirstBackoff);
  }
}

}  // namespace sim::llapi
