// Hostile clients over real TCP: each gets an error reply or a closed
// connection, nothing else changes, and the movers keep working.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cerrno>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "hsm/fid.h"
#include "hsm/lustreapi.h"
#include "protocol/action_item.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/server/raw_peer.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

// A simulated Lustre and a server on it, reached over real TCP: what every
// test here starts from.
class ServerOverTcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.StartDaemon());
    ASSERT_TRUE(cdt_.StartServer());
  }

  common::UniqueFd Connect() { return ConnectTo(cdt_.port()); }

  // A new connection that sent `ehlo` (its JSON text); *reply is the
  // server's answer.
  common::UniqueFd Introduce(const std::string& ehlo, json::object* reply) {
    common::UniqueFd fd = Connect();
    EXPECT_TRUE(SendAll(fd.get(), ehlo));
    *reply = json::parse(ReadObject(fd.get())).as_object();
    return fd;
  }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
};

class HostileClientTest : public ServerOverTcpTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServerOverTcpTest::SetUp());
    ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  }

  // The movers still work: one more archive completes.
  void ExpectServiceContinues() {
    std::string path = sim_.Path("after" + std::to_string(++files_));
    ASSERT_TRUE(WriteTestFile(path, 10000, files_).has_value());
    ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
    EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
        << cdt_.Logs();
  }

  int files_ = 0;
};

// Raw movers that end their items with `done`s of their own making.
class DoneItemsTest : public ServerOverTcpTest {
 protected:
  // Archives two files named PREFIX0 and PREFIX1 and receives their items on
  // `fd` (a mover that said ehlo), as `done` entries with status 0.
  void ArchiveTwoAndReceive(int fd, const std::string& prefix,
                            std::vector<std::string>* entries) {
    for (int i = 0; i < 2; ++i) {
      std::string path = sim_.Path(prefix + std::to_string(i));
      ASSERT_TRUE(WriteTestFile(path, 1000, i).has_value());
      ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
    }
    while (entries->size() < 2) {
      ASSERT_TRUE(SendAll(fd, R"({"command":"recv"})"));
      json::object reply = json::parse(ReadObject(fd)).as_object();
      ASSERT_TRUE(reply.contains("hsm_action_list")) << json::serialize(reply);
      for (const json::value& item :
           reply.at("hsm_action_list").at("list").as_array())
        entries->push_back(
            json::serialize(json::object{{"hai_cookie", item.at("hai_cookie")},
                                         {"hai_dfid", item.at("hai_dfid")},
                                         {"status", 0}}));
    }
  }
};

TEST_F(HostileClientTest, GarbageBytesCloseOnlyThatConnection) {
  common::UniqueFd fd = Connect();
  ASSERT_TRUE(SendAll(fd.get(), std::string("\x01\x02garbage\xff", 11)));
  EXPECT_TRUE(ClosedWithNothingMore(fd.get()));
  ExpectServiceContinues();
}

TEST_F(HostileClientTest, HundredMegabyteObjectIsCutOff) {
  common::UniqueFd fd = Connect();
  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"ehlo","id":")"));
  std::string chunk(1 << 20, 'a');
  size_t sent_mib = 0;
  while (sent_mib < 100 && SendAll(fd.get(), chunk)) ++sent_mib;
  // The server stops reading at its 32 MiB cap; what is in flight in the
  // socket buffers may still be accepted.
  EXPECT_LT(sent_mib, 100u);
  EXPECT_TRUE(ClosedWithNothingMore(fd.get()));
  ExpectServiceContinues();
}

TEST_F(HostileClientTest, HalfAMessageThenDisconnect) {
  {
    common::UniqueFd fd = Connect();
    ASSERT_TRUE(SendAll(fd.get(), R"({"command":"recv","max_ar)"));
  }
  ExpectServiceContinues();
  EXPECT_EQ(cdt_.Counter("running_archive"), 0);
}

TEST_F(HostileClientTest, UnknownCommandClosesTheConnection) {
  common::UniqueFd fd = Connect();
  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"fly"})"));
  EXPECT_TRUE(ClosedWithNothingMore(fd.get()));
  common::UniqueFd no_command = Connect();
  ASSERT_TRUE(SendAll(no_command.get(), R"({"verb":"status"})"));
  EXPECT_TRUE(ClosedWithNothingMore(no_command.get()));
  ExpectServiceContinues();
}

// The reply keeps the original's words; the log names the id at fault.
TEST_F(HostileClientTest, AnIdHeldByALiveMoverIsRefusedNamedInTheLog) {
  common::UniqueFd fd = Connect();
  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"ehlo","id":"m1"})"));
  json::object reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("status").as_int64(), 17);
  EXPECT_EQ(reply.at("error"), "id already used by another client");
  EXPECT_EQ(cdt_.ServerLogLines("ehlo as mover m1: that id is held by a live "
                                "connection")
                .size(),
            1u)
      << cdt_.Logs();
  ExpectServiceContinues();
}

TEST_F(HostileClientTest, WrongTypesGetAnErrorReplyAndTheConnectionLives) {
  common::UniqueFd fd = Connect();
  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"ehlo","archive_ids":"one"})"));
  json::object reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("status").as_int64(), 22);
  EXPECT_EQ(reply.at("error"), "Bad archive id in list");

  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"recv","max_bytes":4096})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("error"),
            "Client must send EHLO first and not already be in RECV");

  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"ehlo","id":7})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("status").as_int64(), 22);

  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"ehlo"})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_FALSE(reply.contains("status"));

  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"recv","max_bytes":"lots"})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("error"), "'max_bytes' must be an integer");

  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"recv","max_bytes":100})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("error"), "Buffer too small");

  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"done","hai_cookie":"x"})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("error"), "cookie or fid not set -- old client?");

  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"lock","locked":9})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("error"), "invalid locked value");

  ASSERT_TRUE(SendAll(
      fd.get(),
      R"({"command":"queue","hsm_action_items":[{"hai_action":20},5]})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("error"), "Error while parsing hsm action items");
  EXPECT_FALSE(reply.contains("enqueued"));

  ASSERT_TRUE(
      SendAll(fd.get(),
              R"({"command":"queue","fsname":"other","hsm_action_items":[]})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("error"), "Bad fsname");
  // The reply keeps the original's words; the log says which name.
  EXPECT_EQ(cdt_.ServerLogLines("queue for filesystem 'other': this server "
                                "serves 'lustre'")
                .size(),
            1u)
      << cdt_.Logs();

  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"status"})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("command"), "status");
  EXPECT_FALSE(reply.contains("pending_archive"));
  ExpectServiceContinues();
}

// Many dones in one message (docs/protocol.md): taken only from a mover
// that said ehlo; a bad entry is refused alone, named by its index, and the
// others end their items; the message may come in pieces.
TEST_F(DoneItemsTest, ABadEntryIsRefusedAloneAndTheOthersEnd) {
  json::object reply;
  common::UniqueFd fd = Introduce(R"({"command":"ehlo","id":"raw"})", &reply);
  EXPECT_EQ(reply.at("done_items"), true) << "the server announces it";
  std::vector<std::string> entries;  // the items received, as done entries
  ASSERT_NO_FATAL_FAILURE(ArchiveTwoAndReceive(fd.get(), "batch", &entries));
  ASSERT_EQ(cdt_.Counter("running_archive"), 2);
  const std::string batch =
      R"({"command":"done","items":[)" + entries[0] +
      R"(,{"hai_cookie":"x","hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3}},)" +
      entries[1] + "]}";
  // In two writes: the server reads the first part alone when it can.
  ASSERT_TRUE(SendAll(fd.get(), batch.substr(0, batch.size() / 2)));
  ASSERT_TRUE(SendAll(fd.get(), batch.substr(batch.size() / 2)));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("command"), "done");
  EXPECT_EQ(reply.at("done").as_int64(), 2);
  EXPECT_EQ(reply.at("status").as_int64(), EINVAL);
  ASSERT_EQ(reply.at("failed").as_array().size(), 1u) << json::serialize(reply);
  const json::value& failed = reply.at("failed").as_array()[0];
  EXPECT_EQ(failed.at("index").as_int64(), 1);
  EXPECT_EQ(failed.at("error"), "items[1]: 'hai_cookie' must be an integer");
  EXPECT_EQ(cdt_.Counter("running_archive"), 0);
  EXPECT_EQ(cdt_.Counter("pending_archive"), 0);

  // An item that ended already, from another connection: answered as done
  // and nothing changes, as for a single `done`; a batch that is not a
  // list is refused whole, and the connection lives on.
  common::UniqueFd other =
      Introduce(R"({"command":"ehlo","id":"other"})", &reply);
  ASSERT_TRUE(SendAll(other.get(),
                      R"({"command":"done","items":[)" + entries[0] + "]}"));
  reply = json::parse(ReadObject(other.get())).as_object();
  EXPECT_EQ(reply.at("done").as_int64(), 1) << json::serialize(reply);
  ASSERT_TRUE(SendAll(other.get(), R"({"command":"done","items":5})"));
  reply = json::parse(ReadObject(other.get())).as_object();
  EXPECT_EQ(reply.at("error"), "'items' must be an array");
  ASSERT_TRUE(SendAll(other.get(), R"({"command":"status"})"));
  reply = json::parse(ReadObject(other.get())).as_object();
  EXPECT_EQ(reply.at("command"), "status");
}

// Quiet dones (docs/protocol.md): a mover that asks for them at ehlo gets
// no reply to a `done` the server takes, single or many, and still gets
// the refusals; the next reply it reads is the refusal, not an
// acknowledgement.
TEST_F(DoneItemsTest, AQuietMoverIsToldRefusalsOnly) {
  json::object reply;
  common::UniqueFd fd =
      Introduce(R"({"command":"ehlo","id":"quiet","quiet_done":true})", &reply);
  EXPECT_EQ(reply.at("quiet_done"), true) << "the server says it honours it";
  std::vector<std::string> entries;  // the items received, as done entries
  ASSERT_NO_FATAL_FAILURE(ArchiveTwoAndReceive(fd.get(), "quiet", &entries));
  ASSERT_EQ(cdt_.Counter("running_archive"), 2);
  std::string single = entries[0];
  single.insert(1, R"("command":"done",)");
  ASSERT_TRUE(SendAll(fd.get(), single));
  ASSERT_TRUE(
      SendAll(fd.get(), R"({"command":"done","items":[)" + entries[1] + "]}"));
  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"done","hai_cookie":"x"})"));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("command"), "done");
  EXPECT_EQ(reply.at("status").as_int64(), EINVAL) << json::serialize(reply);
  EXPECT_EQ(cdt_.Counter("running_archive"), 0);
  EXPECT_EQ(cdt_.Counter("pending_archive"), 0);

  // Without the hint, every `done` is acknowledged, as the original does.
  common::UniqueFd loud =
      Introduce(R"({"command":"ehlo","id":"loud"})", &reply);
  EXPECT_FALSE(reply.contains("quiet_done"));
  ASSERT_TRUE(SendAll(loud.get(), single));  // ended already: answered
  reply = json::parse(ReadObject(loud.get())).as_object();
  EXPECT_EQ(reply.at("command"), "done");
  EXPECT_FALSE(reply.contains("status")) << json::serialize(reply);
}

// A message that closes the connection (here an unknown command) after one
// whose reply waits for the store (the test server's embedded journal), in
// one write (docs/protocol.md): the earlier message is answered first, as
// the original answers each message before reading the next, and nothing
// after the bad one is handled.
TEST_F(DoneItemsTest, AHeldDoneReplyLeavesBeforeAnUnknownCommandCloses) {
  json::object reply;
  common::UniqueFd fd = Introduce(R"({"command":"ehlo","id":"raw"})", &reply);
  std::vector<std::string> entries;  // the items received, as done entries
  ASSERT_NO_FATAL_FAILURE(ArchiveTwoAndReceive(fd.get(), "held", &entries));
  ASSERT_EQ(cdt_.Counter("running_archive"), 2);
  std::string single = entries[0];
  single.insert(1, R"("command":"done",)");
  std::string after = entries[1];
  after.insert(1, R"("command":"done",)");
  // The done's reply waits for its Forget to be durable in the journal.
  ASSERT_TRUE(SendAll(fd.get(), single + R"({"command":"fly"})" + after));
  std::string text = ReadObject(fd.get());
  ASSERT_FALSE(text.empty()) << "closed before the done's reply\n"
                             << cdt_.Logs();
  reply = json::parse(text).as_object();
  EXPECT_EQ(reply.at("command"), "done");
  EXPECT_FALSE(reply.contains("status")) << text;
  EXPECT_TRUE(ClosedWithNothingMore(fd.get()));
  // The done was taken; the one after the bad message was not: its item
  // still runs on "raw", whose work waits for its grace time as after any
  // disconnection.
  EXPECT_EQ(cdt_.Counter("running_archive"), 1);
}

// The same for bytes that are not JSON (the connection's own check), after
// an ehlo and a recv whose reply hands out an item (its assignment waits
// for the journal).
TEST_F(DoneItemsTest, AHeldRecvReplyLeavesBeforeBytesThatAreNotJsonClose) {
  json::object reply;
  common::UniqueFd fd = Connect();
  std::string path = sim_.Path("held_recv");
  ASSERT_TRUE(WriteTestFile(path, 1000, 3).has_value());
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 1; }));
  ASSERT_TRUE(SendAll(fd.get(), R"({"command":"ehlo","id":"raw2"})"
                                R"({"command":"recv"})"
                                "\x01garbage"));
  std::string text = ReadObject(fd.get());
  ASSERT_FALSE(text.empty()) << "closed before the ehlo's reply\n"
                             << cdt_.Logs();
  reply = json::parse(text).as_object();
  EXPECT_EQ(reply.at("command"), "ehlo");
  text = ReadObject(fd.get());
  ASSERT_FALSE(text.empty()) << "closed before the recv's reply\n"
                             << cdt_.Logs();
  reply = json::parse(text).as_object();
  ASSERT_TRUE(reply.contains("hsm_action_list")) << text;
  EXPECT_EQ(reply.at("hsm_action_list").at("list").as_array().size(), 1u);
  EXPECT_TRUE(ClosedWithNothingMore(fd.get()));
}

// A mover id is written to logs, report files and the store: one with a
// newline (or any control byte, a space, or too long) is refused at ehlo,
// the connection stays open for a good one, and no forged line appears.
TEST_F(HostileClientTest, MoverIdThatCouldForgeALineIsRefused) {
  common::UniqueFd fd = Connect();
  const std::string forged = "evil\ndone [0x200000401:0x1:0x0] 0";
  json::object ehlo{{"command", "ehlo"}, {"id", forged}};
  ASSERT_TRUE(SendAll(fd.get(), json::serialize(ehlo)));
  json::object reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_EQ(reply.at("command"), "ehlo");
  EXPECT_EQ(reply.at("status").as_int64(), EINVAL);
  EXPECT_EQ(reply.at("error"),
            "mover id has byte 0x0a at offset 4: only printable ASCII "
            "characters other than space are allowed");
  for (const std::string& bad :
       {std::string("two words"), std::string(256, 'x'), std::string("")}) {
    ehlo["id"] = bad;
    ASSERT_TRUE(SendAll(fd.get(), json::serialize(ehlo)));
    reply = json::parse(ReadObject(fd.get())).as_object();
    EXPECT_EQ(reply.at("status").as_int64(), EINVAL) << bad;
  }
  EXPECT_EQ(cdt_.ClientStatus(forged), json::object());
  // Nothing changed: the same connection may still introduce itself.
  ehlo["id"] = "m2";
  ASSERT_TRUE(SendAll(fd.get(), json::serialize(ehlo)));
  reply = json::parse(ReadObject(fd.get())).as_object();
  EXPECT_FALSE(reply.contains("status")) << json::serialize(reply);
  EXPECT_EQ(cdt_.ClientField("m2", "status"), "ready");
  ExpectServiceContinues();
}

// Peer text in a log message (here an unknown command's name) is escaped:
// a newline in it cannot start a log line of its own.
TEST_F(HostileClientTest, PeerTextCannotForgeALogLine) {
  common::UniqueFd fd = Connect();
  ASSERT_TRUE(SendAll(
      fd.get(),
      R"({"command":"fly\n2026-12-06T00:00:00.000 critical forged line"})"));
  EXPECT_TRUE(ClosedWithNothingMore(fd.get()));
  ExpectServiceContinues();
  EXPECT_TRUE(cdt_.ServerLogLines("^2026-12-06T00:00:00.000 critical").empty())
      << cdt_.Logs();
  EXPECT_EQ(
      cdt_.ServerLogLines(
              R"(unknown command 'fly\\n2026-12-06T00:00:00\.000 critical )"
              R"(forged line' \(known: ehlo, .*\), closing)")
          .size(),
      1u)
      << cdt_.Logs();
}

// The issue's attack: a `queue` of a REMOVE with a made-up cookie deleted
// the archive copy of an archived file, and its next restore failed. Now
// an item Lustre does not hold live is refused with the reason, and
// nothing changes: the file restores.
TEST_F(HostileClientTest, QueueOfRequestsLustreDoesNotHoldIsRefused) {
  std::string path = sim_.Path("archived");
  auto digest = WriteTestFile(path, 50000, 7);
  ASSERT_TRUE(digest.has_value());
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
  const std::string fid_text = FidOf(path);
  ASSERT_TRUE(sim_.WaitForStatus(fid_text, "ARCHIVE", "SUCCEED"))
      << cdt_.Logs();
  const lu_fid fid = *hsm::ParseFid(fid_text);
  auto item = [](int action, const lu_fid& fid, const lu_fid& dfid) {
    return json::object{{"hai_action", action},
                        {"hai_fid", protocol::FidToJson(fid)},
                        {"hai_dfid", protocol::FidToJson(dfid)},
                        {"hai_extent_offset", 0},
                        {"hai_extent_length", -1},
                        {"hai_cookie", 0xbad},
                        {"hai_gid", 0},
                        {"hai_data", ""},
                        {"hal_archive_id", 1}};
  };
  lu_fid unknown = fid;
  unknown.f_oid += 1000;
  json::object queue{
      {"command", "queue"},
      {"hsm_action_items",
       {item(HSMA_REMOVE, fid, fid), item(HSMA_ARCHIVE, unknown, unknown),
        item(HSMA_REMOVE, unknown, fid)}}};
  common::UniqueFd fd = Connect();
  ASSERT_TRUE(SendAll(fd.get(), json::serialize(queue)));
  json::object reply = json::parse(ReadObject(fd.get())).as_object();
  ASSERT_TRUE(reply.contains("status")) << json::serialize(reply);
  EXPECT_EQ(reply.at("status").as_int64(), EINVAL);
  EXPECT_EQ(reply.at("error"), "hsm action items refused");
  EXPECT_FALSE(reply.contains("enqueued"));
  // The first two: Lustre holds no such request; the third is malformed.
  EXPECT_EQ(reply.at("not_live").as_int64(), 2);
  ASSERT_TRUE(reply.contains("failed")) << json::serialize(reply);
  const json::array& failed = reply.at("failed").as_array();
  ASSERT_EQ(failed.size(), 3u) << json::serialize(reply);
  EXPECT_EQ(failed[0].at("error").as_string(),
            fid_text + ": Lustre has no request waiting or running on it");
  EXPECT_EQ(failed[1].at("error").as_string(),
            hsm::FormatFid(unknown) + ": no such file at Lustre");
  EXPECT_NE(failed[2].at("error").as_string().find("differs from the FID"),
            std::string::npos);
  EXPECT_EQ(cdt_.Counter("pending_remove"), 0);
  EXPECT_EQ(cdt_.Counter("pending_archive"), 0);
  EXPECT_EQ(cdt_.Counter("done_remove"), 0);
  // The archive copy is intact: the file releases and restores whole.
  ASSERT_TRUE(sim_.Lfs({"hsm_release", path}).ok());
  ASSERT_TRUE(sim_.Lfs({"hsm_restore", path}).ok());
  ASSERT_TRUE(sim_.WaitForStatus(fid_text, "RESTORE", "SUCCEED"))
      << cdt_.Logs();
  EXPECT_EQ(DigestFile(path), digest);
  ExpectServiceContinues();
}

// `--drain` marked work done at the server while Lustre still held it; it
// is now `--recv-and-mark-done`, and the old name is refused (before, it
// took work and never returned here).
TEST_F(HostileClientTest, OldDrainOptionIsRefusedWithTheNewName) {
  CommandResult drain = cdt_.Client({"--drain"});
  EXPECT_FALSE(drain.ok());
  EXPECT_NE(drain.err.find("--drain is now --recv-and-mark-done"),
            std::string::npos)
      << drain.Describe();
  // m1 and the status request itself: no session of the client is left.
  EXPECT_EQ(cdt_.Counter("clients_connected"), 2);
  ExpectServiceContinues();
}

}  // namespace
}  // namespace testing_support
