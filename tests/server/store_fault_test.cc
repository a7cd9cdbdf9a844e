// Issue 10 (6), end to end: the server's disk fills up (a file-size limit
// set on the running server, so its journal writes fail with EFBIG, short
// writes included). Nothing read from Lustre or queued meanwhile is handed
// out or acknowledged before it is durable, the store says so without
// flapping, and once there is room again everything completes, once.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

std::string CookieOf(const ActionRecord& r) {
  const std::string& compound = r.Get("compound/cookie");
  return compound.substr(compound.find('/') + 1);
}

class StoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }

  std::vector<std::string> MakeFiles(const std::string& name, int count) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      std::string path = sim_.Path(name + std::to_string(i));
      EXPECT_TRUE(WriteTestFile(path, 4096 + 17 * i, i));
      paths.push_back(path);
    }
    return paths;
  }

  void Lfs(const std::string& command, const std::vector<std::string>& paths) {
    std::vector<std::string> args = {command};
    args.insert(args.end(), paths.begin(), paths.end());
    CommandResult r = sim_.Lfs(args);
    ASSERT_TRUE(r.ok()) << r.Describe();
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

  // Items the mover has received (ct-posix logs each action it starts).
  size_t Begun() {
    std::string log = cdt_.MoverLog("m1");
    size_t n = 0;
    for (size_t at = log.find("action ARCHIVE"); at != std::string::npos;
         at = log.find("action ARCHIVE", at + 1))
      ++n;
    return n;
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
};

TEST_F(StoreFaultTest, DiskFullHandsOutAndAcknowledgesNothingUntilDurable) {
  // Requests Lustre holds that the server does not know (its store was
  // wiped), for a `queue` command to bring in while the disk is full.
  ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000"}));
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  Lfs("hsm_archive", MakeFiles("q", 4));
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 4; }));
  cdt_.KillServer();
  std::filesystem::remove_all(cdt_.state_dir());
  std::string active = sim_.GetParam("hsm.active_requests");

  ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000"}));
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  Lfs("hsm_archive", MakeFiles("before", 3));
  ASSERT_TRUE(
      WaitFor([&] { return sim_.CountActions("ARCHIVE", "SUCCEED") == 3; }))
      << cdt_.Logs();
  ASSERT_EQ(cdt_.Status()["store_state"], "ok");
  ASSERT_EQ(Begun(), 3u);

  // The disk is full: no byte more for the journal.
  LimitServerFiles(JournalSize());
  auto queued = std::async(std::launch::async,
                           [&] { return cdt_.Client({"-Q"}, active); });
  ASSERT_TRUE(WaitFor(
      [&] { return cdt_.Status()["store_state"] == "cannot persist"; }))
      << cdt_.Logs();
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
  LimitServerFiles(RLIM_INFINITY);
  CommandResult r = queued.get();
  ASSERT_TRUE(r.ok()) << r.Describe() << cdt_.Logs();
  EXPECT_EQ(r.out, "queued 4 new requests, 0 already known\n");
  ASSERT_TRUE(WaitFor(
      [&] { return sim_.CountActions("ARCHIVE", "SUCCEED") == 12; }))
      << sim_.GetParam("hsm.actions") << cdt_.Logs();
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
  ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000"}));
  auto lines = cdt_.ServerLogLines("recovered \\d+ requests");
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("recovered 0 requests"), std::string::npos)
      << lines.back();
}

}  // namespace
}  // namespace testing_support
