// HaStatusView: the leader/standby state (docs/high-availability.md) as
// the status reply and the metrics show it.
//
// Thread-safety: a plain value.
#ifndef SERVER_HA_STATUS_H_
#define SERVER_HA_STATUS_H_

#include <cstdint>
#include <string>

namespace server {

// The leader/standby state, in status and metrics.
struct HaStatusView {
  std::string role;  // leader, standby, stepped-down
  uint64_t epoch = 0;
  int64_t lease_remaining_ms = 0;
  std::string leader;  // host:port of the leader, "" unknown
  // The last takeover by this process: when it took the lease (Unix ns,
  // 0: never) and how long loading the state and registering took.
  int64_t last_takeover_unix_ns = 0;
  int64_t last_takeover_ms = 0;
};

}  // namespace server

#endif  // SERVER_HA_STATUS_H_
