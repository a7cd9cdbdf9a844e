// Per-mover control in the client: what a status says a mover runs, the
// operator's line, and the bounded wait for a drained mover (a ManualClock
// stepped by the wait's own sleeps).
#include "client/mover_control.h"

#include <gtest/gtest.h>

#include <vector>

namespace client {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

json::object Status(const std::string& clients) {
  return json::parse(R"({"clients":)" + clients + "}").as_object();
}

TEST(MoverControlTest, RunningOnSumsTheMoversCurrentCounts) {
  json::object status =
      Status(R"([{"client_id":"m1","current_restore":1,"current_archive":3},)"
             R"({"client_id":"m2"},{"client_id":"127.0.0.1:4000"}])");
  EXPECT_EQ(RunningOn(status, "m1"), 4);
  EXPECT_EQ(RunningOn(status, "m2"), 0);  // zero counts are omitted
  EXPECT_EQ(RunningOn(status, "m3"), std::nullopt);
  EXPECT_EQ(RunningOn(json::object{}, "m1"), std::nullopt);
}

TEST(MoverControlTest, DescribeSaysWhatIsLeft) {
  protocol::MoverControlReply reply;
  reply.client_id = "m1";
  reply.connected = true;
  reply.current = {1, 0, 3};
  EXPECT_EQ(Describe(reply),
            "mover m1 drained; it still runs 1 restore, 0 remove, 3 archive");
  reply.drain = false;
  reply.connected = false;
  reply.current = {};
  EXPECT_EQ(Describe(reply),
            "mover m1 resumed (disconnected, within its grace time); it still "
            "runs 0 restore, 0 remove, 0 archive");
}

class WaitTest : public ::testing::Test {
 protected:
  // The statuses read in turn (the last one repeats).
  WaitOutcome Wait(std::vector<std::string> clients,
                   common::Clock::Duration limit) {
    size_t next = 0;
    auto read = [&](json::object* out, std::string* error) {
      if (clients.empty()) {
        *error = "connection closed";
        return false;
      }
      ++reads;
      *out = Status(clients[std::min(next++, clients.size() - 1)]);
      return true;
    };
    auto sleep = [&](common::Clock::Duration d) {
      slept.push_back(d);
      clock.Advance(d);
    };
    return WaitUntilIdle("m1", read, clock, 1s, limit, sleep);
  }

  common::ManualClock clock;
  int reads = 0;
  std::vector<common::Clock::Duration> slept;
};

TEST_F(WaitTest, EndsOnceTheMoverRunsNothing) {
  WaitOutcome out = Wait({R"([{"client_id":"m1","current_archive":2}])",
                          R"([{"client_id":"m1","current_archive":1}])",
                          R"([{"client_id":"m1"}])"},
                         60s);
  EXPECT_EQ(out.end, WaitEnd::kIdle);
  EXPECT_EQ(reads, 3);
  EXPECT_EQ(slept, (std::vector<common::Clock::Duration>{1s, 1s}));
}

TEST_F(WaitTest, StopsAtTheBoundWithWhatIsLeft) {
  WaitOutcome out =
      Wait({R"([{"client_id":"m1","current_restore":2}])"}, 2500ms);
  EXPECT_EQ(out.end, WaitEnd::kTimedOut);
  EXPECT_EQ(out.running, 2);
  // Read at 0, 1 s, 2 s and at the bound, never past it.
  EXPECT_EQ(reads, 4);
  EXPECT_EQ(slept, (std::vector<common::Clock::Duration>{1s, 1s, 500ms}));
}

TEST_F(WaitTest, AForgottenMoverOrAnUnreadableStatusEndsTheWait) {
  EXPECT_EQ(Wait({R"([])"}, 10s).end, WaitEnd::kForgotten);
  WaitOutcome out = Wait({}, 10s);
  EXPECT_EQ(out.end, WaitEnd::kError);
  EXPECT_EQ(out.error, "connection closed");
}

}  // namespace
}  // namespace client
