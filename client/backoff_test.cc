#include "client/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace client {
namespace {

using std::chrono::milliseconds;

// The largest value: every delay is its ceiling.
uint64_t Max() { return UINT64_MAX; }

TEST(BackoffTest, DoublesFrom100MsToA30SecondCap) {
  common::ManualClock clock;
  Backoff backoff(clock, {}, [] { return UINT64_MAX - 1; });
  std::vector<int64_t> ceilings;
  for (int i = 0; i < 12; ++i) {
    ceilings.push_back(backoff.Ceiling().count());
    backoff.NextDelay();
  }
  EXPECT_EQ(ceilings,
            (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 6400, 12800,
                                  25600, 30000, 30000, 30000}));
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(backoff.Ceiling(), milliseconds(30000));
}

TEST(BackoffTest, FullJitterSpansZeroToTheCeiling) {
  common::ManualClock clock;
  uint64_t next = 0;
  Backoff backoff(clock, {}, [&] { return next; });
  next = 0;
  EXPECT_EQ(backoff.NextDelay(), milliseconds(0));
  next = 200;  // ceiling 200: 200 % 201
  EXPECT_EQ(backoff.NextDelay(), milliseconds(200));
  next = 401 + 123;  // ceiling 400
  EXPECT_EQ(backoff.NextDelay(), milliseconds(123));
  Backoff maxed(clock, {}, Max);
  for (int i = 0; i < 40; ++i)
    EXPECT_LE(maxed.NextDelay(), milliseconds(30000));
}

// A connection dropped at once (a server refusing the mover, a reply it
// cannot read) does not restart the schedule: no reconnect storm.
TEST(BackoffTest, ShortLivedConnectionsKeepBackingOff) {
  common::ManualClock clock;
  Backoff backoff(clock, {}, [] { return UINT64_MAX; });
  for (int i = 0; i < 5; ++i) {
    backoff.Connected();
    clock.Advance(milliseconds(50));
    backoff.NextDelay();
  }
  EXPECT_EQ(backoff.Ceiling(), milliseconds(3200));
}

TEST(BackoffTest, HealthyConnectionRestartsTheSchedule) {
  common::ManualClock clock;
  Backoff backoff(clock, {}, [] { return 7; });
  for (int i = 0; i < 6; ++i) backoff.NextDelay();
  backoff.Connected();
  clock.Advance(milliseconds(10'000));  // lived healthy_after
  backoff.NextDelay();
  EXPECT_EQ(backoff.Ceiling(), milliseconds(200));
  for (int i = 0; i < 6; ++i) backoff.NextDelay();
  backoff.Connected();
  backoff.Healthy();  // a usable reply
  EXPECT_EQ(backoff.Ceiling(), milliseconds(100));
}

}  // namespace
}  // namespace client
