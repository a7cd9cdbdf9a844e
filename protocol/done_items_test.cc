#include "protocol/done_items.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace protocol {
namespace {

namespace json = boost::json;

json::object Obj(const char* text) { return json::parse(text).as_object(); }

// As it travels: written, then read back.
json::object Wire(const json::object& o) {
  return json::parse(json::serialize(o)).as_object();
}

TEST(DoneItemsTest, AnnouncedOnlyByABooleanTrue) {
  json::object reply = ToJson(EhloReply{{}, true, 0, ""});
  EXPECT_FALSE(AnnouncesDoneItems(reply)) << "the original never says it";
  AnnounceDoneItems(&reply);
  EXPECT_TRUE(AnnouncesDoneItems(Wire(reply)));
  EXPECT_FALSE(AnnouncesDoneItems(Obj(R"({"command":"ehlo","done_items":1})")));
  EXPECT_FALSE(
      AnnouncesDoneItems(Obj(R"({"command":"ehlo","done_items":false})")));
}

TEST(DoneItemsTest, QuietDoneSaidOnlyByABooleanTrue) {
  json::object ehlo = ToJson(EhloRequest{});
  EXPECT_FALSE(SaysQuietDone(ehlo)) << "an original mover never asks";
  SayQuietDone(&ehlo);
  EXPECT_TRUE(SaysQuietDone(Wire(ehlo)));
  EXPECT_FALSE(SaysQuietDone(Obj(R"({"command":"ehlo","quiet_done":1})")));
  EXPECT_FALSE(SaysQuietDone(Obj(R"({"command":"ehlo","quiet_done":"true"})")));
}

TEST(DoneItemsTest, RoundTripsInTheFormOfADone) {
  DoneItemsRequest request;
  request.items.push_back({"", DoneRequest{{1, {2, 3, 4}}, 0, 0, 0, 0}});
  request.items.push_back({"", DoneRequest{{5, {6, 7, 8}}, 5, -2, 0, 2}});
  request.items.push_back({"refused", DoneRequest{}});  // not written
  json::object m = Wire(ToJson(request));
  EXPECT_EQ(json::serialize(m),
            R"({"command":"done","items":[{"hai_cookie":1,"hai_dfid":)"
            R"({"f_seq":2,"f_oid":3,"f_ver":4},"status":0},{"hai_cookie":5,)"
            R"("hai_dfid":{"f_seq":6,"f_oid":7,"f_ver":8},"status":5,)"
            R"("end_rc":-2,"hp_flags":2}]})");
  EXPECT_TRUE(IsDoneItems(m));
  EXPECT_FALSE(IsDoneItems(ToJson(request.items[0].done)));
  DoneItemsRequest back;
  std::string error;
  ASSERT_TRUE(Parse(m, &back, &error)) << error;
  ASSERT_EQ(back.items.size(), 2u);
  EXPECT_TRUE(back.items[1].error.empty());
  EXPECT_TRUE(back.items[1].done.id == (ItemId{5, {6, 7, 8}}));
  EXPECT_EQ(back.items[1].done.status, 5);
  EXPECT_EQ(back.items[1].done.end_rc, -2);
  EXPECT_EQ(back.items[1].done.hp_flags, 2);
}

TEST(DoneItemsTest, ABadEntryCostsOnlyItselfWithTheReadersWords) {
  DoneItemsRequest back;
  std::string error;
  ASSERT_TRUE(Parse(Obj(R"({"command":"done","items":[{"hai_cookie":1},7,)"
                        R"({"hai_cookie":1,"hai_dfid":{"f_seq":1,"f_oid":2,)"
                        R"("f_ver":3},"status":"x"},{"hai_cookie":9,)"
                        R"("hai_dfid":{"f_seq":1,"f_oid":2,"f_ver":3}}]})"),
                    &back, &error));
  ASSERT_EQ(back.items.size(), 4u);
  EXPECT_EQ(back.items[0].error, "cookie or fid not set -- old client?");
  EXPECT_EQ(back.items[1].error, "not an object");
  EXPECT_EQ(back.items[2].error, "'status' must be an integer");
  EXPECT_EQ(back.items[3].error, "");
  EXPECT_EQ(back.items[3].done.id.cookie, 9u);
  // Not a list at all: the whole message is refused.
  EXPECT_FALSE(Parse(Obj(R"({"command":"done","items":{}})"), &back, &error));
  EXPECT_EQ(error, "'items' must be an array");
  EXPECT_TRUE(Parse(Obj(R"({"command":"done","items":[]})"), &back, &error));
  EXPECT_TRUE(back.items.empty());
}

TEST(DoneItemsTest, TheReplyCountsAndNamesEachRefusal) {
  DoneItemsReply reply;
  reply.done = 3;
  EXPECT_EQ(json::serialize(Wire(ToJson(reply))),
            R"({"done":3,"command":"done"})");
  reply.header = {EPERM, "1 of 4 entries refused"};
  reply.failed.push_back({2, EPERM, "items[2]: item is not running"});
  DoneItemsReply read;
  Parse(Wire(ToJson(reply)), &read);
  EXPECT_EQ(read.done, 3);
  EXPECT_EQ(read.header.status, EPERM);
  EXPECT_EQ(read.header.error, "1 of 4 entries refused");
  ASSERT_EQ(read.failed.size(), 1u);
  EXPECT_EQ(read.failed[0].index, 2);
  EXPECT_EQ(read.failed[0].status, EPERM);
  EXPECT_EQ(read.failed[0].error, "items[2]: item is not running");
  // A single done's reply reads as one with no count.
  Parse(Obj(R"({"command":"done"})"), &read);
  EXPECT_EQ(read.done, 0);
  EXPECT_TRUE(read.failed.empty());
}

}  // namespace
}  // namespace protocol
