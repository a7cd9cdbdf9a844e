// Liveness: when a connection is known dead although its peer never closed
// it (a host that vanished, a SIGSTOPped or hung mover, a client that
// connected and never spoke), so that it gives up its mover id and a
// restarted mover with that id is accepted. docs/operations.md, "Dead
// connections", states the rules:
//
// - a connection that sent no ehlo within `handshake` is closed;
// - a mover that announced heartbeats (ehlo "heartbeat": true) is sent
//   {"command":"heartbeat"} once silent for `heartbeat_interval()` (and
//   again each interval), which it answers at once; silent for `silence`,
//   it is closed;
// - a new ehlo with the id of a connection silent for `silence` takes the
//   id over (whether or not the old one announced heartbeats): the old
//   connection is closed, the id keeps its items.
// TCP keepalive (KeepaliveFor) finds peers whose host or link is gone.
//
// Pure logic: time comes from the caller. Thread-safety: value type.
#ifndef SERVER_LIVENESS_H_
#define SERVER_LIVENESS_H_

#include <chrono>
#include <string>

#include "common/clock.h"

namespace server {

struct LivenessOptions {
  std::chrono::milliseconds handshake{0};  // 0: no bound
  std::chrono::milliseconds silence{0};    // 0: no bound
};

struct PeerTimes {
  bool introduced = false;  // ehlo accepted
  bool heartbeats = false;  // announced heartbeats
  common::Clock::TimePoint connected_at{};
  common::Clock::TimePoint last_heard{};  // last whole message
  common::Clock::TimePoint asked{};       // last heartbeat sent to it
};

class Liveness {
 public:
  explicit Liveness(LivenessOptions options) : options_(options) {}

  // Why `peer` must be closed now, or "" if it may live on.
  std::string Verdict(const PeerTimes& peer,
                      common::Clock::TimePoint now) const;
  // Whether `peer` should be sent a heartbeat now.
  bool ShouldAsk(const PeerTimes& peer, common::Clock::TimePoint now) const;
  // Whether a new ehlo may take the id of `holder` over.
  bool MayTakeOver(const PeerTimes& holder, common::Clock::TimePoint now) const;
  // The silence after which a mover is asked for a heartbeat, and the
  // period of the asking: a third of the silence bound, so that a slow
  // answer does not kill a live mover. 0: none.
  std::chrono::milliseconds heartbeat_interval() const {
    return options_.silence / 3;
  }
  // How often Verdict() should be asked: a quarter of the shortest bound,
  // within [50 ms, 5 s]. 0: never (no bound set).
  std::chrono::milliseconds check_period() const;

 private:
  LivenessOptions options_;
};

// TCP keepalive settings that declare a silent peer dead about `silence`
// after its last packet: idle for half of it, then probes.
struct KeepaliveSettings {
  int idle_s = 0;
  int interval_s = 0;
  int count = 0;
};
KeepaliveSettings KeepaliveFor(std::chrono::milliseconds silence);

}  // namespace server

#endif  // SERVER_LIVENESS_H_
