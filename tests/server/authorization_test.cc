// Authentication and roles (docs/auth.md) with real processes: a server
// with an auth file, movers running ct-posix under the preload library with
// their token files, and attackers speaking the protocol. Each attack of
// issue 12 (lock, lock and quit, a status dump, an ehlo with a made-up id
// and a hai_list of dumped items, a disconnected mover's id, a done on
// another mover's item, queue) is refused, from a peer without credentials
// and from one with the wrong role, with EACCES and an error naming the
// role needed; the connection stays open, nothing changes, the movers keep
// working; the same actions work for the right role.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <string>
#include <vector>

#include "client/session.h"
#include "protocol/messages.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/server/tls_peer.h"
#include "tests/support/file_data.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

constexpr const char* kAdmin = "admin-token-0123456789abcdef";
constexpr const char* kMonitor = "monitor-token-0123456789abcdef";
constexpr const char* kMover1 = "mover1-token-0123456789abcdef";  // m1 only
constexpr const char* kMover2 = "mover2-token-0123456789abcdef";  // m*

std::string Serialize(const json::object& o) { return json::serialize(o); }

class AuthorizationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.StartDaemon());
    auth_file_ = Write("auth",
                       std::string("# roles\n") + "admin token ops " + kAdmin +
                           "\nmonitor token nagios " + kMonitor +
                           "\nmover token mover1 " + kMover1 + " m1" +
                           "\nmover token mover2 " + kMover2 + " m*\n",
                       0600);
    for (const char* token : {kAdmin, kMonitor, kMover1, kMover2})
      token_files_[token] = Write(std::string(token, 8) + ".token",
                                  std::string(token) + "\n", 0600);
    ASSERT_TRUE(cdt_.StartServer({"--auth-file", auth_file_}));
    cdt_.set_status_token(kAdmin);
  }

  std::string Write(const std::string& name, const std::string& text,
                    mode_t mode) {
    std::string path = dir_.Join(name);
    std::ofstream(path) << text;
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  // Mover `id` (ct-posix under the preload library) with `token`'s file.
  Process* StartMover(const std::string& id, const char* token) {
    return cdt_.StartMover(id,
                           {{"COORDINATOOL_TOKEN_FILE", token_files_[token]}});
  }

  // A connection, authenticated with `token` unless null.
  std::unique_ptr<client::Session> Open(const char* token = nullptr) {
    auto session = std::make_unique<client::Session>();
    std::string error;
    EXPECT_TRUE(session->Connect("127.0.0.1",
                                 std::to_string(cdt_.client_port()), &error))
        << error;
    if (token) {
      EXPECT_TRUE(session->Authenticate(token, &error)) << error;
    }
    return session;
  }

  json::object Ask(client::Session& session, const json::object& request) {
    json::object reply;
    std::string error;
    EXPECT_TRUE(session.Call(request, &reply, 10'000, &error))
        << Serialize(request) << ": " << error;
    return reply;
  }

  // `request` is refused with EACCES, an error naming `needs`, and a reply
  // named for the command.
  void ExpectRefused(client::Session& session, const json::object& request,
                     const std::string& needs) {
    json::object reply = Ask(session, request);
    SCOPED_TRACE(Serialize(request) + " -> " + Serialize(reply));
    protocol::ReplyHeader header = protocol::ReadReplyHeader(reply);
    EXPECT_EQ(header.status, EACCES);
    EXPECT_NE(header.error.find(needs), std::string::npos);
    EXPECT_EQ(reply["command"], request.at("command"));
    EXPECT_FALSE(reply.contains("clients"));  // never a status
  }

  // The movers still work: one more archive completes.
  void ExpectServiceContinues() {
    std::string path = sim_.Path("after" + std::to_string(++files_));
    ASSERT_TRUE(WriteTestFile(path, 10000, files_).has_value());
    ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
    EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
        << cdt_.Logs();
  }

  // Whether the status lists mover `id`.
  bool Lists(const std::string& id) { return !cdt_.ClientStatus(id).empty(); }

  // A queued archive (the server locked): the attacker's dump of it, as a
  // full item for a hai_list or a queue.
  json::object QueuedArchive() {
    std::string path = sim_.Path("queued" + std::to_string(++files_));
    EXPECT_TRUE(WriteTestFile(path, 10000, files_).has_value());
    EXPECT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
    EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 1; }));
    json::object status = cdt_.Status();
    const json::array& waiting = status.at("waiting_archive").as_array();
    EXPECT_EQ(waiting.size(), 1u);
    const json::object& dumped = waiting.at(0).as_object();
    return {{"hai_action", 20},
            {"hai_fid", dumped.at("hai_fid")},
            {"hai_dfid", dumped.at("hai_fid")},
            {"hai_extent_offset", 0},
            {"hai_extent_length", 0},
            {"hai_cookie", dumped.at("hai_cookie")},
            {"hai_gid", 0},
            {"hai_data", ""},
            {"hal_archive_id", 1},
            {"hal_flags", 0}};
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  TempDir dir_{"authorization_test"};
  std::string auth_file_;
  std::map<std::string, std::string> token_files_;
  int files_ = 0;
};

const json::object kLock{{"command", "lock"}, {"locked", 1}};
const json::object kLockQuit{{"command", "lock"}, {"locked", 2}};
const json::object kStatusDump{{"command", "status"}, {"verbose", 6}};

json::object QueueRemove() {
  json::object item{
      {"hai_action", 22},
      {"hai_fid", {{"f_seq", 0x200000401}, {"f_oid", 1}, {"f_ver", 0}}},
      {"hai_dfid", {{"f_seq", 0x200000401}, {"f_oid", 1}, {"f_ver", 0}}},
      {"hai_extent_offset", 0},
      {"hai_extent_length", 0},
      {"hai_cookie", 0xbad},
      {"hai_gid", 0},
      {"hai_data", ""},
      {"hal_archive_id", 1},
      {"hal_flags", 0}};
  return {{"command", "queue"}, {"hsm_action_items", json::array{item}}};
}

TEST_F(AuthorizationTest, APeerWithoutCredentialsIsRefusedEveryAttack) {
  ASSERT_NE(StartMover("m1", kMover1), nullptr);
  auto anonymous = Open();
  ExpectRefused(*anonymous, kLock, "needs the admin role");
  ExpectRefused(*anonymous, kLockQuit, "needs the admin role");
  ExpectRefused(*anonymous, kStatusDump, "needs the monitor or admin role");
  ExpectRefused(*anonymous, QueueRemove(), "needs the admin role");
  ExpectRefused(*anonymous, {{"command", "ehlo"}, {"id", "m1"}},
                "needs the mover role");
  ExpectRefused(*anonymous, {{"command", "ehlo"}}, "needs a role");
  ExpectRefused(*anonymous, {{"command", "recv"}}, "needs the admin role");
  ExpectRefused(*anonymous,
                {{"command", "done"},
                 {"hai_cookie", 1},
                 {"hai_dfid", {{"f_seq", 1}, {"f_oid", 1}, {"f_ver", 0}}}},
                "needs the admin role");
  // Still open, still refused: "this connection (no credentials...) has no
  // role".
  ExpectRefused(*anonymous, kLock, "has no role");

  // Nothing changed, and the movers keep working.
  EXPECT_TRUE(cdt_.server().Running());
  EXPECT_EQ(cdt_.Counter("locked"), 0);
  EXPECT_EQ(cdt_.Counter("pending_remove"), 0);
  EXPECT_TRUE(Lists("m1"));
  ExpectServiceContinues();
  EXPECT_FALSE(cdt_.ServerLogLines("permission denied: 'lock' needs the "
                                   "admin role")
                   .empty());
  // Nine refusals, five logged: a peer cannot flood the log.
  EXPECT_EQ(cdt_.ServerLogLines("permission denied").size(), 5u);
  EXPECT_EQ(cdt_.ServerLogLines("further refusals on this connection not "
                                "logged")
                .size(),
            1u);
}

TEST_F(AuthorizationTest, AWrongRoleIsRefusedAndTheRightRoleWorks) {
  ASSERT_NE(StartMover("m1", kMover1), nullptr);
  auto monitor = Open(kMonitor);
  ExpectRefused(*monitor, kLock,
                "needs the admin role; token nagios has the "
                "roles monitor");
  ExpectRefused(*monitor, kLockQuit, "needs the admin role");
  ExpectRefused(*monitor, QueueRemove(), "needs the admin role");
  ExpectRefused(*monitor, {{"command", "ehlo"}, {"id", "m9"}},
                "needs the mover role");
  // Its own role: status, dump included.
  json::object status = Ask(*monitor, kStatusDump);
  EXPECT_EQ(protocol::ReadReplyHeader(status).status, 0);
  EXPECT_TRUE(status.contains("clients")) << Serialize(status);

  // A mover's token, without its mover id: no lock, status or queue.
  auto mover = Open(kMover1);
  ExpectRefused(*mover, kLock, "needs the admin role");
  ExpectRefused(*mover, kStatusDump, "needs the monitor or admin role");
  ExpectRefused(*mover, QueueRemove(), "needs the admin role");
  EXPECT_EQ(cdt_.Counter("locked"), 0);
  EXPECT_EQ(cdt_.Counter("pending_remove"), 0);
  ExpectServiceContinues();

  // The admin may not pass for a mover, and may lock, unlock and quit.
  auto admin = Open(kAdmin);
  ExpectRefused(*admin, {{"command", "ehlo"}, {"id", "m1"}},
                "needs the mover role");
  EXPECT_EQ(protocol::ReadReplyHeader(Ask(*admin, kLock)).status, 0);
  EXPECT_EQ(cdt_.Counter("locked"), 1);
  EXPECT_EQ(protocol::ReadReplyHeader(
                Ask(*admin, {{"command", "lock"}, {"locked", 0}}))
                .status,
            0);
  EXPECT_EQ(cdt_.Counter("locked"), 0);
  ExpectServiceContinues();
  EXPECT_EQ(protocol::ReadReplyHeader(Ask(*admin, kLockQuit)).status, 0);
  EXPECT_TRUE(WaitFor([&] { return !cdt_.server().Running(); }));
}

TEST_F(AuthorizationTest, DumpedItemsCannotBeTakenWithAMadeUpId) {
  ASSERT_NE(StartMover("m1", kMover1), nullptr);
  auto admin = Open(kAdmin);
  ASSERT_EQ(protocol::ReadReplyHeader(Ask(*admin, kLock)).status, 0);
  json::object item = QueuedArchive();
  const json::object take{
      {"command", "ehlo"}, {"id", "evil"}, {"hai_list", json::array{item}}};
  auto anonymous = Open();
  ExpectRefused(*anonymous, take, "needs the mover role");
  auto monitor = Open(kMonitor);
  ExpectRefused(*monitor, take, "needs the mover role");
  auto mover1 = Open(kMover1);  // may use m1 only
  ExpectRefused(*mover1, take, "token mover1 may not use mover id 'evil'");
  // Nothing taken.
  EXPECT_EQ(cdt_.Counter("pending_archive"), 1);
  EXPECT_EQ(cdt_.Counter("running_archive"), 0);
  EXPECT_FALSE(Lists("evil"));

  // The admin may queue it (known already: skipped), and unlock: it runs
  // on m1.
  json::object queued = Ask(
      *admin, {{"command", "queue"}, {"hsm_action_items", json::array{item}}});
  EXPECT_EQ(protocol::ReadReplyHeader(queued).status, 0) << Serialize(queued);
  EXPECT_EQ(queued["skipped"], 1);
  ASSERT_EQ(protocol::ReadReplyHeader(
                Ask(*admin, {{"command", "lock"}, {"locked", 0}}))
                .status,
            0);
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 1; }))
      << cdt_.Logs();
}

TEST_F(AuthorizationTest, ADisconnectedMoversIdStaysWithItsIdentity) {
  Process* m1 = StartMover("m1", kMover1);
  ASSERT_NE(m1, nullptr);
  m1->Kill();
  ASSERT_TRUE(WaitFor(
      [&] { return cdt_.ClientField("m1", "status") == "disconnected"; }));
  const json::object claim{{"command", "ehlo"}, {"id", "m1"}};
  auto anonymous = Open();
  ExpectRefused(*anonymous, claim, "needs the mover role");
  auto monitor = Open(kMonitor);
  ExpectRefused(*monitor, claim, "needs the mover role");
  // mover2 may use any m* id, but m1 is held by mover1's token.
  auto mover2 = Open(kMover2);
  ExpectRefused(*mover2, claim, "mover id 'm1' is held by another identity");
  EXPECT_EQ(cdt_.ClientField("m1", "status"), "disconnected");

  // mover2 may take an id nobody holds; m1 comes back with its own token.
  auto other = Open(kMover2);
  EXPECT_EQ(protocol::ReadReplyHeader(
                Ask(*other, {{"command", "ehlo"}, {"id", "m7"}}))
                .status,
            0);
  ASSERT_NE(StartMover("m1", kMover1), nullptr);
  ExpectServiceContinues();
}

TEST_F(AuthorizationTest, OnlyTheMoverRunningAnItemEndsOrTakesIt) {
  // m1 is this test's own peer: it keeps its item running.
  auto m1 = Open(kMover1);
  ASSERT_EQ(
      protocol::ReadReplyHeader(Ask(*m1, {{"command", "ehlo"}, {"id", "m1"}}))
          .status,
      0);
  std::string error;
  ASSERT_TRUE(m1->Send({{"command", "recv"}}, &error)) << error;
  std::string path = sim_.Path("running");
  ASSERT_TRUE(WriteTestFile(path, 10000, 1).has_value());
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
  json::object list;
  ASSERT_TRUE(m1->Receive(&list, 30'000, &error)) << error;
  protocol::RecvReply received;
  ASSERT_TRUE(protocol::Parse(list, &received, &error)) << error;
  ASSERT_EQ(received.list.size(), 1u);
  const protocol::WireItem& wire = received.list[0].item;
  const json::object done = protocol::ToJson(
      protocol::DoneRequest{protocol::ItemId::Of(wire.item.hai)});

  auto anonymous = Open();
  ExpectRefused(*anonymous, done, "needs the admin role");
  auto monitor = Open(kMonitor);
  ExpectRefused(*monitor, done, "needs the admin role");
  // Another mover: its done is refused, and re-announcing the item does not
  // take it.
  auto m2 = Open(kMover2);
  json::object ehlo = Ask(
      *m2,
      {{"command", "ehlo"},
       {"id", "m2"},
       {"hai_list", json::array{protocol::ItemToJson(received.list[0].item)}}});
  EXPECT_EQ(protocol::ReadReplyHeader(ehlo).status, 0) << Serialize(ehlo);
  json::object refused = Ask(*m2, done);
  EXPECT_EQ(protocol::ReadReplyHeader(refused).status, EPERM)
      << Serialize(refused);
  EXPECT_EQ(cdt_.Counter("running_archive"), 1);
  EXPECT_EQ(cdt_.ClientNumber("m1", "current_archive"), 1);
  EXPECT_LE(cdt_.ClientNumber("m2", "current_archive"), 0);
  EXPECT_FALSE(cdt_.ServerLogLines("which runs on mover m1 of another "
                                   "identity: not taken")
                   .empty());

  // Its own mover ends it.
  EXPECT_EQ(protocol::ReadReplyHeader(Ask(*m1, done)).status, 0);
  EXPECT_EQ(cdt_.Counter("running_archive"), 0);
  EXPECT_EQ(cdt_.Counter("done_archive"), 1);
}

TEST_F(AuthorizationTest, UnknownTokensAreRefusedAndTheThirdCloses) {
  auto peer = Open();
  std::string error;
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(peer->Authenticate("admin-token-0123456789abcdeX", &error));
    EXPECT_EQ(error, "auth refused: unknown token");
  }
  // A refused token gives nothing.
  ExpectRefused(*peer, kLock, "has no role");
  EXPECT_FALSE(peer->Authenticate("guess", &error));
  json::object reply;
  EXPECT_FALSE(peer->Receive(&reply, 10'000, &error));  // closed
  EXPECT_NE(error, "timed out");
  EXPECT_TRUE(cdt_.server().Running());
  EXPECT_FALSE(cdt_.ServerLogLines("unknown token").empty());
  // The secret itself never reaches the log.
  EXPECT_TRUE(cdt_.ServerLogLines("0123456789abcde").empty());
}

TEST_F(AuthorizationTest, TheClientReadsItsTokenFromAPrivateFile) {
  CommandResult status =
      cdt_.Client({"--token-file", token_files_[kMonitor], "--json"});
  EXPECT_TRUE(status.ok()) << status.Describe();
  EXPECT_NE(status.out.find("\"clients_connected\""), std::string::npos)
      << status.out;
  CommandResult lock =
      cdt_.Client({"--token-file", token_files_[kMonitor], "--lock"});
  EXPECT_FALSE(lock.ok());
  EXPECT_NE(lock.err.find("needs the admin role"), std::string::npos)
      << lock.Describe();
  CommandResult admin_lock =
      cdt_.Client({"--token-file", token_files_[kAdmin], "--lock"});
  EXPECT_TRUE(admin_lock.ok()) << admin_lock.Describe();
  EXPECT_EQ(cdt_.Counter("locked"), 1);

  // A token file others can read is refused before connecting.
  std::string shared = Write("shared.token", std::string(kAdmin) + "\n", 0644);
  CommandResult refused = cdt_.Client({"--token-file", shared, "--unlock"});
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.err.find("readable by group or other"), std::string::npos)
      << refused.Describe();
  EXPECT_EQ(cdt_.Counter("locked"), 1);
  // Without a token: refused.
  CommandResult none = cdt_.Client({"--unlock"});
  EXPECT_FALSE(none.ok());
  EXPECT_EQ(cdt_.Counter("locked"), 1);
}

TEST_F(AuthorizationTest, SighupReadsTheAuthFileAgain) {
  ASSERT_NE(StartMover("m1", kMover1), nullptr);
  auto monitor = Open(kMonitor);
  EXPECT_EQ(protocol::ReadReplyHeader(Ask(*monitor, kStatusDump)).status, 0);
  // A file others can read is refused: the rules in force stay.
  Write("auth", "admin token ops " + std::string(kAdmin) + "\n", 0644);
  ASSERT_EQ(kill(cdt_.server().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitFor([&] {
    return !cdt_.ServerLogLines("keeping the rules in force").empty();
  }));
  EXPECT_EQ(protocol::ReadReplyHeader(Ask(*monitor, kStatusDump)).status, 0);

  // The monitor's token and mover1's id m1 are gone: the open monitor
  // connection loses its role, mover m1 is closed, a new connection with
  // the old token is refused.
  Write("auth",
        "admin token ops " + std::string(kAdmin) + "\nmover token mover1 " +
            kMover1 + " m2\n",
        0600);
  ASSERT_EQ(kill(cdt_.server().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientField("m1", "status") == "disconnected";
  })) << cdt_.Logs();
  ExpectRefused(*monitor, kStatusDump, "has no role");
  auto again = Open();
  std::string error;
  EXPECT_FALSE(again->Authenticate(kMonitor, &error));
  EXPECT_EQ(error, "auth refused: unknown token");
  EXPECT_TRUE(cdt_.server().Running());
  EXPECT_FALSE(
      cdt_.ServerLogLines("may no longer use mover id m1: closing").empty());
}

TEST_F(AuthorizationTest, AnAuthFileOthersCanReadStopsTheServerAtStart) {
  std::string open_file =
      Write("open-auth", "admin token ops " + std::string(kAdmin) + "\n", 0644);
  CommandResult run = RunCommand(
      {CoordinatoolBinary(), "-H", "127.0.0.1", "-p", "0", "--state-dir",
       dir_.Join("state2"), "--auth-file", open_file, sim_.mount()},
      std::chrono::seconds(30));
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_NE(run.err.find("gives group or other users access"),
            std::string::npos)
      << run.Describe();
}

// The main end-to-end scenarios with tokens on (CoordinatoolSetup's
// EnableAuth: movers with the mover role for any id, the client and the
// status with the admin role).
class AuthScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.StartDaemon());
    cdt_.EnableAuth();
    ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000"}));
  }

  std::vector<std::string> MakeFiles(const std::string& name, int count,
                                     uint64_t size) {
    std::vector<std::string> paths;
    for (int i = 0; i < count; ++i) {
      std::string path = sim_.Path(name + std::to_string(i));
      EXPECT_TRUE(WriteTestFile(path, size + i, 1000 + i).has_value());
      paths.push_back(path);
    }
    return paths;
  }

  ::testing::AssertionResult WaitForCount(const std::string& action,
                                          size_t count) {
    if (WaitFor([&] { return sim_.CountActions(action, "SUCCEED") >= count; },
                std::chrono::seconds(180)))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << action << ": " << sim_.CountActions(action, "SUCCEED") << " of "
           << count << "; logs:\n"
           << cdt_.Logs();
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
};

TEST_F(AuthScenarioTest, MixedRequestsThroughThreeMovers) {
  for (const char* id : {"m1", "m2", "m3"})
    ASSERT_NE(cdt_.StartMover(id), nullptr);
  auto files = MakeFiles("f", 300, 4096);
  RunLfs(sim_, "hsm_archive", files);
  ASSERT_TRUE(WaitForCount("ARCHIVE", 300));
  std::vector<std::string> released(files.begin(), files.begin() + 100);
  std::vector<std::string> removed(files.begin() + 100, files.begin() + 150);
  RunLfs(sim_, "hsm_release", released);
  RunLfs(sim_, "hsm_restore", released);
  RunLfs(sim_, "hsm_remove", removed);
  ASSERT_TRUE(WaitForCount("RESTORE", 100));
  ASSERT_TRUE(WaitForCount("REMOVE", 50));
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 300; }));
  EXPECT_EQ(cdt_.Counter("done_restore"), 100);
  EXPECT_EQ(cdt_.Counter("done_remove"), 50);
  // The client with the admin's token.
  CommandResult lock = cdt_.Client({"--lock"});
  EXPECT_TRUE(lock.ok()) << lock.Describe();
  EXPECT_EQ(cdt_.Counter("locked"), 1);
}

TEST_F(AuthScenarioTest, AKilledMoverReconnectsAndKeepsItsWork) {
  Process* m1 = cdt_.StartMover("m1", {}, {"-b", "2"});
  ASSERT_NE(m1, nullptr);
  auto files = MakeFiles("k", 3, 2 << 20);
  RunLfs(sim_, "hsm_archive", files);
  ASSERT_TRUE(
      WaitFor([&] { return cdt_.ClientNumber("m1", "current_archive") == 3; }));
  m1->Kill();
  ASSERT_TRUE(WaitFor(
      [&] { return cdt_.ClientField("m1", "status") == "disconnected"; }));
  // Back within its grace time, with the same token: its id and its work.
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_TRUE(WaitForCount("ARCHIVE", 3));
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 3; }));
  EXPECT_EQ(cdt_.ClientNumber("m1", "done_archive"), 3);
}

TEST_F(AuthScenarioTest, MoversReannounceTheirWorkAfterAServerRestart) {
  ASSERT_NE(cdt_.StartMover("m1", {}, {"-b", "2"}), nullptr);
  auto files = MakeFiles("s", 4, 2 << 20);
  RunLfs(sim_, "hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("running_archive") == 4; }));
  cdt_.KillServer();
  ASSERT_TRUE(cdt_.StartServer({"--client-grace", "3000"}));
  ASSERT_TRUE(WaitFor([&] {
    return cdt_.ClientNumber("m1", "current_archive") == 4;
  })) << cdt_.Logs();
  ASSERT_TRUE(WaitForCount("ARCHIVE", 4));
  EXPECT_TRUE(WaitFor([&] { return cdt_.Counter("done_archive") == 4; }));
  EXPECT_EQ(cdt_.Counter("running_archive"), 0);
}

// Roles from client certificates (mutual TLS): the identities a verified
// certificate proves, matched against the auth file's cert lines.
class CertificateAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    std::string error;
    ops_ = pki_.Issue("ops", {"ops", {}}, Issuer::kCa, &error);
    ASSERT_FALSE(ops_.cert.empty()) << error;
    nagios_ = pki_.Issue("nagios", {"nagios", {}}, Issuer::kCa, &error);
    ASSERT_FALSE(nagios_.cert.empty()) << error;
    intruder_ = pki_.Issue("intruder", {"intruder", {"DNS:intruder.other"}},
                           Issuer::kCa, &error);
    ASSERT_FALSE(intruder_.cert.empty()) << error;
    // mover-1 (TestPki's client) has DNS:mover-1.test.
    std::string auth = dir_.Join("auth");
    std::ofstream(auth) << "admin cert CN=ops\n"
                           "monitor cert \"subject=CN=nagios,O=coordinatool "
                           "tests\"\n"
                           "mover cert DNS:*.test mover-*\n";
    ASSERT_EQ(chmod(auth.c_str(), 0600), 0);
    ASSERT_TRUE(sim_.StartDaemon());
    ASSERT_TRUE(cdt_.StartServer({"--tls-cert", pki_.server().cert, "--tls-key",
                                  pki_.server().key, "--tls-ca", pki_.ca(),
                                  "--auth-file", auth}));
    // Status() through a relay with the admin's certificate.
    relay_ = std::make_unique<TlsRelay>(
        cdt_.port(), TlsClientOptions{pki_.ca(), ops_.cert, ops_.key});
    cdt_.set_client_port(relay_->port());
  }

  // A TLS connection with `who`'s certificate (none if null).
  std::unique_ptr<TlsProbe> Probe(const CertAndKey* who) {
    auto probe = std::make_unique<TlsProbe>(
        TlsClientOptions{pki_.ca(), who ? who->cert : "", who ? who->key : ""});
    EXPECT_EQ(probe->Connect(cdt_.port()), "");
    return probe;
  }

  json::object Call(TlsProbe& probe, const std::string& request) {
    std::string text = probe.Call(request);
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    EXPECT_FALSE(ec) << request << " -> '" << text << "'";
    return ec || !value.is_object() ? json::object{} : value.get_object();
  }

  void ExpectRefused(TlsProbe& probe, const std::string& request,
                     const std::string& needs) {
    json::object reply = Call(probe, request);
    SCOPED_TRACE(request + " -> " + Serialize(reply));
    protocol::ReplyHeader header = protocol::ReadReplyHeader(reply);
    EXPECT_EQ(header.status, EACCES);
    EXPECT_NE(header.error.find(needs), std::string::npos);
  }

  TempDir dir_{"authorization_tls_test"};
  TestPki pki_{dir_.path()};
  CertAndKey ops_, nagios_, intruder_;
  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  std::unique_ptr<TlsRelay> relay_;
};

TEST_F(CertificateAuthTest, EachCertificateGetsTheRolesOfItsIdentities) {
  const std::string lock = R"({"command":"lock","locked":1})";
  const std::string status = R"({"command":"status","verbose":6})";
  // The mover's certificate: its ids, nothing else.
  auto mover = Probe(&pki_.client());
  ExpectRefused(*mover, R"({"command":"ehlo","id":"m1"})",
                "cert CN=mover-1,O=coordinatool tests may not use mover id "
                "'m1'");
  EXPECT_EQ(protocol::ReadReplyHeader(
                Call(*mover, R"({"command":"ehlo","id":"mover-1"})"))
                .status,
            0);
  ExpectRefused(*mover, lock, "needs the admin role");
  ExpectRefused(*mover, status, "needs the monitor or admin role");
  // A certificate of the CA that no line names: no role.
  auto intruder = Probe(&intruder_);
  ExpectRefused(*intruder, status, "has no role");
  ExpectRefused(*intruder, R"({"command":"ehlo","id":"mover-2"})",
                "needs the mover role");
  // No certificate at all (tls_client_cert optional): no role.
  auto anonymous = Probe(nullptr);
  ExpectRefused(*anonymous, lock, "needs the admin role");
  // The monitor, by its subject: status only.
  auto nagios = Probe(&nagios_);
  json::object dump = Call(*nagios, status);
  EXPECT_EQ(protocol::ReadReplyHeader(dump).status, 0) << Serialize(dump);
  EXPECT_TRUE(dump.contains("clients"));
  ExpectRefused(*nagios, lock, "needs the admin role");
  EXPECT_EQ(cdt_.Counter("locked"), 0);
  // The admin, by its common name.
  auto ops = Probe(&ops_);
  EXPECT_EQ(protocol::ReadReplyHeader(Call(*ops, lock)).status, 0);
  EXPECT_EQ(cdt_.Counter("locked"), 1);
  EXPECT_EQ(cdt_.ClientField("mover-1", "status"), "ready");
}

}  // namespace
}  // namespace testing_support
