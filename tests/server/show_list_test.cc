// `show`, `list` and the status an operator reads, end to end: the server
// on the simulator with real movers (ct-posix under the preload library)
// and coordinatool-client.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

class ShowListTest : public ::testing::Test {
 protected:
  void Start(const std::string& config) {
    ASSERT_TRUE(sim_.StartDaemon());
    const std::string path = sim_.archive() + "/../coordinatool.conf";
    std::ofstream(path) << config;
    ASSERT_TRUE(cdt_.StartServer({"-c", path, "--client-grace", "600000"}));
  }
  // `show TARGET --json`: the requests of the reply (empty on error).
  json::array Requests(const std::string& target) {
    CommandResult r = cdt_.Client({"show", target, "--json"});
    EXPECT_TRUE(r.ok()) << r.Describe();
    if (!r.ok()) return {};
    return json::parse(r.out).at("requests").as_array();
  }
  // The first request `show` names for `target`: the newest held, else
  // the newest ended (empty if none).
  json::object Show(const std::string& target) {
    json::array requests = Requests(target);
    if (requests.empty()) return {};
    return requests[0].as_object();
  }
  static std::string Str(const json::object& o, const char* key) {
    const json::value* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : "";
  }
  std::string StateOf(const std::string& target) {
    return Str(Show(target), "state");
  }
  // Archives `files` with a mover of the test's own, then releases them.
  void ArchiveAndRelease(const std::vector<std::string>& files) {
    for (const std::string& path : files)
      ASSERT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
          << cdt_.Logs();
    std::vector<std::string> release = {"hsm_release"};
    release.insert(release.end(), files.begin(), files.end());
    ASSERT_TRUE(sim_.Lfs(release).ok());
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
};

// One file's request followed from waiting to batched to running to done:
// what `show` answers at each step, by path and by FID.
TEST_F(ShowListTest, ShowFollowsArchivesThroughTheirBatchToDone) {
  Start(
      "batch_archives_slices_sec 3600\n"
      "batch_archives_slots_per_client 1\n");
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  auto files = sim_.ArchiveNewFiles("f", 2, "project=a");
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 2; }));
  const std::string fid0 = FidOf(files[0]);

  // Waiting: the global queue, its place, its batch hint; by path or FID.
  json::object waiting = Show(files[1]);
  EXPECT_EQ(Str(waiting, "state"), "waiting") << waiting;
  EXPECT_EQ(Str(waiting, "queue"), "global");
  EXPECT_EQ(Str(waiting, "fid"), FidOf(files[1]));
  EXPECT_EQ(waiting.at("position").to_number<int64_t>(), 1);
  EXPECT_EQ(Str(waiting, "batch_hint"), "project=a");
  EXPECT_FALSE(waiting.contains("batch_mover"));  // no slot took it yet
  EXPECT_EQ(Show(fid0).at("position").to_number<int64_t>(), 0);
  CommandResult human = cdt_.Client({"show", files[1]});
  ASSERT_TRUE(human.ok()) << human.Describe();
  EXPECT_NE(human.out.find(FidOf(files[1]) + " archive"), std::string::npos)
      << human.out;
  EXPECT_NE(human.out.find("waiting in the global queue"), std::string::npos)
      << human.out;
  EXPECT_NE(human.out.find("1 ahead"), std::string::npos) << human.out;

  // A slow mover taking one archive at a time: the first runs from its
  // slot, the second waits for that slot.
  ASSERT_NE(cdt_.StartMover("m1", {{"COORDINATOOL_MAX_ARCHIVE", "1"}},
                            {"--bandwidth", "4K"}),
            nullptr);
  ASSERT_TRUE(cdt_.Client({"--unlock"}).ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf(files[0]) == "running"; }))
      << cdt_.Logs();
  json::object running = Show(files[0]);
  EXPECT_EQ(Str(running, "mover"), "m1") << running;
  EXPECT_TRUE(running.contains("running_s")) << running;
  EXPECT_GT(running.at("running_since_ns").to_number<int64_t>(), 0);
  json::object batched = Show(files[1]);
  EXPECT_EQ(Str(batched, "state"), "waiting") << batched;
  EXPECT_EQ(Str(batched, "batch_mover"), "m1") << batched;
  EXPECT_EQ(batched.at("batch_slot").to_number<int64_t>(), 0);
  human = cdt_.Client({"show", fid0});
  EXPECT_NE(human.out.find("running on m1"), std::string::npos) << human.out;

  // Done: from the ring of recent ends, with its result.
  ASSERT_TRUE(sim_.WaitForStatus(fid0, "ARCHIVE", "SUCCEED")) << cdt_.Logs();
  ASSERT_TRUE(WaitFor([&] { return StateOf(files[0]) == "done"; }));
  json::object done = Show(files[0]);
  EXPECT_EQ(Str(done, "result"), "succeeded") << done;
  EXPECT_EQ(Str(done, "mover"), "m1");
  human = cdt_.Client({"show", files[0]});
  EXPECT_NE(human.out.find("done (succeeded)"), std::string::npos) << human.out;

  // A file with no request, and something that is neither FID nor path.
  CommandResult none = cdt_.Client({"show", "[0x200000401:0x7777:0x0]"});
  ASSERT_TRUE(none.ok()) << none.Describe();
  EXPECT_NE(none.out.find("no request"), std::string::npos) << none.out;
  EXPECT_FALSE(cdt_.Client({"show", sim_.Path("no-such-file")}).ok());
}

// Restore locality: a restore waiting for the helper's answer, and one
// placed in the queue of the mover the helper named.
TEST_F(ShowListTest, ShowALocatedRestore) {
  const std::string table = sim_.archive() + "/../tapes";
  std::ofstream(table) << "VOL1 m2\n";
  Start(std::string("restore_locality_command ") + LOCATE_TABLE_BIN +
        " --tag tape= " + table + "\n");
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_NE(cdt_.StartMover("m2"), nullptr);
  auto files = sim_.ArchiveNewFiles("r", 1, "");
  ArchiveAndRelease(files);
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  ASSERT_TRUE(sim_.Lfs({"hsm_restore", "--data", "tape=VOL1", files[0]}).ok());
  ASSERT_TRUE(WaitFor([&] { return Str(Show(files[0]), "queue") == "m2"; }))
      << Show(files[0]) << cdt_.Logs();
  json::array both = Requests(files[0]);
  ASSERT_EQ(both.size(), 2u) << both;  // the restore, and the archive done
  EXPECT_EQ(both[1].at("type"), "archive");
  EXPECT_EQ(both[1].at("state"), "done");
  json::object located = Show(files[0]);
  EXPECT_EQ(Str(located, "state"), "waiting");
  EXPECT_EQ(Str(located, "type"), "restore");
  EXPECT_EQ(located.at("position").to_number<int64_t>(), 0);
  CommandResult human = cdt_.Client({"show", files[0]});
  EXPECT_NE(human.out.find("own queue of m2"), std::string::npos) << human.out;
  // The mover's own queue has an age in status.
  EXPECT_NE(cdt_.ClientField("m2", "oldest_waiting_restore_s"), "");
}

TEST_F(ShowListTest, ShowARestoreWaitingForTheLocalityHelper) {
  // A helper that never answers, and a timeout far away.
  Start(
      "restore_locality_command /bin/sleep 100000\n"
      "restore_locality_timeout_ms 600000\n");
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  auto files = sim_.ArchiveNewFiles("r", 1, "");
  ArchiveAndRelease(files);
  ASSERT_TRUE(sim_.Lfs({"hsm_restore", files[0]}).ok());
  ASSERT_TRUE(WaitFor([&] { return StateOf(files[0]) == "locating"; }))
      << Show(files[0]) << cdt_.Logs();
  CommandResult human = cdt_.Client({"show", files[0]});
  EXPECT_NE(human.out.find("locality helper"), std::string::npos) << human.out;
}

// `list` pages: each request once across pages, filters, bad filters
// refused with the field named.
TEST_F(ShowListTest, ListPagesThroughEveryRequestOnce) {
  Start("");
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  auto files = sim_.ArchiveNewFiles("p", 25, "");
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 25; }));
  CommandResult all =
      cdt_.Client({"list", "--limit", "7", "--all", "--state", "waiting"});
  ASSERT_TRUE(all.ok()) << all.Describe();
  for (const std::string& path : files) {
    const std::string fid = FidOf(path);
    size_t count = 0;
    for (size_t at = all.out.find(fid + " archive"); at != std::string::npos;
         at = all.out.find(fid + " archive", at + 1))
      ++count;
    EXPECT_EQ(count, 1u) << fid << "\n" << all.out;
  }
  EXPECT_EQ(all.out.find("more: --cursor"), std::string::npos);
  CommandResult page = cdt_.Client({"list", "--limit", "7", "--json"});
  ASSERT_TRUE(page.ok()) << page.Describe();
  json::object first = json::parse(page.out).as_object();
  EXPECT_EQ(first.at("requests").as_array().size(), 7u);
  ASSERT_TRUE(first.contains("cursor"));
  // The next page from the cursor starts after the first's last request.
  CommandResult next =
      cdt_.Client({"list", "--limit", "7", "--json", "--cursor",
                   std::to_string(first.at("cursor").to_number<int64_t>())});
  ASSERT_TRUE(next.ok()) << next.Describe();
  json::array second = json::parse(next.out).at("requests").as_array();
  ASSERT_EQ(second.size(), 7u);
  EXPECT_EQ(second[0].at("fid").as_string(), FidOf(files[7]));
  CommandResult restores = cdt_.Client({"list", "--type", "restore"});
  ASSERT_TRUE(restores.ok());
  EXPECT_EQ(restores.out, "");
  EXPECT_FALSE(cdt_.Client({"list", "--state", "sleeping"}).ok());
}

// Status as an operator reads it: every counter in --json (zeros too),
// failures apart, the oldest waiting age, the store, and the client's own
// connection apart from the movers.
TEST_F(ShowListTest, StatusForOperators) {
  Start("");
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_TRUE(cdt_.Client({"--lock"}).ok());
  sim_.ArchiveNewFiles("s", 2, "");
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 2; }));
  CommandResult r = cdt_.Client({"--json"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  json::object o = json::parse(r.out).as_object();
  for (const char* key : {"failed_restore", "failed_archive", "done_remove",
                          "running_archive", "pending_cancel", "locked"})
    EXPECT_TRUE(o.contains(key)) << key << "\n" << r.out;
  EXPECT_EQ(o.at("failed_archive").to_number<int64_t>(), 0);
  EXPECT_GE(o.at("oldest_waiting_archive_s").to_number<double>(), 0.0);
  bool mover = false, own = false;
  for (const json::value& c : o.at("clients").as_array()) {
    if (c.at("client_id") == "m1") mover = c.at("kind") == "mover";
    if (c.at("kind") == "client") own = true;
  }
  EXPECT_TRUE(mover) << r.out;
  EXPECT_TRUE(own) << r.out;  // the client asking, not a mover
  CommandResult human = cdt_.Client({});
  ASSERT_TRUE(human.ok()) << human.Describe();
  EXPECT_NE(human.out.find("store: ok"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("failed"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("other connections"), std::string::npos)
      << human.out;
}

}  // namespace
}  // namespace testing_support
