#include "server/liveness.h"

#include <gtest/gtest.h>

namespace server {
namespace {

using std::chrono::milliseconds;

class LivenessTest : public ::testing::Test {
 protected:
  common::ManualClock clock_;
  Liveness liveness_{
      {.handshake = milliseconds(1000), .silence = milliseconds(9000)}};
};

TEST_F(LivenessTest, ConnectionWithoutEhloIsClosedAfterTheHandshakeBound) {
  PeerTimes peer{.connected_at = clock_.Now(), .last_heard = clock_.Now()};
  clock_.Advance(milliseconds(999));
  EXPECT_EQ(liveness_.Verdict(peer, clock_.Now()), "");
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(liveness_.Verdict(peer, clock_.Now()),
            "no ehlo within 1000 ms of connecting");
}

TEST_F(LivenessTest, SilentHeartbeatingMoverIsClosed) {
  PeerTimes peer{.introduced = true,
                 .heartbeats = true,
                 .connected_at = clock_.Now(),
                 .last_heard = clock_.Now()};
  clock_.Advance(milliseconds(8999));
  EXPECT_EQ(liveness_.Verdict(peer, clock_.Now()), "");
  peer.last_heard = clock_.Now();  // a heartbeat
  clock_.Advance(milliseconds(8999));
  EXPECT_EQ(liveness_.Verdict(peer, clock_.Now()), "");
  clock_.Advance(milliseconds(1));
  EXPECT_NE(liveness_.Verdict(peer, clock_.Now()).find("silent for 9000 ms"),
            std::string::npos);
}

TEST_F(LivenessTest, SilentHeartbeatingMoverIsAskedOncePerInterval) {
  PeerTimes peer{.introduced = true,
                 .heartbeats = true,
                 .connected_at = clock_.Now(),
                 .last_heard = clock_.Now(),
                 .asked = clock_.Now()};
  clock_.Advance(milliseconds(2999));
  EXPECT_FALSE(liveness_.ShouldAsk(peer, clock_.Now()));
  clock_.Advance(milliseconds(1));
  EXPECT_TRUE(liveness_.ShouldAsk(peer, clock_.Now()));
  peer.asked = clock_.Now();
  clock_.Advance(milliseconds(2999));
  EXPECT_FALSE(liveness_.ShouldAsk(peer, clock_.Now()));
  clock_.Advance(milliseconds(1));
  EXPECT_TRUE(liveness_.ShouldAsk(peer, clock_.Now()));
  peer.heartbeats = false;
  EXPECT_FALSE(liveness_.ShouldAsk(peer, clock_.Now()));
}

TEST_F(LivenessTest, PeerWithoutHeartbeatsIsNeverClosedForSilence) {
  PeerTimes peer{.introduced = true,
                 .connected_at = clock_.Now(),
                 .last_heard = clock_.Now()};
  clock_.Advance(std::chrono::hours(24));
  EXPECT_EQ(liveness_.Verdict(peer, clock_.Now()), "");
  // ... but a new ehlo with its id takes over.
  EXPECT_TRUE(liveness_.MayTakeOver(peer, clock_.Now()));
}

TEST_F(LivenessTest, TakeOverOnlyAfterTheSilenceBound) {
  PeerTimes peer{.introduced = true, .last_heard = clock_.Now()};
  clock_.Advance(milliseconds(8999));
  EXPECT_FALSE(liveness_.MayTakeOver(peer, clock_.Now()));
  clock_.Advance(milliseconds(1));
  EXPECT_TRUE(liveness_.MayTakeOver(peer, clock_.Now()));
  Liveness off({});
  EXPECT_FALSE(off.MayTakeOver(peer, clock_.Now() + std::chrono::hours(1)));
  EXPECT_EQ(off.check_period().count(), 0);
}

TEST_F(LivenessTest, PeriodsFollowTheBounds) {
  EXPECT_EQ(liveness_.heartbeat_interval(), milliseconds(3000));
  EXPECT_EQ(liveness_.check_period(), milliseconds(250));
  KeepaliveSettings k = KeepaliveFor(milliseconds(120000));
  EXPECT_EQ(k.idle_s, 60);
  EXPECT_EQ(k.interval_s, 15);
  EXPECT_EQ(k.count, 4);
  EXPECT_LE(k.idle_s + k.interval_s * k.count, 120);
  EXPECT_EQ(KeepaliveFor(milliseconds(0)).idle_s, 0);
}

}  // namespace
}  // namespace server
