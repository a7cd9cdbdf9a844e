// Per-mover drain (issue 14, item 4) with real processes: a server with an
// auth file on the simulator and two movers running ct-posix under the
// preload library. A drained mover finishes what it runs and gets nothing
// new, also after it reconnects within its grace time, while the other
// mover takes every new archive; resumed, it gets work again at once. Only
// the admin role may drain, and an unknown mover id is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include "client/session.h"
#include "protocol/messages.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

constexpr const char* kAdmin = "drain-admin-token-0123456789";
constexpr const char* kMonitor = "drain-monitor-token-0123456789";
constexpr const char* kMovers = "drain-movers-token-0123456789";

class MoverDrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.StartDaemon());
    const std::string auth =
        Write("auth", std::string("admin token ops ") + kAdmin +
                          "\nmonitor token nagios " + kMonitor +
                          "\nmover token movers " + kMovers + " *\n");
    for (const char* token : {kAdmin, kMonitor, kMovers})
      token_files_[token] =
          Write(std::string(token, 12) + ".token", std::string(token) + "\n");
    // A grace time long enough for a mover to come back within it.
    ASSERT_TRUE(
        cdt_.StartServer({"--auth-file", auth, "--client-grace", "120000"}));
    cdt_.set_status_token(kAdmin);
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.Join(name);
    std::ofstream(path) << text;
    EXPECT_EQ(chmod(path.c_str(), 0600), 0);
    return path;
  }

  Process* StartMover(const std::string& id,
                      const std::vector<std::string>& ct_args = {}) {
    return cdt_.StartMover(
        id, {{"COORDINATOOL_TOKEN_FILE", token_files_[kMovers]}}, ct_args);
  }

  // coordinatool-client ARGS with `token`'s file.
  CommandResult Client(const std::vector<std::string>& args,
                       const char* token = kAdmin) {
    std::vector<std::string> argv = {"--token-file", token_files_[token]};
    argv.insert(argv.end(), args.begin(), args.end());
    return cdt_.Client(argv);
  }

  // One command on a connection authenticated with `token` (none: null).
  json::object Ask(const json::object& request, const char* token) {
    client::Session session;
    std::string error;
    EXPECT_TRUE(
        session.Connect("127.0.0.1", std::to_string(cdt_.port()), &error))
        << error;
    if (token) {
      EXPECT_TRUE(session.Authenticate(token, &error)) << error;
    }
    json::object reply;
    EXPECT_TRUE(session.Call(request, &reply, 10'000, &error)) << error;
    return reply;
  }

  // `count` new files of `size` bytes, archived in one request.
  std::vector<std::string> Archive(const std::string& name, int count,
                                   uint64_t size) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      paths.push_back(sim_.Path(name + std::to_string(i)));
      EXPECT_TRUE(WriteTestFile(paths.back(), size, i).has_value());
    }
    std::vector<std::string> args = {"hsm_archive"};
    args.insert(args.end(), paths.begin(), paths.end());
    CommandResult r = sim_.Lfs(args);
    EXPECT_TRUE(r.ok()) << r.Describe();
    return paths;
  }

  void ExpectArchived(const std::vector<std::string>& paths) {
    for (const std::string& path : paths)
      EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
          << path << "\n"
          << cdt_.Logs();
  }

  bool Draining(const std::string& id) {
    return cdt_.ClientField(id, "draining") == "true";
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  TempDir dir_;
  std::map<std::string, std::string> token_files_;
};

TEST_F(MoverDrainTest, ADrainedMoverFinishesItsWorkAndGetsNoMoreUntilResumed) {
  // A copies slowly (1 MiB at 200 KiB/s: ~5 s each): it runs its three
  // archives while it is drained.
  Process* a = StartMover("A", {"--bandwidth", "200K"});
  ASSERT_NE(a, nullptr);
  std::vector<std::string> first = Archive("first", 3, 1 << 20);
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("A", "current_archive") == 3;
  })) << cdt_.Logs();
  Process* b = StartMover("B");
  ASSERT_NE(b, nullptr);

  CommandResult drained = Client({"--drain-mover", "A"});
  ASSERT_TRUE(drained.ok()) << drained.Describe();
  EXPECT_EQ(drained.out,
            "mover A drained; it still runs 0 restore, 0 remove, 3 archive\n");
  EXPECT_TRUE(Draining("A"));
  EXPECT_FALSE(Draining("B"));
  EXPECT_EQ(cdt_.ServerLogLines("mover A drained, asked by token ops; it "
                                "runs restore 0, remove 0, archive 3")
                .size(),
            1u)
      << cdt_.Logs();
  // The human status shows it.
  CommandResult status = Client({});
  ASSERT_TRUE(status.ok()) << status.Describe();
  EXPECT_NE(status.out.find(", draining"), std::string::npos) << status.out;

  // New archives all go to B, while A still runs its own.
  std::vector<std::string> second = Archive("second", 4, 20000);
  ExpectArchived(second);
  EXPECT_TRUE(
      WaitFor([&] { return cdt_.ClientNumber("B", "done_archive") == 4; }));
  // A's items finish normally; --wait returns once it runs nothing.
  CommandResult waited = Client({"--drain-mover", "A", "--wait", "120"});
  ASSERT_TRUE(waited.ok()) << waited.Describe();
  EXPECT_NE(waited.out.find("mover A runs nothing\n"), std::string::npos)
      << waited.out;
  EXPECT_EQ(cdt_.ClientNumber("A", "current_archive"), 0);
  ExpectArchived(first);
  EXPECT_TRUE(
      WaitFor([&] { return cdt_.ClientNumber("A", "done_archive") == 3; }));
  EXPECT_EQ(cdt_.ClientNumber("B", "done_archive"), 4);

  // A goes away and comes back within its grace time: still drained. With
  // B gone too, new archives wait rather than go to A.
  a->Kill();
  ASSERT_TRUE(WaitFor(
      [&] { return cdt_.ClientField("A", "status") == "disconnected"; }));
  EXPECT_TRUE(Draining("A"));
  a = StartMover("A");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(Draining("A"));
  b->Kill();
  ASSERT_TRUE(WaitFor(
      [&] { return cdt_.ClientField("B", "status") == "disconnected"; }));
  std::vector<std::string> third = Archive("third", 3, 20000);
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.Counter("pending_archive") == 3 &&
           cdt_.ClientField("A", "status") == "waiting";
  })) << cdt_.Logs();
  // A asked for work with three archives waiting, and got none.
  EXPECT_EQ(cdt_.ClientNumber("A", "current_archive"), 0);
  EXPECT_EQ(cdt_.Counter("running_archive"), 0);

  // Resumed, A takes them at once.
  CommandResult resumed = Client({"--resume-mover", "A"});
  ASSERT_TRUE(resumed.ok()) << resumed.Describe();
  EXPECT_EQ(resumed.out,
            "mover A resumed; it still runs 0 restore, 0 remove, 0 archive\n");
  EXPECT_FALSE(Draining("A"));
  ExpectArchived(third);
  // Its count is the mover id's: the first three and these three.
  EXPECT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("A", "done_archive") == 6;
  })) << cdt_.Logs();
  EXPECT_EQ(cdt_.ClientNumber("B", "done_archive"), 4);
  EXPECT_EQ(cdt_.ServerLogLines("mover A resumed, asked by token ops").size(),
            1u);
}

TEST_F(MoverDrainTest, OnlyAnAdminDrainsAndOnlyAKnownMover) {
  Process* a = StartMover("A");
  ASSERT_NE(a, nullptr);
  const json::object drain =
      protocol::ToJson(protocol::MoverControlRequest{true, "A"});
  const json::object resume =
      protocol::ToJson(protocol::MoverControlRequest{false, "A"});
  // Without the admin role: refused, nothing changes.
  for (const char* token :
       {static_cast<const char*>(nullptr), kMonitor, kMovers}) {
    for (const json::object& request : {drain, resume}) {
      json::object reply = Ask(request, token);
      SCOPED_TRACE(json::serialize(reply));
      protocol::ReplyHeader header = protocol::ReadReplyHeader(reply);
      EXPECT_EQ(header.status, EACCES);
      EXPECT_NE(header.error.find("needs the admin role"), std::string::npos);
    }
  }
  CommandResult refused = Client({"--drain-mover", "A"}, kMonitor);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.err.find("needs the admin role"), std::string::npos)
      << refused.Describe();
  EXPECT_FALSE(Draining("A"));
  ExpectArchived(Archive("still", 1, 20000));  // A still gets work

  // An unknown id: ENOENT, a clear error.
  json::object unknown = Ask(
      protocol::ToJson(protocol::MoverControlRequest{true, "nosuch"}), kAdmin);
  EXPECT_EQ(protocol::ReadReplyHeader(unknown).status, ENOENT);
  CommandResult missing = Client({"--drain-mover", "nosuch"});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.err.find("drain: no mover known by id nosuch"),
            std::string::npos)
      << missing.Describe();
  EXPECT_TRUE(cdt_.ClientStatus("nosuch").empty());
  // A malformed id: EINVAL.
  json::object bad =
      Ask(json::object{{"command", "drain"}, {"client_id", 7}}, kAdmin);
  EXPECT_EQ(protocol::ReadReplyHeader(bad).status, EINVAL);

  // A disconnected mover the server still knows may be drained.
  a->Kill();
  ASSERT_TRUE(WaitFor(
      [&] { return cdt_.ClientField("A", "status") == "disconnected"; }));
  CommandResult away = Client({"--drain-mover", "A"});
  ASSERT_TRUE(away.ok()) << away.Describe();
  EXPECT_NE(away.out.find("(disconnected, within its grace time)"),
            std::string::npos)
      << away.out;
  EXPECT_TRUE(Draining("A"));
}

// Host rules and a drained mover (no auth file here): an archive_on_hosts
// rule with another host sends new archives there; archives a rule pins to
// the drained mover wait for it, and go to it once it is resumed.
TEST(MoverDrainPolicyTest, HostRulesAvoidADrainedMoverOrWaitForIt) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon());
  CoordinatoolSetup cdt(sim);
  const std::string config = sim.archive() + "/../coordinatool.conf";
  std::ofstream(config) << "archive_on_hosts pin= A\n"
                           "archive_on_hosts two= A B\n";
  ASSERT_TRUE(cdt.StartServer({"-c", config}));
  ASSERT_NE(cdt.StartMover("A"), nullptr);
  ASSERT_NE(cdt.StartMover("B"), nullptr);
  CommandResult drained = cdt.Client({"--drain-mover", "A"});
  ASSERT_TRUE(drained.ok()) << drained.Describe();

  auto ExpectArchived = [&](const std::vector<std::string>& paths) {
    for (const std::string& path : paths)
      EXPECT_TRUE(sim.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
          << path << "\n"
          << cdt.Logs();
  };
  // Either host may take these: B, the one not drained, gets every one.
  ExpectArchived(sim.ArchiveNewFiles("two", 6, "two=x"));
  EXPECT_TRUE(
      WaitFor([&] { return cdt.ClientNumber("B", "done_archive") == 6; }));
  EXPECT_EQ(cdt.ClientNumber("A", "done_archive"), 0);
  // Only A may take these: they wait for it, B idle meanwhile.
  std::vector<std::string> pinned = sim.ArchiveNewFiles("pin", 2, "pin=x");
  ASSERT_TRUE(WaitFor([&] { return cdt.Counter("pending_archive") == 2; }))
      << cdt.Logs();
  EXPECT_EQ(cdt.Counter("running_archive"), 0);
  CommandResult resumed = cdt.Client({"--resume-mover", "A"});
  ASSERT_TRUE(resumed.ok()) << resumed.Describe();
  ExpectArchived(pinned);
  EXPECT_TRUE(
      WaitFor([&] { return cdt.ClientNumber("A", "done_archive") == 2; }));
  EXPECT_EQ(cdt.ClientNumber("B", "done_archive"), 6);
}

}  // namespace
}  // namespace testing_support
