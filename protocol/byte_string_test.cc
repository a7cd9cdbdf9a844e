#include "protocol/byte_string.h"

#include <gtest/gtest.h>

#include <random>

#include "protocol/action_item.h"

namespace protocol {
namespace {

namespace json = boost::json;

// Through the text a peer reads: serialize, then parse (which refuses
// invalid UTF-8, as every JSON reader must).
std::string RoundTrip(std::string_view bytes, json::object* seen = nullptr) {
  json::object o;
  PutBytes(o, "hai_data", bytes);
  json::value parsed = json::parse(json::serialize(o));
  if (seen) *seen = parsed.as_object();
  std::string out, error;
  EXPECT_TRUE(GetBytes(parsed.as_object(), "hai_data", &out, &error)) << error;
  return out;
}

TEST(ByteStringTest, EveryByteValueRoundTrips) {
  for (int b = 0; b < 256; ++b) {
    std::string one(1, static_cast<char>(b));
    EXPECT_EQ(RoundTrip(one), one) << b;
    std::string framed = "x=" + one + "\xff";
    EXPECT_EQ(RoundTrip(framed), framed) << b;
  }
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(RoundTrip(all), all);
}

// Every byte value, alone and among others, through the item codec and
// the JSON text a mover reads.
TEST(ByteStringTest, ItemDataRoundTripsEveryByteValue) {
  for (int b = 0; b < 256; ++b) {
    for (const std::string& data :
         {std::string(1, static_cast<char>(b)),
          "tag=" + std::string(1, static_cast<char>(b)) +
              std::string(2, '\0')}) {
      WireItem wire;
      wire.item.data = data;
      json::value parsed = json::parse(json::serialize(ItemToJson(wire)));
      WireItem back;
      std::string error;
      ASSERT_TRUE(ItemFromJson(parsed.as_object(), &back, &error)) << error;
      EXPECT_EQ(back.item.data, data) << b;
    }
  }
}

TEST(ByteStringTest, RandomBinaryRoundTrips) {
  std::mt19937 random(42);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(random() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    EXPECT_EQ(RoundTrip(bytes), bytes);
  }
}

TEST(ByteStringTest, ValidUtf8StaysPlain) {
  json::object seen;
  std::string text = std::string("tag=n1,\0é€😀", 17);
  EXPECT_EQ(RoundTrip(text, &seen), text);
  EXPECT_EQ(seen.at("hai_data").as_string(), text);
  EXPECT_FALSE(seen.contains("hai_data_base64"));

  EXPECT_EQ(RoundTrip("\xff\xfe", &seen), "\xff\xfe");
  EXPECT_FALSE(seen.contains("hai_data"));
  EXPECT_EQ(seen.at("hai_data_base64").as_string(), "//4=");
}

TEST(ByteStringTest, Utf8ValidationIsStrict) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8(std::string("\0", 1)));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  // Every string this validator accepts, the JSON parser accepts.
  std::mt19937 random(7);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(random() % 6, '\0');
    for (char& c : bytes) c = static_cast<char>(0x80 | random());
    boost::system::error_code ec;
    json::parse("\"" + bytes + "\"", ec);
    EXPECT_EQ(IsValidUtf8(bytes), !ec) << Printable(bytes);
  }
}

TEST(ByteStringTest, Base64IsStandardAndStrict) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  std::string out;
  EXPECT_TRUE(Base64Decode("Zm9vYg==", &out));
  EXPECT_EQ(out, "foob");
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zh==", "Zm9v\n",
                          "Zg==Zg==", "Zm-v", "Zm_v", "=Zm9"})
    EXPECT_FALSE(Base64Decode(bad, &out)) << bad;
}

TEST(ByteStringTest, ExactlyOneKey) {
  std::string out, error;
  json::object both{{"hai_data", "a"}, {"hai_data_base64", "YQ=="}};
  EXPECT_FALSE(GetBytes(both, "hai_data", &out, &error));
  EXPECT_EQ(error, "'hai_data' and 'hai_data_base64' are both present");
  EXPECT_FALSE(GetBytes(json::object{}, "hai_data", &out, &error));
  EXPECT_EQ(error, "'hai_data' is missing");
  EXPECT_FALSE(GetBytes(json::object{{"hai_data_base64", "!"}}, "hai_data",
                        &out, &error));
  EXPECT_EQ(error, "'hai_data_base64' must be a base64 string");
  EXPECT_FALSE(
      GetBytes(json::object{{"hai_data_base64", 3}}, "hai_data", &out, &error));
  EXPECT_EQ(error, "'hai_data_base64' must be a base64 string");
}

TEST(ByteStringTest, PrintableEscapesWhatCouldBreakALine) {
  EXPECT_EQ(Printable("tag=é"), "tag=é");
  EXPECT_EQ(Printable(std::string("a\nb\0\xff\\", 6)), "a\\nb\\x00\\xff\\\\");
}

// The item codec uses the rule above for hai_data.
TEST(ByteStringTest, ItemsCarryBinaryData) {
  WireItem wire;
  wire.item.hai.hai_action = HSMA_ARCHIVE;
  wire.item.hai.hai_cookie = 7;
  wire.item.data = "tag=\xff\xfe,\x80";
  json::object o = ItemToJson(wire);
  EXPECT_FALSE(o.contains("hai_data"));
  EXPECT_EQ(o.at("hai_data_base64").as_string(), Base64Encode(wire.item.data));
  json::value parsed = json::parse(json::serialize(o));
  WireItem decoded;
  std::string error;
  ASSERT_TRUE(ItemFromJson(parsed.as_object(), &decoded, &error)) << error;
  EXPECT_EQ(decoded.item.data, wire.item.data);
  EXPECT_EQ(decoded.item.hai.hai_len, 72u + wire.item.data.size());

  o["hai_data"] = "x";
  EXPECT_FALSE(ItemFromJson(o, &decoded, &error));
  EXPECT_EQ(error, "'hai_data' and 'hai_data_base64' are both present");
  o.erase("hai_data");
  o.erase("hai_data_base64");
  EXPECT_FALSE(ItemFromJson(o, &decoded, &error));
  EXPECT_EQ(error, "'hai_data' is missing");
}

TEST(ByteStringTest, IdentityOfAnUndecodableItem) {
  json::object o{{"hai_cookie", 9},
                 {"hai_action", 21},
                 {"hai_dfid", {{"f_seq", 1}, {"f_oid", 2}, {"f_ver", 0}}},
                 {"hai_data", "a"},
                 {"hai_data_base64", "YQ=="}};
  hsm_action_item hai;
  std::string error;
  ASSERT_TRUE(ItemIdentityFromJson(o, &hai, &error)) << error;
  EXPECT_EQ(hai.hai_cookie, 9u);
  EXPECT_EQ(hai.hai_action, uint32_t{HSMA_RESTORE});
  EXPECT_EQ(hai.hai_fid.f_oid, 2u);  // the dfid when hai_fid is absent
  EXPECT_EQ(hai.hai_extent.length, LUSTRE_EOF);
  o.erase("hai_cookie");
  EXPECT_FALSE(ItemIdentityFromJson(o, &hai, &error));
}

}  // namespace
}  // namespace protocol
