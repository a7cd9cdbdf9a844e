#include "server/liveness.h"

#include <fmt/format.h>

#include <algorithm>

namespace server {

namespace {

int64_t ToMs(common::Clock::Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

std::string Liveness::Verdict(const PeerTimes& peer,
                              common::Clock::TimePoint now) const {
  if (!peer.introduced) {
    if (options_.handshake.count() > 0 &&
        now - peer.connected_at >= options_.handshake)
      return fmt::format("no ehlo within {} ms of connecting",
                         options_.handshake.count());
    return "";
  }
  if (peer.heartbeats && options_.silence.count() > 0 &&
      now - peer.last_heard >= options_.silence)
    return fmt::format("silent for {} ms (no heartbeat; the bound is {} ms)",
                       ToMs(now - peer.last_heard), options_.silence.count());
  return "";
}

bool Liveness::ShouldAsk(const PeerTimes& peer,
                         common::Clock::TimePoint now) const {
  const auto interval = heartbeat_interval();
  return peer.introduced && peer.heartbeats && interval.count() > 0 &&
         now - peer.last_heard >= interval && now - peer.asked >= interval;
}

bool Liveness::MayTakeOver(const PeerTimes& holder,
                           common::Clock::TimePoint now) const {
  return options_.silence.count() > 0 &&
         now - holder.last_heard >= options_.silence;
}

std::chrono::milliseconds Liveness::check_period() const {
  std::chrono::milliseconds shortest{0};
  for (auto bound : {options_.handshake, options_.silence})
    if (bound.count() > 0 && (shortest.count() == 0 || bound < shortest))
      shortest = bound;
  if (shortest.count() == 0) return shortest;
  return std::clamp(shortest / 4, std::chrono::milliseconds(50),
                    std::chrono::milliseconds(5000));
}

KeepaliveSettings KeepaliveFor(std::chrono::milliseconds silence) {
  KeepaliveSettings k;
  if (silence.count() <= 0) return k;
  const int64_t s = std::max<int64_t>(2, silence.count() / 1000);
  k.idle_s = static_cast<int>(std::max<int64_t>(1, s / 2));
  k.count = 4;
  k.interval_s = static_cast<int>(std::max<int64_t>(1, (s - k.idle_s) / 4));
  return k;
}

}  // namespace server
