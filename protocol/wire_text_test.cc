#include "protocol/wire_text.h"

#include <gtest/gtest.h>

#include <vector>

namespace protocol {
namespace {

namespace json = boost::json;

WireItem ItemWithData(std::string data, uint64_t cookie) {
  WireItem wire;
  hsm_action_item& hai = wire.item.hai;
  hai.hai_action = HSMA_RESTORE;
  hai.hai_fid = {0xfffffffff0000001ULL, 0xffffffffu, 7};
  hai.hai_dfid = {0x200000401, 42, 0};
  hai.hai_extent = {4096, LUSTRE_EOF};
  hai.hai_cookie = cookie;
  hai.hai_gid = 0x8000000000000000ULL;
  wire.item.data = std::move(data);
  hai.hai_len = static_cast<uint32_t>(72 + wire.item.data.size());
  wire.archive_id = 0x7fffffff;
  wire.hal_flags = 3;
  wire.timestamp_ns = -5;
  return wire;
}

// Data of every kind the DOM writer treats apart: plain, empty, quotes and
// backslashes, control bytes, NUL, multi-byte UTF-8, DEL, and bytes that
// are not UTF-8 (base64).
std::vector<WireItem> Items() {
  std::vector<WireItem> items;
  const std::vector<std::string> data = {
      "tape=T00042,user=u42",
      "",
      R"(say "hi" \ back)",
      "tab\there\nnew\x01\x1f",
      std::string("nul\0byte", 8),
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f",
      "\xff\xfe not utf-8",
      "/slash",
  };
  uint64_t cookie = 1;
  for (const std::string& d : data) items.push_back(ItemWithData(d, cookie++));
  items.push_back(ItemWithData("big", 0xffffffffffffffffULL));
  return items;
}

TEST(WireTextTest, ItemsAreWrittenAsTheirDomIs) {
  for (const WireItem& item : Items()) {
    std::string text;
    AppendItemText(&text, item);
    EXPECT_EQ(text, json::serialize(ItemToJson(item))) << item.item.data;
  }
}

TEST(WireTextTest, RecvRepliesAreWrittenAsTheirDomIs) {
  const std::vector<WireItem> items = Items();
  const std::vector<WireItem> cancels = {ItemWithData("cancel", 99)};
  for (uint64_t flags : {uint64_t{0}, uint64_t{1}}) {
    for (const std::string fsname : {"lustre", "odd\"fs"}) {
      ActionListHeader header;
      header.archive_id = 3;
      header.flags = flags;
      header.fsname = fsname;
      std::string text;
      AppendRecvReplyText(&text, header, cancels, items);
      EXPECT_EQ(text, json::serialize(RecvReplyToJson(header, cancels, items)));
      // And it reads back as the list it is.
      RecvReply reply;
      std::string error;
      ASSERT_TRUE(Parse(json::parse(text).as_object(), &reply, &error))
          << error;
      ASSERT_EQ(reply.list.size(), items.size() + 1);
      EXPECT_EQ(reply.list[6].item.item.data, items[5].item.data);
    }
  }
}

// The pieces, with the items' fields held apart from a WireItem (as the
// server holds its items), give the same reply; so does an empty list.
TEST(WireTextTest, ARecvReplyInPiecesIsTheWholeReply) {
  const std::vector<WireItem> items = Items();
  ActionListHeader header;
  header.archive_id = 5;
  header.flags = 2;
  header.fsname = "lustre";
  for (size_t count : {size_t{0}, size_t{1}, items.size()}) {
    const std::span<const WireItem> list(items.data(), count);
    std::string text = "x";
    AppendRecvReplyHead(&text, header);
    for (size_t i = 0; i < count; ++i) {
      if (i > 0) text.push_back(',');
      const std::string data = items[i].item.data;  // held elsewhere
      AppendItemText(&text,
                     ItemFields{items[i].item.hai, data, items[i].archive_id,
                                items[i].hal_flags, items[i].timestamp_ns});
    }
    AppendRecvReplyTail(&text, header);
    std::string whole = "x";
    AppendRecvReplyText(&whole, header, {}, list);
    EXPECT_EQ(text, whole) << count;
    EXPECT_LE(whole.size() - 1,
              RecvReplyFrameBytes(header) + count * ItemTextBytes(20));
  }
}

TEST(WireTextTest, EmptyListsAndAppending) {
  ActionListHeader header;
  header.fsname = "lustre";
  std::string text = "prefix";
  AppendRecvReplyText(&text, header, {}, {});
  EXPECT_EQ(text, "prefix" + json::serialize(RecvReplyToJson(header, {}, {})));
}

TEST(WireTextTest, OkReplyIsTheDomReply) {
  EXPECT_EQ(OkReplyText("done"), json::serialize(MakeReply("done", {})));
  EXPECT_EQ(OkReplyText("done"), R"({"command":"done"})");
}

}  // namespace
}  // namespace protocol
