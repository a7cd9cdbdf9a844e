// Issue 17, end to end: the server on Redis through Sentinel with
// redis_wait_replicas 1 (a master, a replica, three sentinels of the
// test's own). The master is SIGKILLed: the server follows the master the
// sentinels elect, takes new requests there once it has a replica again,
// and a server restarted afterwards recovers every request from the new
// master; each ends at Lustre once.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/server/store_fixture.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

class SentinelFailoverTest : public StoreFixture {
 protected:
  // No single redis-server of StoreFixture's: RedisHa's.
  SentinelFailoverTest() : StoreFixture("sentinel") {}

  std::vector<std::string> Args() const {
    std::vector<std::string> args = {"--store",
                                     "redis",
                                     "--redis-sentinels",
                                     ha_.SentinelList(),
                                     "--redis-master-name",
                                     "cdt",
                                     "--redis-wait-replicas",
                                     "1",
                                     "--redis-wait-timeout",
                                     "300"};
    // A leader of high availability: its lease (longer than Sentinel's
    // failover) renewed on the new master, its writes fenced there.
    if (leader_) args.insert(args.end(), {"--ha-lease", "15000"});
    return ServerArgs(args);
  }

  void RunFailover();

  // Requests the new master (the old replica) holds.
  size_t OnReplica() {
    return ha_.replica().HGetAll("coordinatool_requests").size();
  }

  bool leader_ = false;
  TempDir ha_dir_{"redis_ha"};
  RedisHa ha_{ha_dir_.path()};
};

TEST_F(SentinelFailoverTest, FollowsTheElectedMasterAndLosesNoRequest) {
  RunFailover();
}

// The same with the server leading a high-availability pair (issue 17):
// the lease and the fenced writes follow the new master too, and the
// leader keeps leading.
TEST_F(SentinelFailoverTest, AnHaLeaderFollowsTheElectedMasterAndKeepsLeading) {
  leader_ = true;
  RunFailover();
}

void SentinelFailoverTest::RunFailover() {
  ASSERT_EQ(ha_.StartServers(), "");
  ASSERT_EQ(ha_.StartSentinels(), "");
  ASSERT_TRUE(cdt_.StartServer(Args()));
  Lfs("hsm_archive", MakeFiles("before", 4));
  // Acknowledged means on the replica too (WAIT).
  ASSERT_TRUE(WaitFor([&] { return OnReplica() == 4; })) << cdt_.Logs();

  ha_.master().Kill();
  ASSERT_EQ(ha_.WaitFailover(), "");
  ASSERT_EQ(ha_.RejoinAsReplica(), "");
  Lfs("hsm_archive", MakeFiles("after", 4));
  ASSERT_TRUE(WaitFor([&] {
    return OnReplica() == 8 && cdt_.Status()["store_state"] == "ok";
  })) << cdt_.Logs();
  if (leader_) {
    EXPECT_EQ(cdt_.Status()["role"], "leader") << cdt_.Logs();
    EXPECT_EQ(ha_.replica().Call({"GET", "coordinatool_epoch"}),
              std::vector<std::string>{"1"});
  }

  // A server started afresh finds everything on the new master.
  cdt_.KillServer();
  // The dead leader's lease lapses at once rather than in 15 s.
  if (leader_) ha_.replica().Call({"DEL", "coordinatool_leader"});
  ASSERT_TRUE(cdt_.StartServer(Args()));
  auto lines = cdt_.ServerLogLines("recovered \\d+ requests");
  ASSERT_FALSE(lines.empty()) << cdt_.Logs();
  EXPECT_NE(lines.back().find("recovered 8 requests"), std::string::npos)
      << lines.back();
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("ARCHIVE", "SUCCEED") == 8;
  })) << sim_.GetParam("hsm.actions")
      << cdt_.Logs();
  std::map<std::string, int> per_cookie;
  for (const ActionRecord& r : sim_.Actions()) ++per_cookie[CookieOf(r)];
  EXPECT_EQ(per_cookie.size(), 8u);
  for (const auto& [cookie, n] : per_cookie) EXPECT_EQ(n, 1) << cookie;
}

}  // namespace
}  // namespace testing_support
