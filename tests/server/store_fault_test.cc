// Issue 10 (6), end to end: the server's disk fills up (a file-size limit
// set on the running server, so its journal writes fail with EFBIG, short
// writes included). Nothing read from Lustre or queued meanwhile is handed
// out or acknowledged before it is durable, the store says so without
// flapping, and once there is room again everything completes, once.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "store/journal_format.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/server/raw_peer.h"
#include "tests/server/store_fixture.h"
#include "tests/support/redis_server.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

// The server's disk or Redis's memory fills up, then has room again.
class StoreFaultFixture : public StoreFixture {
 protected:
  explicit StoreFaultFixture(std::string kind)
      : StoreFixture(std::move(kind)) {}

  // The store loses what it held.
  void WipeStore() {
    if (redis_)
      redis_->Call({"FLUSHALL"});
    else
      std::filesystem::remove_all(cdt_.state_dir());
  }

  // No room for one more write, then room again.
  void FillStore() {
    if (redis_) {
      redis_->Call({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
      redis_->Call({"CONFIG", "SET", "maxmemory", "1"});
    } else {
      LimitServerFiles(JournalSize());
    }
  }
  void FreeStore() {
    if (redis_)
      redis_->Call({"CONFIG", "SET", "maxmemory", "0"});
    else
      LimitServerFiles(RLIM_INFINITY);
  }

  // Limits the size of any file the server writes (its journal) to
  // `bytes`; RLIM_INFINITY lifts the limit. Only the soft limit: raising
  // it back needs no privilege.
  void LimitServerFiles(rlim_t bytes) {
    rlimit limit{bytes, RLIM_INFINITY};
    ASSERT_EQ(prlimit(cdt_.server().pid(), RLIMIT_FSIZE, &limit, nullptr), 0)
        << strerror(errno);
  }

  uint64_t JournalSize() {
    struct stat st {};
    EXPECT_EQ(stat((cdt_.state_dir() + "/journal").c_str(), &st), 0);
    return static_cast<uint64_t>(st.st_size);
  }

  // Items the mover has received (ct-posix logs each action it starts),
  // by cookie.
  std::map<std::string, int> Received(const std::vector<std::string>& movers = {
                                          "m1"}) {
    std::map<std::string, int> cookies;
    // Every match, not one per line: the copytool's worker threads log
    // through llapi, which (as Lustre's) writes the prefix, the text and
    // the newline in separate calls, so two actions can share a line.
    std::regex action(R"(action ARCHIVE reclen \d+, cookie=(0x[0-9a-f]+))");
    for (const std::string& mover : movers) {
      std::string log = cdt_.MoverLog(mover);
      for (std::sregex_iterator m(log.begin(), log.end(), action), end;
           m != end; ++m)
        ++cookies[(*m)[1]];
    }
    return cookies;
  }
  size_t Begun() {
    size_t n = 0;
    for (const auto& [cookie, count] : Received()) n += count;
    return n;
  }
};

class StoreFaultTest : public StoreFaultFixture,
                       public ::testing::WithParamInterface<std::string> {
 protected:
  StoreFaultTest() : StoreFaultFixture(GetParam()) {}
};

class JournalDamageTest : public StoreFaultFixture {
 protected:
  JournalDamageTest() : StoreFaultFixture("embedded") {}
};

TEST_P(StoreFaultTest, FullStoreHandsOutAndAcknowledgesNothingUntilDurable) {
  // Requests Lustre holds that the server does not know (its store was
  // wiped), for a `queue` command to bring in while the disk is full.
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  Lfs("hsm_archive", MakeFiles("q", 4));
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 4; }));
  cdt_.KillServer();
  WipeStore();
  std::string active = sim_.GetParam("hsm.active_requests");

  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  Lfs("hsm_archive", MakeFiles("before", 3));
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("ARCHIVE", "SUCCEED") == 3;
  })) << cdt_.Logs();
  // The mover ends each action at Lustre before it tells the server: wait
  // for the server's three dones, so that their store changes are made
  // now, and durable once `status` answers (it waits for every change
  // before it). Else one could meet the full disk first, and the store
  // would refuse the `queue` below at once (EAGAIN) instead of holding it.
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 3; }))
      << cdt_.Logs();
  ASSERT_EQ(cdt_.Status()["store_state"], "ok");
  ASSERT_EQ(Begun(), 3u);

  // The disk is full (no byte more for the journal), or Redis's memory.
  FillStore();
  auto queued = std::async(std::launch::async,
                           [&] { return cdt_.Client({"-Q"}, active); });
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.Status()["store_state"] == "cannot persist";
  })) << cdt_.Logs();
  Lfs("hsm_archive", MakeFiles("full", 5));
  // Through several retries (100 ms doubling): the store never says it is
  // back, nothing new reaches the mover, the queue is not acknowledged.
  bool broke = WaitFor(
      [&] {
        return cdt_.Status()["store_state"] != "cannot persist" ||
               Begun() > 3 ||
               queued.wait_for(std::chrono::seconds(0)) ==
                   std::future_status::ready;
      },
      std::chrono::seconds(3), std::chrono::milliseconds(50));
  EXPECT_FALSE(broke) << "store_state " << cdt_.Status()["store_state"]
                      << ", begun " << Begun() << ", queue answered "
                      << (queued.wait_for(std::chrono::seconds(0)) ==
                          std::future_status::ready)
                      << "\n"
                      << cdt_.Logs();
  EXPECT_TRUE(cdt_.server().Running());

  // Room again: the queued changes are written, then acknowledged and
  // served; every request ends once.
  FreeStore();
  CommandResult r = queued.get();
  ASSERT_TRUE(r.ok()) << r.Describe() << cdt_.Logs();
  EXPECT_EQ(r.out, "queued 4 new requests, 0 already known\n");
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("ARCHIVE", "SUCCEED") == 12;
  })) << sim_.GetParam("hsm.actions")
      << cdt_.Logs();
  std::map<std::string, int> per_cookie;
  for (const ActionRecord& r : sim_.Actions()) {
    ++per_cookie[CookieOf(r)];
    EXPECT_EQ(r.status(), "SUCCEED") << r.line;
  }
  EXPECT_EQ(per_cookie.size(), 12u);
  for (const auto& [cookie, n] : per_cookie) EXPECT_EQ(n, 1) << cookie;
  EXPECT_EQ(cdt_.Status()["store_state"], "ok");
  // Nothing left in the store.
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.Counter("running_archive") == 0 &&
           cdt_.Counter("pending_archive") == 0;
  }));
  cdt_.KillServer();
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  auto lines = cdt_.ServerLogLines("recovered \\d+ requests");
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("recovered 0 requests"), std::string::npos)
      << lines.back();
}

// A mover's `recv` and an unknown command in one write while the store
// cannot persist: the recv's reply (an item handed out) waits for the store,
// and the connection closes only after it, however long that takes
// (docs/operations.md, "When the store is unreachable").
TEST_P(StoreFaultTest, ACloseWaitsBehindTheRepliesHeldForTheStore) {
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  common::UniqueFd fd = ConnectTo(cdt_.port());
  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"ehlo","id":"raw"})"));
  ASSERT_NE(ReadObject(fd.get()).find(R"("command":"ehlo")"),
            std::string::npos);
  FillStore();
  // The request's first write fails: the store cannot persist, and the
  // request waits in memory.
  Lfs("hsm_archive", MakeFiles("held", 1));
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.Status()["store_state"] == "cannot persist";
  })) << cdt_.Logs();
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 1; }));
  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"recv"})"
                                R"({"command":"fly"})"));
  // Handled (the item handed out, its reply held) with the unknown command
  // that follows it in the same read. (The server's log cannot grow
  // either while the journal's file limit holds.)
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("running_archive") == 1; }))
      << cdt_.Logs();

  FreeStore();
  std::string reply = ReadObject(fd.get());
  ASSERT_NE(reply.find("hsm_action_list"), std::string::npos)
      << "not the recv's reply: '" << reply << "'\n"
      << cdt_.Logs();
  EXPECT_TRUE(ClosedWithNothingMore(fd.get()));
  EXPECT_EQ(cdt_.Status()["store_state"], "ok");
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreFaultTest,
                         ::testing::Values("embedded", "redis"),
                         [](const auto& info) { return info.param; });

// The journal holds finished requests (their Put, Assign and, later,
// Forget) and waiting ones. A byte of the first Assign is damaged while the
// server is down. That record only is lost: the finished requests are not
// brought back and run again (they used to be: the journal was cut at the
// damage, losing every Forget after it, and the waiting requests), the
// waiting ones are all recovered, the loss is reported with its cookie and
// FID, and the damaged journal is kept.
TEST_F(JournalDamageTest, DamagedRecordCostsOneRecordAndReplaysNothing) {
  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  Process* m1 = cdt_.StartMover("m1");
  ASSERT_NE(m1, nullptr);
  Lfs("hsm_archive", MakeFiles("done", 10));
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 10; }))
      << cdt_.Logs();
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  Lfs("hsm_archive", MakeFiles("wait", 10));
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 10; }));
  cdt_.Status();  // answered once every change before it is durable
  cdt_.KillServer();
  // No mover until the requeue below is done: what Lustre lists as active
  // then is what the restarted server must know.
  m1->Kill();

  std::string path = cdt_.state_dir() + "/journal";
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream data;
    data << in.rdbuf();
    bytes = data.str();
  }
  size_t damaged_at = 0;
  std::string damaged_key;
  store::ScanJournal(
      bytes, [&](const store::JournalRecord& r, size_t at, size_t size) {
        if (r.type == 'A' && damaged_key.empty()) {
          damaged_key = r.key;
          damaged_at = at + size - 1;  // the last byte of the mover id
        }
      });
  ASSERT_FALSE(damaged_key.empty());
  bytes[damaged_at] ^= 0x80;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }

  ASSERT_TRUE(cdt_.StartServer(ServerArgs()));
  auto damage = cdt_.ServerLogLines("damaged bytes at offset");
  ASSERT_EQ(damage.size(), 1u) << cdt_.Logs();
  EXPECT_NE(damage[0].find(store::DescribeRequestKey(damaged_key)),
            std::string::npos)
      << damage[0];
  EXPECT_FALSE(cdt_.ServerLogLines("kept as .*journal.damaged").empty());
  auto recovered = cdt_.ServerLogLines("recovered \\d+ requests");
  EXPECT_NE(recovered.back().find("recovered 10 requests"), std::string::npos)
      << recovered.back();
  // The post-start requeue finds every waiting request known.
  CommandResult requeue =
      cdt_.Client({"-Q"}, sim_.GetParam("hsm.active_requests"));
  ASSERT_TRUE(requeue.ok()) << requeue.Describe();
  EXPECT_EQ(requeue.out, "queued 0 new requests, 10 already known\n")
      << cdt_.Logs();
  ASSERT_NE(cdt_.StartMover("m2"), nullptr);
  ASSERT_TRUE(WaitFor([&] {
    return sim_.CountActions("ARCHIVE", "SUCCEED") == 20;
  })) << sim_.GetParam("hsm.actions")
      << cdt_.Logs();
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 10; }));
  // Each request reached the mover once: nothing finished was run again.
  std::map<std::string, int> received = Received({"m1", "m2"});
  EXPECT_EQ(received.size(), 20u);
  for (const auto& [cookie, n] : received) EXPECT_EQ(n, 1) << cookie;
}

}  // namespace
}  // namespace testing_support
