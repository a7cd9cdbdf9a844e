#include "protocol/hot_command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/done_items.h"

namespace protocol {
namespace {

namespace json = boost::json;

// What the reader's path makes of `text`: parsed, and the request, or not.
struct Reference {
  bool parses = false;  // valid JSON object, a hot command, Parse() ok
  HotCommand hot;
};

Reference ReadWithDom(const std::string& text) {
  Reference ref;
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return ref;
  const json::object& m = value.as_object();
  Command command;
  std::string name, error;
  if (ReadCommand(m, &command, &name, &error) != CommandRead::kOk) return ref;
  ref.hot.command = command;
  if (command == Command::kDone)
    ref.parses = Parse(m, &ref.hot.done, &error);
  else if (command == Command::kProgress)
    ref.parses = Parse(m, &ref.hot.progress, &error);
  return ref;
}

void ExpectSame(const HotCommand& a, const HotCommand& b,
                const std::string& text) {
  ASSERT_EQ(a.command, b.command) << text;
  if (a.command == Command::kDone) {
    EXPECT_TRUE(a.done.id == b.done.id) << text;
    EXPECT_EQ(a.done.status, b.done.status) << text;
    EXPECT_EQ(a.done.end_rc, b.done.end_rc) << text;
    EXPECT_EQ(a.done.begin_rc, b.done.begin_rc) << text;
    EXPECT_EQ(a.done.hp_flags, b.done.hp_flags) << text;
  } else {
    EXPECT_TRUE(a.progress.id == b.progress.id) << text;
  }
}

const char* const kDfid = R"({"f_seq":8589935617,"f_oid":42,"f_ver":0})";

std::string Done(const std::string& rest) {
  return std::string(R"({"command":"done","hai_cookie":7,"hai_dfid":)") +
         kDfid + rest + "}";
}

// Taken: what our movers and the original's send.
const std::vector<std::string> kTaken = {
    Done(R"(,"status":0)"),
    Done(""),
    Done(R"(,"status":-5,"end_rc":-2,"begin_rc":-95,"hp_flags":1)"),
    Done(R"(,"status":2147483647)"),
    Done(R"(,"status":-2147483648)"),
    Done(R"(,"hp_flags":65535)"),
    Done(R"(,"hai_fid":"x","archive_id":3,"flag":true,"n":null)"),
    R"(  {"hai_dfid":{"f_ver":-1,"f_oid":4294967295,"f_seq":-1},)"
    R"( "status" : 1 , "command":"done", "hai_cookie":18446744073709551615 })",
    R"({"command":"done","hai_cookie":-9223372036854775808,"hai_dfid":)"
    R"({"f_seq":18446744073709551615,"f_oid":-2147483648,"f_ver":0}})",
    R"({"command":"progress","hai_cookie":9,"hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3}})",
    "\n\t{\"command\":\"progress\",\"hai_dfid\":{\"f_seq\":1,\"f_oid\":2,"
    "\"f_ver\":3},\r\"hai_cookie\":0}",
    // Serialised by our own writers.
    json::serialize(ToJson(DoneRequest{{5, {1, 2, 3}}, 4, -2, 0, 1})),
    json::serialize(ToJson(ProgressRequest{{5, {1, 2, 3}}})),
};

// Left to the reader (which refuses some and takes others).
const std::vector<std::string> kLeft = {
    Done(R"(,"status":2147483648)"),
    Done(R"(,"status":1.0)"),
    Done(R"(,"status":1e2)"),
    Done(R"(,"status":"1")"),
    Done(R"(,"status":01)"),
    Done(R"(,"status":0,"status":1)"),
    Done(R"(,"hp_flags":65536)"),
    Done(R"(,"hp_flags":-1)"),
    Done(R"(,"begin_rc":"x")"),
    Done(R"(,"other":{"a":1})"),
    Done(R"(,"other":[1])"),
    Done(R"(,"other":"caf\u00e9")"),
    Done(",\"other\":\"caf\xc3\xa9\""),
    Done(",\"other\":\"bad \xff\""),
    R"({"command":"done","hai_cookie":7})",
    R"({"command":"done","hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3}})",
    R"({"command":"done","hai_cookie":7,"hai_dfid":{"f_seq":1,"f_oid":2}})",
    R"({"command":"done","hai_cookie":7,"hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3,"x":1}})",
    R"({"command":"done","hai_cookie":7,"hai_dfid":{"f_seq":1,"f_oid":4294967296,"f_ver":3}})",
    R"({"command":"done","hai_cookie":18446744073709551616,"hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3}})",
    R"({"command":"d\u006fne","hai_cookie":7,"hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3}})",
    R"({"command":"recv","hai_cookie":7,"hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3}})",
    R"({"command":"progress","hai_cookie":7,"status":1,"hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3}})",
    R"({"command":"done","hai_cookie":7,"hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3},})",
    R"({"command":"recv"})",
    R"([1])",
    "",
    "   ",
};

TEST(HotCommandTest, TakesWhatTheReaderTakesAndReadsItTheSame) {
  for (const std::string& text : kTaken) {
    HotCommand hot;
    size_t consumed = 0;
    ASSERT_TRUE(ScanHotCommand(text, &hot, &consumed)) << text;
    EXPECT_EQ(consumed, text.size()) << text;
    Reference ref = ReadWithDom(text);
    ASSERT_TRUE(ref.parses) << text;
    ExpectSame(hot, ref.hot, text);
  }
}

TEST(HotCommandTest, LeavesEverythingElseToTheReader) {
  for (const std::string& text : kLeft) {
    HotCommand hot;
    size_t consumed = 0;
    EXPECT_FALSE(ScanHotCommand(text, &hot, &consumed)) << text;
  }
}

TEST(HotCommandTest, ReadsOneMessageOfManyAndNeverACutOne) {
  const std::string one = Done(R"(,"status":3)");
  const std::string stream = one + " " + one + "\n" + R"({"command":"recv"})";
  HotCommand hot;
  size_t consumed = 0;
  ASSERT_TRUE(ScanHotCommand(stream, &hot, &consumed));
  EXPECT_EQ(consumed, one.size());
  size_t second = 0;
  ASSERT_TRUE(
      ScanHotCommand(std::string_view(stream).substr(consumed), &hot, &second));
  EXPECT_EQ(second, one.size() + 1);
  EXPECT_FALSE(ScanHotCommand(
      std::string_view(stream).substr(consumed + second), &hot, &consumed));
  // Every prefix of a message is left alone (the rest is still to come).
  for (size_t n = 0; n < one.size(); ++n)
    EXPECT_FALSE(ScanHotCommand(one.substr(0, n), &hot, &consumed)) << n;
}

TEST(HotCommandTest, NeverTakesWhatTheReaderRefuses) {
  // Every single-byte change of a valid message: whatever the scanner takes,
  // the reader takes too, and reads the same.
  const std::string base =
      Done(R"(,"status":-12,"end_rc":3,"hp_flags":1,"hai_fid":0)");
  const std::string bytes = "{}[]\":,-0123456789.eE \\tfnu\x01\x80x";
  for (size_t at = 0; at < base.size(); ++at) {
    for (char c : bytes) {
      std::string text = base;
      text[at] = c;
      HotCommand hot;
      size_t consumed = 0;
      if (!ScanHotCommand(text, &hot, &consumed)) continue;
      Reference ref = ReadWithDom(text.substr(0, consumed));
      ASSERT_TRUE(ref.parses) << text;
      ExpectSame(hot, ref.hot, text);
    }
  }
}

std::string Batch(const std::string& entries) {
  return R"({"command":"done","items":[)" + entries + "]}";
}

std::string Entry(int cookie, const std::string& rest = "") {
  return R"({"hai_cookie":)" + std::to_string(cookie) + R"(,"hai_dfid":)" +
         kDfid + rest + "}";
}

// The batch form, as the reader reads it (every entry read, none refused).
bool ReadBatchWithDom(const std::string& text, std::vector<DoneRequest>* out) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object() || !IsDoneItems(value.as_object())) return false;
  DoneItemsRequest request;
  std::string error;
  if (!Parse(value.as_object(), &request, &error)) return false;
  out->clear();
  for (const DoneItemsEntry& entry : request.items) {
    if (!entry.error.empty()) return false;
    out->push_back(entry.done);
  }
  return true;
}

void ExpectSameDones(const std::vector<DoneRequest>& a,
                     const std::vector<DoneRequest>& b,
                     const std::string& text) {
  ASSERT_EQ(a.size(), b.size()) << text;
  for (size_t i = 0; i < a.size(); ++i) {
    HotCommand x, y;
    x.done = a[i];
    y.done = b[i];
    ExpectSame(x, y, text);
  }
}

TEST(HotCommandTest, TakesABatchOfPlainDonesAndReadsItAsTheReaderDoes) {
  const std::vector<std::string> taken = {
      Batch(Entry(1)),
      Batch(Entry(1, R"(,"status":5,"end_rc":-2,"hp_flags":2)") + " , " +
            Entry(2, R"(,"begin_rc":-95,"hai_fid":"x")")),
      R"( { "items" : [ )" + Entry(3) + R"( ] , "command" : "done" } )",
      json::serialize(ToJson(
          DoneItemsRequest{{{"", DoneRequest{{5, {1, 2, 3}}, 4, -2, 0, 1}},
                            {"", DoneRequest{{6, {1, 2, 3}}, 0, 0, 0, 0}}}})),
  };
  for (const std::string& text : taken) {
    HotCommand hot;
    size_t consumed = 0;
    ASSERT_EQ(ScanHot(text, &hot, &consumed), HotScan::kTaken) << text;
    EXPECT_TRUE(hot.batch) << text;
    EXPECT_EQ(hot.command, Command::kDone);
    std::vector<DoneRequest> reference;
    ASSERT_TRUE(ReadBatchWithDom(text, &reference)) << text;
    ExpectSameDones(hot.dones, reference, text);
  }
  // A single done after a batch is read as one again (the struct reused).
  HotCommand hot;
  size_t consumed = 0;
  ASSERT_TRUE(
      ScanHotCommand(Batch(Entry(1) + "," + Entry(2)), &hot, &consumed));
  ASSERT_TRUE(ScanHotCommand(Done(""), &hot, &consumed));
  EXPECT_FALSE(hot.batch);
  EXPECT_TRUE(hot.dones.empty());
}

TEST(HotCommandTest, LeavesABatchWithAnythingUnusualToTheReader) {
  const std::vector<std::string> left = {
      Batch(""),                                      // empty
      Batch(Entry(1) + "," + R"({"hai_cookie":2})"),  // no FID
      Batch(Entry(1) + ",7"),                         // not an object
      Batch(Entry(1, R"(,"status":"x")")),            // refused by the reader
      Batch(Entry(1, R"(,"command":"done")")),        // a command in an entry
      Batch(Entry(1, R"(,"items":[])")),              // nested batch
      Batch(Entry(1) + ","),                          // trailing comma
      R"({"command":"progress","items":[)" + Entry(1) + "]}",
      R"({"command":"done","hai_cookie":1,"items":[)" + Entry(1) + "]}",
      R"({"command":"done","items":[)" + Entry(1) + R"(],"items":[]})",
      R"({"command":"done","items":{}})",
  };
  for (const std::string& text : left) {
    HotCommand hot;
    size_t consumed = 0;
    EXPECT_EQ(ScanHot(text, &hot, &consumed), HotScan::kNotHot) << text;
  }
}

TEST(HotCommandTest, ACutMessageIsToldFromOneThatIsNotHot) {
  // Every prefix of a hot message may be completed by the next read:
  // kCut, never kNotHot (that would send it to the reader's DOM) nor taken.
  for (const std::string& whole :
       {Done(R"(,"status":3,"flag":true)"),
        Batch(Entry(1, R"(,"n":null)") + "," + Entry(22, R"(,"s":false)"))}) {
    for (size_t n = 0; n < whole.size(); ++n) {
      HotCommand hot;
      size_t consumed = 0;
      EXPECT_EQ(ScanHot(whole.substr(0, n), &hot, &consumed), HotScan::kCut)
          << whole.substr(0, n);
    }
  }
  HotCommand hot;
  size_t consumed = 0;
  EXPECT_EQ(ScanHot(R"({"command":"recv")", &hot, &consumed),
            HotScan::kCut);  // told only once whole: the caller waits
  EXPECT_EQ(ScanHot(R"({"command":"recv"})", &hot, &consumed),
            HotScan::kNotHot);
  EXPECT_EQ(ScanHot(R"({"command":"done","x":{)", &hot, &consumed),
            HotScan::kNotHot);
  // Past the bound: never taken, never waited for.
  std::string big = R"({"command":"done","items":[)";
  while (big.size() <= kMaxHotBatchBytes) big += Entry(1) + ",";
  EXPECT_EQ(ScanHot(big, &hot, &consumed), HotScan::kNotHot);
  // A smaller bound given by the caller (its own message limit).
  const std::string batch = Batch(Entry(1) + "," + Entry(2));
  EXPECT_EQ(ScanHot(batch, &hot, &consumed, batch.size() - 1),
            HotScan::kNotHot);
  EXPECT_EQ(ScanHot(batch, &hot, &consumed, batch.size()), HotScan::kTaken);
}

TEST(HotCommandTest, NeverTakesABatchTheReaderRefuses) {
  const std::string base =
      Batch(Entry(12, R"(,"status":-12,"end_rc":3)") + "," + Entry(3));
  const std::string bytes = "{}[]\":,-0123456789.eE \\tfnu\x01\x80x";
  for (size_t at = 0; at < base.size(); ++at) {
    for (char c : bytes) {
      std::string text = base;
      text[at] = c;
      HotCommand hot;
      size_t consumed = 0;
      if (ScanHot(text, &hot, &consumed) != HotScan::kTaken) continue;
      if (!hot.batch) continue;
      std::vector<DoneRequest> reference;
      ASSERT_TRUE(ReadBatchWithDom(text.substr(0, consumed), &reference))
          << text;
      ExpectSameDones(hot.dones, reference, text);
    }
  }
}

}  // namespace
}  // namespace protocol
