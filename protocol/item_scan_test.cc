#include "protocol/item_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/wire_text.h"

namespace protocol {
// Named: the sanitizer builds compile tests in batches (unity), where
// hot_command_test's helpers of the same names would meet these.
namespace item_scan_test {
namespace {

namespace json = boost::json;

constexpr std::string_view kExtraKey = "placed_on";

// What the DOM path makes of `text`: parsed, read by ItemFromJson, and the
// extra member when it is a non-empty string.
struct Reference {
  bool reads = false;
  std::string extra;
  WireItem item;  // last: it ends with a flexible array member
};

Reference ReadWithDom(const std::string& text) {
  Reference ref;
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return ref;
  std::string error;
  if (!ItemFromJson(value.as_object(), &ref.item, &error)) return ref;
  ref.reads = true;
  if (const json::value* extra = value.as_object().if_contains(kExtraKey);
      extra && extra->is_string())
    ref.extra = extra->get_string();
  return ref;
}

void ExpectSame(const WireItem& a, const WireItem& b, const std::string& text) {
  const hsm_action_item &x = a.item.hai, &y = b.item.hai;
  EXPECT_EQ(x.hai_len, y.hai_len) << text;
  EXPECT_EQ(x.hai_action, y.hai_action) << text;
  EXPECT_TRUE(hsm::operator==(x.hai_fid, y.hai_fid)) << text;
  EXPECT_TRUE(hsm::operator==(x.hai_dfid, y.hai_dfid)) << text;
  EXPECT_EQ(x.hai_extent.offset, y.hai_extent.offset) << text;
  EXPECT_EQ(x.hai_extent.length, y.hai_extent.length) << text;
  EXPECT_EQ(x.hai_cookie, y.hai_cookie) << text;
  EXPECT_EQ(x.hai_gid, y.hai_gid) << text;
  EXPECT_EQ(a.item.data, b.item.data) << text;
  EXPECT_EQ(a.archive_id, b.archive_id) << text;
  EXPECT_EQ(a.hal_flags, b.hal_flags) << text;
  EXPECT_EQ(a.timestamp_ns, b.timestamp_ns) << text;
}

// Taken when the DOM reads it, and read the same; the extra member too
// (the DOM path uses it only when it is a non-empty string).
void ExpectScanAgrees(const std::string& text) {
  WireItem item;
  std::string_view extra;
  if (!ScanItemText(text, kExtraKey, &item, &extra)) return;
  Reference ref = ReadWithDom(text);
  ASSERT_TRUE(ref.reads) << text;
  ExpectSame(item, ref.item, text);
  EXPECT_EQ(extra, ref.extra) << text;
}

WireItem Sample(std::string data) {
  WireItem wire;
  hsm_action_item& hai = wire.item.hai;
  hai.hai_action = HSMA_ARCHIVE;
  hai.hai_fid = {0x200000401, 42, 0};
  hai.hai_dfid = {0x200000402, 0xffffffff, 7};
  hai.hai_extent.offset = 0;
  hai.hai_extent.length = ~uint64_t{0};  // written -1
  hai.hai_cookie = 0x8000000000000123;   // written negative
  hai.hai_gid = 9;
  wire.item.data = std::move(data);
  hai.hai_len =
      static_cast<uint32_t>(hsm::kHaiFixedSize + wire.item.data.size());
  wire.archive_id = 3;
  wire.hal_flags = 1;
  wire.timestamp_ns = 1765100000123456789;
  return wire;
}

std::string Text(const WireItem& wire, std::string_view extra = "") {
  std::string text;
  AppendItemText(&text, wire);
  if (!extra.empty()) {
    text.pop_back();
    text += R"(,"placed_on":)";
    AppendJsonString(&text, extra);
    text += '}';
  }
  return text;
}

TEST(ItemScanTest, TakesWhatTheWriterWritesAndReadsItAsTheDomDoes) {
  std::vector<std::string> texts = {
      Text(Sample("tag=archive fileset=a/b/c")),
      Text(Sample("")),
      Text(Sample("d\xc3\xa9j\xc3\xa0 vu")),         // UTF-8: plain
      Text(Sample(std::string("\xff\x00\x01", 3))),  // not UTF-8: base64
      Text(Sample("host=a"), "mover-1"),
  };
  WireItem zeros;
  zeros.item.hai.hai_len = static_cast<uint32_t>(hsm::kHaiFixedSize);
  texts.push_back(Text(zeros));
  WireItem negative = Sample("x");
  negative.timestamp_ns = -5;
  negative.item.hai.hai_action = 0xffffffff;
  texts.push_back(Text(negative));
  for (const std::string& text : texts) {
    WireItem item;
    std::string_view extra;
    ASSERT_TRUE(ScanItemText(text, kExtraKey, &item, &extra)) << text;
    Reference ref = ReadWithDom(text);
    ASSERT_TRUE(ref.reads) << text;
    ExpectSame(item, ref.item, text);
    EXPECT_EQ(extra, ref.extra) << text;
  }
  // The scanner reads back what the writer was given.
  WireItem item;
  std::string_view extra;
  const WireItem sample = Sample(std::string("\xff\x00\x01", 3));
  const std::string text = Text(sample, "m");  // `extra` points into it
  ASSERT_TRUE(ScanItemText(text, kExtraKey, &item, &extra));
  ExpectSame(item, sample, "round trip");
  EXPECT_EQ(extra, "m");
}

TEST(ItemScanTest, LeavesEveryOtherFormToTheDom) {
  const std::string base = Text(Sample("abc"));
  std::vector<std::string> others = {
      " " + base,                            // a blank before
      base + "\n",                           // after
      base + "{}",                           // trailing bytes
      Text(Sample("a\"b")),                  // an escape
      Text(Sample(std::string("a\0b", 3))),  // \u0000
      Text(Sample("x"), "m\"1"),             // in the extra
      R"({"hai_fid":{"f_seq":1,"f_oid":2,"f_ver":0},"hai_action":1})",  // order
  };
  std::string spaced = base;
  spaced.insert(spaced.find(':') + 1, " ");
  others.push_back(spaced);
  std::string other_extra = Text(Sample("x"), "m");
  other_extra.replace(other_extra.find("placed_on"), 9, "placed_by");
  others.push_back(other_extra);
  std::string fraction = base;
  fraction.insert(fraction.find(",\"hai_fid\""), ".0");
  others.push_back(fraction);
  for (const std::string& text : others) {
    WireItem item;
    std::string_view extra;
    EXPECT_FALSE(ScanItemText(text, kExtraKey, &item, &extra)) << text;
  }
  // Without an extra key, no extra member is taken.
  WireItem item;
  std::string_view extra;
  EXPECT_FALSE(ScanItemText(Text(Sample("x"), "m"), "", &item, &extra));
  // Those the DOM reads, it reads whatever the scanner said.
  EXPECT_TRUE(ReadWithDom(others[0]).reads);
  EXPECT_TRUE(ReadWithDom(others[3]).reads);
}

TEST(ItemScanTest, NeverTakesACutText) {
  const std::string text = Text(Sample("tag=1"), "mover-1");
  for (size_t n = 0; n < text.size(); ++n) {
    WireItem item;
    std::string_view extra;
    EXPECT_FALSE(ScanItemText(text.substr(0, n), kExtraKey, &item, &extra))
        << n;
  }
}

TEST(ItemScanTest, NeverTakesWhatTheDomRefusesOrReadsOtherwise) {
  // Every single-byte change of a stored record, and of one with base64
  // data: whatever the scanner takes, the DOM reads, and the same.
  const std::string bytes = "{}[]\":,-+0123456789.eE \\tfnu\x01\x7f\x80\xc3x";
  for (const std::string& base : {Text(Sample("tag=ab"), "mover-1"),
                                  Text(Sample(std::string("\xfe\xfd", 2)))}) {
    for (size_t at = 0; at < base.size(); ++at) {
      for (char c : bytes) {
        std::string text = base;
        text[at] = c;
        ExpectScanAgrees(text);
      }
      std::string removed = base;
      removed.erase(at, 1);
      ExpectScanAgrees(removed);
    }
  }
}

TEST(ItemScanTest, ReadsIntegersAsTheDomDoesAtTheirLimits) {
  const std::string base = Text(Sample("x"));
  const std::string key = R"("hai_cookie":)";
  const size_t at = base.find(key) + key.size();
  const size_t end = base.find(',', at);
  for (std::string number :
       {"0", "-1", "9223372036854775807", "9223372036854775808",
        "18446744073709551615", "18446744073709551616", "-9223372036854775808",
        "-9223372036854775809", "00", "01", "-0", "-", "1e3", "1.5",
        "99999999999999999999999"}) {
    std::string text = base;
    text.replace(at, end - at, number);
    ExpectScanAgrees(text);
  }
  // The 32-bit fields: negative forms of values of 2^31 and above.
  const std::string oid = R"("f_oid":)";
  const size_t oid_at = base.find(oid) + oid.size();
  const size_t oid_end = base.find(',', oid_at);
  for (std::string number : {"4294967295", "4294967296", "-2147483648",
                             "-2147483649", "18446744073709551615"}) {
    std::string text = base;
    text.replace(oid_at, oid_end - oid_at, number);
    ExpectScanAgrees(text);
  }
  std::string max_oid = base;
  max_oid.replace(oid_at, oid_end - oid_at, "-1");
  WireItem item;
  std::string_view extra;
  ASSERT_TRUE(ScanItemText(max_oid, kExtraKey, &item, &extra));
  EXPECT_EQ(item.item.hai.hai_fid.f_oid, 0xffffffffu);
}

}  // namespace
}  // namespace item_scan_test
}  // namespace protocol
