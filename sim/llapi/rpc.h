// Internal: request/reply calls to the simulated MDT daemon of a mount, over
// a per-mount pool of SOCK_SEQPACKET connections so concurrent callers do not
// serialise on one socket.
//
// Recovery: while the daemon is unreachable (socket missing, connection
// refused or closed) a call retries with a short backoff for
// LUSTRE_SIM_TIMEOUT seconds (default 30), as a Lustre client waits for an
// MDT in recovery, then returns -ENOTCONN. A request whose connection closes
// before its reply is resent on a new connection, as Lustre resends after
// reconnecting.
//
// Thread-safety: all functions may be called from any thread. Forked
// children start with an empty pool (pthread_atfork), so a child never reads
// its parent's replies.
#ifndef SIM_LLAPI_RPC_H_
#define SIM_LLAPI_RPC_H_

#include <chrono>
#include <cstring>
#include <string>
#include <string_view>

#include "sim/wire/messages.h"

namespace sim::llapi {

// LUSTRE_SIM_TIMEOUT (seconds, may be fractional), default 30.
std::chrono::milliseconds RecoveryTimeout();

// True for the errors that mean "daemon not there (yet)".
bool IsUnreachable(int rc);

// Sends `type` with `payload` (and `fd` as SCM_RIGHTS when >= 0) to the
// daemon of the mount at `root` and waits for its reply. Returns the reply's
// status (0 or the daemon's -errno) with the reply payload in *reply (may be
// null); -ENOTCONN when the daemon stays unreachable; -EPROTO on a malformed
// reply (logged).
int Call(const std::string& root, wire::MsgType type, std::string_view payload,
         int fd, std::string* reply);

// Same, with the reply payload required to be exactly sizeof(T) bytes,
// copied into *out (-EPROTO otherwise).
template <class T>
int CallFor(const std::string& root, wire::MsgType type,
            std::string_view payload, int fd, T* out) {
  std::string reply;
  int rc = Call(root, type, payload, fd, &reply);
  if (rc < 0) return rc;
  if (reply.size() != sizeof(T)) return -EPROTO;
  memcpy(out, reply.data(), sizeof(T));
  return 0;
}

// The bytes of a trivially copyable value, as a payload.
template <class T>
std::string_view Bytes(const T& value) {
  return {reinterpret_cast<const char*>(&value), sizeof(value)};
}

// Connects to the daemon's socket under `root`, retrying until `deadline`
// while it is unreachable. Returns the socket or -errno (-ENOTCONN after the
// deadline).
int ConnectWithRetry(const std::string& root,
                     std::chrono::steady_clock::time_point deadline);

}  // namespace sim::llapi

#endif  // SIM_LLAPI_RPC_H_
