#include "protocol/messages.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace protocol {
namespace {

namespace json = boost::json;

json::object Obj(const char* text) { return json::parse(text).as_object(); }

// Through the text, as on the wire.
json::object Wire(const json::object& o) {
  return json::parse(json::serialize(o)).as_object();
}

WireItem SampleItem(uint64_t cookie = 7, uint32_t action = HSMA_ARCHIVE) {
  WireItem wire;
  hsm_action_item& hai = wire.item.hai;
  hai.hai_action = action;
  hai.hai_fid = {0x200000401, 42, 0};
  hai.hai_dfid = hai.hai_fid;
  hai.hai_extent = {0, LUSTRE_EOF};
  hai.hai_cookie = cookie;
  wire.item.data = "tag=n1";
  hai.hai_len = 72 + 6;
  wire.archive_id = 1;
  wire.timestamp_ns = 1767225600000000000;
  return wire;
}

constexpr const char* kDfid = R"({"f_seq":2,"f_oid":3,"f_ver":0})";

TEST(MessagesTest, CommandNamesRoundTrip) {
  for (Command c : {Command::kEhlo, Command::kRecv, Command::kDone,
                    Command::kQueue, Command::kStatus, Command::kLock,
                    Command::kProgress, Command::kHeartbeat, Command::kAuth,
                    Command::kReconcile, Command::kDrain, Command::kResume,
                    Command::kShow, Command::kList, Command::kUpcall}) {
    json::object m{{"command", CommandName(c)}};
    Command read;
    std::string name, error;
    ASSERT_EQ(ReadCommand(m, &read, &name, &error), CommandRead::kOk);
    EXPECT_EQ(read, c);
    EXPECT_EQ(name, CommandName(c));
  }
}

TEST(MessagesTest, UnknownOrMissingCommand) {
  Command c;
  std::string name, error;
  EXPECT_EQ(ReadCommand(Obj(R"({"command":"fly"})"), &c, &name, &error),
            CommandRead::kUnknown);
  EXPECT_EQ(name, "fly");
  // The known commands listed (more may come: a prefix).
  EXPECT_TRUE(
      error.starts_with("unknown command 'fly' (known: ehlo, recv, "
                        "done, queue, status, lock, progress, "
                        "heartbeat, auth"))
      << error;
  for (const char* bad : {"{}", R"({"command":1})", R"({"command":null})"}) {
    EXPECT_EQ(ReadCommand(Obj(bad), &c, &name, &error), CommandRead::kMissing)
        << bad;
    EXPECT_EQ(error, "message without a string 'command'");
  }
}

TEST(MessagesTest, EhloRoundTripsAndIsWrittenAsBefore) {
  EhloRequest r;
  r.id = "mover-1";
  r.fsname = "lustre";
  r.archive_ids = {1, 3};
  r.progress = r.heartbeat = true;
  ListEntry announced;
  announced.item = SampleItem();
  r.hai_list.push_back(announced);
  json::object m = Wire(ToJson(r));
  // The preload library's ehlo, key for key and in order.
  EXPECT_EQ(
      json::serialize(json::object{{"command", "ehlo"},
                                   {"fsname", "lustre"},
                                   {"progress", true},
                                   {"heartbeat", true},
                                   {"id", "mover-1"},
                                   {"archive_ids", {1, 3}},
                                   {"hai_list", {ItemToJson(SampleItem())}}}),
      json::serialize(m));
  EhloRequest back;
  std::string error;
  ASSERT_TRUE(Parse(m, &back, &error)) << error;
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.fsname, r.fsname);
  EXPECT_EQ(back.archive_ids, r.archive_ids);
  EXPECT_TRUE(back.progress);
  EXPECT_TRUE(back.heartbeat);
  ASSERT_EQ(back.hai_list.size(), 1u);
  EXPECT_TRUE(back.hai_list[0].ok());
  EXPECT_EQ(back.hai_list[0].item.item.hai.hai_cookie, 7u);
}

TEST(MessagesTest, EhloDefaults) {
  EhloRequest r;
  std::string error;
  ASSERT_TRUE(Parse(Obj(R"({"command":"ehlo"})"), &r, &error));
  EXPECT_FALSE(r.id);
  EXPECT_FALSE(r.fsname);
  EXPECT_TRUE(r.archive_ids.empty());
  EXPECT_FALSE(r.progress);
  EXPECT_FALSE(r.heartbeat);
  EXPECT_TRUE(r.hai_list.empty());
  // The coordinatool-client's ehlo: nothing but the command.
  EXPECT_EQ(json::serialize(ToJson(EhloRequest())), R"({"command":"ehlo"})");
  // Lenient fields, as the server always read them.
  ASSERT_TRUE(Parse(Obj(R"({"heartbeat":1,"fsname":2})"), &r, &error));
  EXPECT_FALSE(r.heartbeat);
  EXPECT_FALSE(r.fsname);
}

TEST(MessagesTest, EhloErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"archive_ids":1})", "Bad archive id in list"},
      {R"({"archive_ids":[0]})", "Bad archive id in list"},
      {R"({"archive_ids":[2147483648]})", "Bad archive id in list"},
      {R"({"archive_ids":["1"]})", "Bad archive id in list"},
      {R"({"progress":1})", "'progress' must be a boolean"},
      {R"({"hai_list":{}})", "'hai_list' must be an array"},
      {R"({"id":5})", "'id' must be a string"},
      {R"({"id":""})", "'id' must be non-empty, without NUL"},
      {R"({"id":"a\u0000b"})", "'id' must be non-empty, without NUL"},
  };
  for (const auto& [text, want] : cases) {
    EhloRequest r;
    std::string error;
    EXPECT_FALSE(Parse(Obj(text), &r, &error)) << text;
    EXPECT_EQ(error, want) << text;
  }
}

TEST(MessagesTest, EhloListEntriesAreJudgedAlone) {
  json::object good = ItemToJson(SampleItem());
  json::object no_archive = good;
  no_archive.erase("hal_archive_id");
  json::object no_fid = good;
  no_fid.erase("hai_fid");
  json::object m{{"hai_list", {good, 3, no_archive, no_fid}}};
  EhloRequest r;
  std::string error;
  ASSERT_TRUE(Parse(m, &r, &error)) << error;
  ASSERT_EQ(r.hai_list.size(), 4u);
  EXPECT_TRUE(r.hai_list[0].ok());
  EXPECT_EQ(r.hai_list[1].error, "not an object");
  EXPECT_EQ(r.hai_list[2].error, "'hal_archive_id' is missing or 0");
  EXPECT_NE(r.hai_list[3].error.find("hai_fid"), std::string::npos)
      << r.hai_list[3].error;
}

TEST(MessagesTest, EhloReplyRoundTrips) {
  EhloReply reply;
  reply.progress = true;
  reply.heartbeat_ms = 5000;
  json::object m = Wire(ToJson(reply));
  EXPECT_EQ(json::serialize(m),
            R"({"progress":true,"heartbeat_ms":5000,"command":"ehlo"})");
  EhloReply back;
  Parse(m, &back);
  EXPECT_TRUE(back.progress);
  EXPECT_EQ(back.heartbeat_ms, 5000);
  EXPECT_EQ(back.header.status, 0);
  // A refusal, and the original's negative status.
  reply = EhloReply();
  reply.header = {EEXIST, "id already used by another client"};
  Parse(Wire(ToJson(reply)), &back);
  EXPECT_FALSE(back.progress);
  EXPECT_EQ(back.header.status, EEXIST);
  EXPECT_EQ(back.header.error, "id already used by another client");
  Parse(Obj(R"({"command":"ehlo","status":-17})"), &back);
  EXPECT_EQ(back.header.status, 17);
  EXPECT_EQ(back.instance, "");
  // The server's instance id.
  reply = EhloReply();
  reply.instance = "0123456789abcdef";
  Parse(Wire(ToJson(reply)), &back);
  EXPECT_EQ(back.instance, "0123456789abcdef");
}

TEST(MessagesTest, StatusOutOfRangeIsNeverASuccess) {
  // Found by the messages fuzzer: truncated to an int, 2^32 read as 0.
  EXPECT_EQ(ReadReplyHeader(Obj(R"({"status":4294967296})")).status, EPROTO);
  EXPECT_EQ(ReadReplyHeader(Obj(R"({"status":161111111111116})")).status,
            EPROTO);
  EXPECT_EQ(ReadReplyHeader(Obj(R"({"status":-9223372036854775808})")).status,
            EPROTO);
  EXPECT_EQ(ReadReplyHeader(Obj(R"({"status":-2147483647})")).status,
            2147483647);
  EXPECT_EQ(ReadReplyHeader(Obj(R"({"status":"x"})")).status, 0);
}

TEST(MessagesTest, RecvRoundTripsAndDefaults) {
  RecvRequest r{2, -1, 0, 4096};
  json::object m = Wire(ToJson(r));
  EXPECT_EQ(json::serialize(m),
            R"({"command":"recv","max_archive":2,"max_restore":-1,)"
            R"("max_remove":0,"max_bytes":4096})");
  RecvRequest back;
  std::string error;
  ASSERT_TRUE(Parse(m, &back, &error)) << error;
  EXPECT_EQ(back.max_archive, 2);
  EXPECT_EQ(back.max_restore, -1);
  EXPECT_EQ(back.max_remove, 0);
  EXPECT_EQ(back.max_bytes, 4096);
  ASSERT_TRUE(Parse(Obj(R"({"command":"recv"})"), &back, &error));
  EXPECT_EQ(back.max_archive, -1);
  EXPECT_EQ(back.max_restore, -1);
  EXPECT_EQ(back.max_remove, -1);
  EXPECT_EQ(back.max_bytes, hsm::kHalMaxSize);
  for (const char* key :
       {"max_archive", "max_restore", "max_remove", "max_bytes"}) {
    json::object bad{{key, "1"}};
    EXPECT_FALSE(Parse(bad, &back, &error)) << key;
    EXPECT_EQ(error, std::string("'") + key + "' must be an integer");
  }
}

TEST(MessagesTest, RecvReplyRoundTrips) {
  ActionListHeader hal;
  hal.archive_id = 3;
  hal.flags = 1;
  hal.fsname = "lustre";
  WireItem cancel = SampleItem(9, HSMA_CANCEL);
  WireItem item = SampleItem(7);
  json::object m = Wire(RecvReplyToJson(hal, {&cancel, 1}, {&item, 1}));
  EXPECT_EQ(m.begin()->key(), "command");
  RecvReply back;
  std::string error;
  ASSERT_TRUE(Parse(m, &back, &error)) << error;
  EXPECT_EQ(back.header.status, 0);
  EXPECT_EQ(back.hal.version, uint64_t{HAL_VERSION});
  EXPECT_EQ(back.hal.archive_id, 3u);
  EXPECT_EQ(back.hal.flags, 1u);
  EXPECT_EQ(back.hal.fsname, "lustre");
  ASSERT_EQ(back.list.size(), 2u);
  EXPECT_EQ(back.list[0].item.item.hai.hai_action, uint32_t{HSMA_CANCEL});
  EXPECT_EQ(back.list[1].item.item.hai.hai_cookie, 7u);
  EXPECT_EQ(back.list[1].item.item.data, "tag=n1");
  // Kept as received, for a re-announce.
  EXPECT_EQ(back.list[1].raw, json::value(ItemToJson(item)));
  // No flags: no hal_flags key.
  hal.flags = 0;
  m = RecvReplyToJson(hal, {}, {&item, 1});
  EXPECT_FALSE(m.at("hsm_action_list").as_object().contains("hal_flags"));
}

TEST(MessagesTest, RecvReplyErrors) {
  RecvReply back;
  std::string error;
  // A refusal is read as its status alone.
  RecvReply refusal;
  refusal.header = {EINVAL, "Buffer too small"};
  ASSERT_TRUE(Parse(Wire(ToJson(refusal)), &back, &error));
  EXPECT_EQ(back.header.status, EINVAL);
  EXPECT_EQ(back.header.error, "Buffer too small");
  const std::pair<const char*, const char*> cases[] = {
      {R"({"command":"recv"})",
       "'hsm_action_list' is missing or not an object"},
      {R"({"hsm_action_list":{"hal_version":2,"hal_fsname":"l","list":[]}})",
       "'hal_version' is not 1"},
      {R"({"hsm_action_list":{"hal_version":1,"list":[]}})",
       "'hal_fsname' is missing, not a string or too long"},
      {R"({"hsm_action_list":{"hal_version":1,"hal_fsname":"l","list":{}}})",
       "'list' must be an array"},
  };
  for (const auto& [text, want] : cases) {
    EXPECT_FALSE(Parse(Obj(text), &back, &error)) << text;
    EXPECT_EQ(error, want) << text;
  }
  // One bad entry costs only itself.
  ASSERT_TRUE(Parse(Obj(R"({"hsm_action_list":{"hal_version":1,
      "hal_fsname":"l","list":[1,{"hai_action":20}]}})"),
                    &back, &error));
  ASSERT_EQ(back.list.size(), 2u);
  EXPECT_EQ(back.list[0].error, "not an object");
  EXPECT_FALSE(back.list[1].ok());
  EXPECT_EQ(back.list[1].raw.as_object().at("hai_action"), 20);
}

TEST(MessagesTest, DoneRoundTripsAndIsWrittenAsBefore) {
  DoneRequest r;
  r.id = {UINT64_MAX, {2, 3, 0}};
  r.status = 5;
  r.end_rc = -16;
  r.begin_rc = -2;
  r.hp_flags = HP_FLAG_RETRY;
  json::object m = Wire(ToJson(r));
  EXPECT_EQ(json::serialize(m),
            std::string(R"({"command":"done","hai_cookie":-1,"hai_dfid":)") +
                kDfid +
                R"(,"status":5,"begin_rc":-2,"end_rc":-16,"hp_flags":2})");
  DoneRequest back;
  std::string error;
  ASSERT_TRUE(Parse(m, &back, &error)) << error;
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.status, 5);
  EXPECT_EQ(back.end_rc, -16);
  EXPECT_EQ(back.begin_rc, -2);
  EXPECT_EQ(back.hp_flags, HP_FLAG_RETRY);
  // Defaults: status 0, no end_rc nor begin_rc written.
  r = DoneRequest();
  r.id = {1, {2, 3, 0}};
  m = Wire(ToJson(r));
  EXPECT_EQ(json::serialize(m),
            std::string(R"({"command":"done","hai_cookie":1,"hai_dfid":)") +
                kDfid + R"(,"status":0})");
  m.erase("status");
  ASSERT_TRUE(Parse(m, &back, &error));
  EXPECT_EQ(back.status, 0);
  EXPECT_EQ(back.end_rc, 0);
  EXPECT_EQ(back.hp_flags, 0);
}

TEST(MessagesTest, DoneErrorsNameTheField) {
  const std::string id = std::string(R"("hai_cookie":1,"hai_dfid":)") + kDfid;
  const std::pair<std::string, const char*> cases[] = {
      {R"({"hai_cookie":1})", "cookie or fid not set -- old client?"},
      {std::string(R"({"hai_dfid":)") + kDfid + "}",
       "cookie or fid not set -- old client?"},
      {std::string(R"({"hai_cookie":"1","hai_dfid":)") + kDfid + "}",
       "'hai_cookie' must be an integer"},
      {R"({"hai_cookie":1,"hai_dfid":{"f_seq":1}})",
       "'hai_dfid': 'f_oid' must be an integer"},
      {"{" + id + R"(,"status":"x"})", "'status' must be an integer"},
      {"{" + id + R"(,"status":4294967296})", "'status' is out of range"},
      {"{" + id + R"(,"end_rc":true})", "'end_rc' must be an integer"},
      {"{" + id + R"(,"hp_flags":"2"})", "'hp_flags' must be an integer"},
      {"{" + id + R"(,"hp_flags":65536})", "'hp_flags' is out of range"},
      {"{" + id + R"(,"hp_flags":-1})", "'hp_flags' is out of range"},
  };
  for (const auto& [text, want] : cases) {
    DoneRequest r;
    std::string error;
    EXPECT_FALSE(Parse(Obj(text.c_str()), &r, &error)) << text;
    EXPECT_EQ(error, want) << text;
  }
  // begin_rc was never acted on: a bad one reads as 0, not an error.
  DoneRequest r;
  std::string error;
  EXPECT_TRUE(
      Parse(Obj(("{" + id + R"(,"begin_rc":"x"})").c_str()), &r, &error));
  EXPECT_EQ(r.begin_rc, 0);
}

TEST(MessagesTest, ProgressRoundTripsAndErrors) {
  ProgressRequest r;
  r.id = {1, {2, 3, 0}};
  json::object m = Wire(ToJson(r));
  EXPECT_EQ(json::serialize(m),
            std::string(R"({"command":"progress","hai_cookie":1,"hai_dfid":)") +
                kDfid + "}");
  ProgressRequest back;
  std::string error;
  ASSERT_TRUE(Parse(m, &back, &error)) << error;
  EXPECT_EQ(back.id, r.id);
  EXPECT_FALSE(Parse(Obj(R"({"command":"progress"})"), &back, &error));
  EXPECT_EQ(error, "'hai_cookie' and 'hai_dfid' are required");
  EXPECT_FALSE(
      Parse(Obj(R"({"hai_cookie":1.5,"hai_dfid":{}})"), &back, &error));
  EXPECT_EQ(error, "'hai_cookie' must be an integer");
}

TEST(MessagesTest, QueueRoundTrips) {
  QueueRequest r;
  ListEntry entry;
  entry.item = SampleItem(7);
  r.items.push_back(entry);
  r.fsnames = {"lustre"};
  json::object m = Wire(ToJson(r));
  const json::object& written =
      m.at("hsm_action_items").as_array()[0].as_object();
  EXPECT_FALSE(written.contains("timestamp"));  // the server stamps it
  EXPECT_EQ(m.at("fsname"), "lustre");
  QueueRequest back;
  std::string error;
  ASSERT_TRUE(Parse(m, &back, &error)) << error;
  EXPECT_EQ(back.fsnames, std::vector<std::string>{"lustre"});
  ASSERT_EQ(back.items.size(), 1u);
  EXPECT_TRUE(back.items[0].ok());
  EXPECT_EQ(back.items[0].item.item.hai.hai_cookie, 7u);
  EXPECT_EQ(back.items[0].item.timestamp_ns, 0);
  EXPECT_TRUE(back.items[0].raw.is_null());  // not kept on the server side
  // No fsname: none written, none read; hal_fsname is read too.
  r.fsnames.clear();
  m = ToJson(r);
  EXPECT_FALSE(m.contains("fsname"));
  m["hal_fsname"] = "other";
  ASSERT_TRUE(Parse(m, &back, &error));
  EXPECT_EQ(back.fsnames, std::vector<std::string>{"other"});
}

TEST(MessagesTest, QueueErrorsAndRefusedItems) {
  QueueRequest r;
  std::string error;
  EXPECT_FALSE(Parse(Obj(R"({"command":"queue"})"), &r, &error));
  EXPECT_EQ(error, "No hsm_action_items set");
  EXPECT_FALSE(Parse(Obj(R"({"hsm_action_items":{}})"), &r, &error));
  EXPECT_EQ(error, "No hsm_action_items set");
  EXPECT_FALSE(
      Parse(Obj(R"({"hsm_action_items":[],"hal_fsname":3})"), &r, &error));
  EXPECT_EQ(error, "Bad fsname");
  json::object no_archive = ItemToJson(SampleItem());
  no_archive["hal_archive_id"] = 0;
  json::object cancel = ItemToJson(SampleItem(8, HSMA_CANCEL));
  json::object no_cookie = ItemToJson(SampleItem());
  no_cookie.erase("hai_cookie");
  json::object m{{"hsm_action_items",
                  {"x", no_archive, cancel, no_cookie,
                   ItemToJson(SampleItem(9, HSMA_RESTORE))}}};
  ASSERT_TRUE(Parse(m, &r, &error)) << error;
  ASSERT_EQ(r.items.size(), 5u);
  EXPECT_EQ(r.items[0].error, "not an object");
  EXPECT_EQ(r.items[1].error, "'hal_archive_id' is missing or 0");
  EXPECT_EQ(r.items[2].error,
            "'hai_action' is not an archive, restore or remove");
  EXPECT_NE(r.items[3].error.find("hai_cookie"), std::string::npos)
      << r.items[3].error;
  EXPECT_TRUE(r.items[4].ok());
}

TEST(MessagesTest, QueueReplyRoundTrips) {
  QueueReply reply;
  reply.enqueued = 3;
  json::object m = Wire(ToJson(reply));
  // All good: the original's reply, zero skipped omitted.
  EXPECT_EQ(json::serialize(m), R"({"enqueued":3,"command":"queue"})");
  reply.header = {EINVAL, "Error while parsing hsm action items"};
  reply.skipped = 1;
  reply.failed = {{1, "not an object"}, {4, "'hai_fid' is missing"}};
  m = Wire(ToJson(reply));
  QueueReply back;
  Parse(m, &back);
  EXPECT_EQ(back.header.status, EINVAL);
  EXPECT_EQ(back.header.error, "Error while parsing hsm action items");
  EXPECT_EQ(back.enqueued, 3);
  EXPECT_EQ(back.skipped, 1);
  ASSERT_EQ(back.failed.size(), 2u);
  EXPECT_EQ(back.failed[1].index, 4);
  EXPECT_EQ(back.failed[1].error, "'hai_fid' is missing");
  EXPECT_EQ(back.not_live, 0);
  reply.not_live = 1;
  Parse(Wire(ToJson(reply)), &back);
  EXPECT_EQ(back.not_live, 1);
  // Read leniently: missing numbers are 0.
  Parse(Obj(R"({"command":"queue","enqueued":"x"})"), &back);
  EXPECT_EQ(back.enqueued, 0);
  EXPECT_TRUE(back.failed.empty());
}

TEST(MessagesTest, ReconcileRoundTripsAndErrors) {
  ReconcileRequest r;
  ListEntry entry;
  entry.item = SampleItem(7);
  r.queue.items.push_back(entry);
  r.token = "0123456789abcdef-3";
  json::object m = Wire(ToJson(r));
  EXPECT_EQ(m.at("command"), "reconcile");
  EXPECT_EQ(m.at("pass_token"), "0123456789abcdef-3");
  ReconcileRequest back;
  std::string error;
  ASSERT_TRUE(Parse(m, &back, &error)) << error;
  ASSERT_EQ(back.queue.items.size(), 1u);
  EXPECT_EQ(back.queue.items[0].item.item.hai.hai_cookie, 7u);
  EXPECT_EQ(back.token, "0123456789abcdef-3");
  // No token: add only; an empty list is a list.
  ASSERT_TRUE(Parse(Obj(R"({"command":"reconcile","hsm_action_items":[]})"),
                    &back, &error));
  EXPECT_FALSE(back.token.has_value());
  EXPECT_TRUE(back.queue.items.empty());
  // A missing list is never read as an empty one.
  EXPECT_FALSE(Parse(Obj(R"({"command":"reconcile"})"), &back, &error));
  EXPECT_EQ(error, "No hsm_action_items set");
  EXPECT_FALSE(Parse(
      Obj(R"({"command":"reconcile","hsm_action_items":[],"pass_token":1})"),
      &back, &error));
  EXPECT_EQ(error, "'pass_token' must be a string");
}

TEST(MessagesTest, ReconcileReplyRoundTrips) {
  ReconcileReply reply;
  reply.added = 2;
  reply.known = 3;
  reply.dropped = 4;
  reply.refused = 1;
  reply.not_live = 1;
  reply.running_gone = 5;
  reply.instance = "0123456789abcdef";
  reply.token = "0123456789abcdef-1";
  reply.failed = {{0, "gone"}};
  ReconcileReply back;
  Parse(Wire(ToJson(reply)), &back);
  EXPECT_EQ(back.added, 2);
  EXPECT_EQ(back.known, 3);
  EXPECT_EQ(back.dropped, 4);
  EXPECT_EQ(back.refused, 1);
  EXPECT_EQ(back.not_live, 1);
  EXPECT_EQ(back.running_gone, 5);
  EXPECT_EQ(back.instance, "0123456789abcdef");
  EXPECT_EQ(back.token, "0123456789abcdef-1");
  EXPECT_EQ(back.add_only, "");
  ASSERT_EQ(back.failed.size(), 1u);
  EXPECT_EQ(back.failed[0].error, "gone");
}

TEST(MessagesTest, StatusRoundTripsAndDefaults) {
  StatusRequest r{6};
  json::object m = Wire(ToJson(r));
  EXPECT_EQ(json::serialize(m), R"({"command":"status","verbose":6})");
  StatusRequest back;
  Parse(m, &back);
  EXPECT_EQ(back.verbose, 6);
  Parse(Obj(R"({"command":"status"})"), &back);
  EXPECT_EQ(back.verbose, 4);
  Parse(Obj(R"({"verbose":"high"})"), &back);  // a harmless default
  EXPECT_EQ(back.verbose, 4);
}

TEST(MessagesTest, LockRoundTripsAndErrors) {
  for (Locked l : {Locked::kUnlocked, Locked::kLocked, Locked::kLockAndQuit}) {
    json::object m = Wire(ToJson(LockRequest{l}));
    LockRequest back;
    std::string error;
    ASSERT_TRUE(Parse(m, &back, &error)) << error;
    EXPECT_EQ(back.locked, l);
  }
  EXPECT_EQ(json::serialize(ToJson(LockRequest{Locked::kLockAndQuit})),
            R"({"command":"lock","locked":2})");
  LockRequest back{Locked::kLocked};
  std::string error;
  ASSERT_TRUE(Parse(Obj(R"({"command":"lock"})"), &back, &error));
  EXPECT_EQ(back.locked, Locked::kUnlocked);  // absent: unlock
  for (const char* bad : {R"({"locked":3})", R"({"locked":-1})",
                          R"({"locked":"1"})", R"({"locked":true})"}) {
    EXPECT_FALSE(Parse(Obj(bad), &back, &error)) << bad;
    EXPECT_EQ(error, "invalid locked value");
  }
}

TEST(MessagesTest, MoverControlRoundTripsAndErrors) {
  for (bool drain : {true, false}) {
    MoverControlRequest request{drain, "m1"};
    json::object m = Wire(ToJson(request));
    EXPECT_EQ(m.at("command"), drain ? "drain" : "resume");
    MoverControlRequest back;
    std::string error;
    ASSERT_TRUE(Parse(m, drain, &back, &error)) << error;
    EXPECT_EQ(back.drain, drain);
    EXPECT_EQ(back.client_id, "m1");
  }
  EXPECT_EQ(json::serialize(ToJson(MoverControlRequest{true, "m1"})),
            R"({"command":"drain","client_id":"m1"})");
  MoverControlRequest back;
  std::string error;
  for (const char* bad : {R"({"command":"drain"})", R"({"client_id":7})"}) {
    EXPECT_FALSE(Parse(Obj(bad), true, &back, &error)) << bad;
    EXPECT_EQ(error, "'client_id' is missing or not a string");
  }
  for (const char* bad : {R"({"client_id":""})", R"({"client_id":"a b"})"}) {
    EXPECT_FALSE(Parse(Obj(bad), true, &back, &error)) << bad;
    EXPECT_TRUE(error.starts_with("'client_id': ")) << error;
  }
}

TEST(MessagesTest, MoverControlReplyRoundTrips) {
  MoverControlReply reply;
  reply.client_id = "m1";
  reply.draining = true;
  reply.connected = true;
  reply.current = {1, 0, 3};
  json::object m = Wire(ToJson(reply));
  // Zero counts are omitted, as in every reply.
  EXPECT_EQ(json::serialize(m),
            R"({"client_id":"m1","draining":true,"connected":true,)"
            R"("current_restore":1,"current_archive":3,"command":"drain"})");
  MoverControlReply back;
  Parse(m, &back);
  EXPECT_TRUE(back.drain);
  EXPECT_EQ(back.client_id, "m1");
  EXPECT_TRUE(back.draining);
  EXPECT_TRUE(back.connected);
  EXPECT_EQ(back.current, reply.current);

  MoverControlReply refused;
  refused.drain = false;
  refused.header = {ENOENT, "no mover known by id m9"};
  refused.client_id = "m9";
  Parse(Wire(ToJson(refused)), &back);
  EXPECT_FALSE(back.drain);
  EXPECT_EQ(back.header.status, ENOENT);
  EXPECT_EQ(back.header.error, "no mover known by id m9");
  EXPECT_FALSE(back.draining);
}

TEST(MessagesTest, AuthRoundTripsAndErrors) {
  AuthRequest back;
  std::string error;
  ASSERT_TRUE(
      Parse(Wire(ToJson(AuthRequest{"s3cret-token-value"})), &back, &error))
      << error;
  EXPECT_EQ(back.token, "s3cret-token-value");
  EXPECT_EQ(json::serialize(ToJson(AuthRequest{"t"})),
            R"({"command":"auth","token":"t"})");
  for (auto [bad, why] :
       {std::pair{R"({"command":"auth"})",
                  "'token' is missing or not a string"},
        std::pair{R"({"token":7})", "'token' is missing or not a string"},
        std::pair{R"({"token":""})", "'token' is empty"}}) {
    EXPECT_FALSE(Parse(Obj(bad), &back, &error)) << bad;
    EXPECT_EQ(error, why);
  }
  json::object long_token{{"token", std::string(kMaxTokenBytes + 1, 'a')}};
  EXPECT_FALSE(Parse(long_token, &back, &error));
  EXPECT_EQ(error, "'token' is too long");

  AuthReply reply{{}, "mover,admin", "token ops"};
  EXPECT_EQ(
      json::serialize(ToJson(reply)),
      R"({"role":"mover,admin","identity":"token ops","command":"auth"})");
  AuthReply read;
  Parse(Wire(ToJson(AuthReply{{EACCES, "unknown token"}, "", ""})), &read);
  EXPECT_EQ(read.header.status, EACCES);
  EXPECT_EQ(read.header.error, "unknown token");
  EXPECT_EQ(read.role, "");
}

TEST(MessagesTest, RepliesOmitZerosAndPutCommandAfterFields) {
  json::object m = MakeReply("done", {});
  EXPECT_EQ(json::serialize(m), R"({"command":"done"})");
  m = MakeReply(
      "lock", {EINVAL, "invalid locked value"},
      json::object{{"zero", 0}, {"empty", ""}, {"no", false}, {"yes", true}});
  EXPECT_EQ(json::serialize(m), R"({"yes":true,"command":"lock","status":22,)"
                                R"("error":"invalid locked value"})");
  json::object status{{"no", false}, {"n", 0}};
  OmitZeros(status, /*booleans_too=*/false);
  EXPECT_EQ(json::serialize(status), R"({"no":false})");
  EXPECT_EQ(json::serialize(HeartbeatJson()), R"({"command":"heartbeat"})");
}

TEST(MessagesTest, ShowTakesAFidInLustresForm) {
  ShowRequest show;
  std::string error;
  ASSERT_TRUE(
      Parse(ToJson(ShowRequest{{0x200000401, 0x2a, 0}}), &show, &error));
  EXPECT_EQ(show.fid.f_oid, 0x2au);
  EXPECT_EQ(ToJson(show).at("fid").as_string(), "[0x200000401:0x2a:0x0]");
  for (const char* bad :
       {R"({"command":"show"})", R"({"command":"show","fid":"/a/path"})",
        R"({"command":"show","fid":12})"}) {
    EXPECT_FALSE(Parse(boost::json::parse(bad).as_object(), &show, &error))
        << bad;
    EXPECT_EQ(error, "'fid' must be a FID such as [0x200000401:0x1:0x0]");
  }
}

TEST(MessagesTest, ListFiltersAreCheckedByName) {
  ListRequest list;
  std::string error;
  ListRequest sent;
  sent.type = "restore";
  sent.state = "running";
  sent.mover = "m1";
  sent.older_than_s = 60;
  sent.cursor = 1234;
  sent.limit = 1000;
  ASSERT_TRUE(Parse(ToJson(sent), &list, &error)) << error;
  EXPECT_EQ(list.type, "restore");
  EXPECT_EQ(list.state, "running");
  EXPECT_EQ(list.mover, "m1");
  EXPECT_EQ(list.older_than_s, 60);
  EXPECT_EQ(list.cursor, 1234u);
  EXPECT_EQ(list.limit, 1000);
  ASSERT_TRUE(Parse(boost::json::parse(R"({"command":"list"})").as_object(),
                    &list, &error));
  EXPECT_EQ(list.limit, 100);
  const std::pair<const char*, const char*> bad[] = {
      {R"({"type":"copy"})", "'type' must be one of restore, remove, archive"},
      {R"({"state":"asleep"})",
       "'state' must be one of waiting, locating, "
       "held, oversized, running, after_same_fid"},
      {R"({"mover":""})", "'mover' must be a non-empty string"},
      {R"({"limit":1001})", "'limit' is out of range"},
      {R"({"limit":0})", "'limit' is out of range"},
      {R"({"cursor":-1})", "'cursor' is out of range"},
      {R"({"older_than":"1h"})", "'older_than' must be an integer"},
  };
  for (const auto& [json, why] : bad) {
    EXPECT_FALSE(Parse(boost::json::parse(json).as_object(), &list, &error))
        << json;
    EXPECT_EQ(error, why) << json;
  }
}

}  // namespace
}  // namespace protocol
