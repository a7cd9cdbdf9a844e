#include "protocol/action_item.h"

#include <gtest/gtest.h>

namespace protocol {
namespace {

namespace json = boost::json;

WireItem TaggedArchiveItem() {
  WireItem wire;
  hsm_action_item& hai = wire.item.hai;
  hai.hai_action = HSMA_ARCHIVE;
  hai.hai_fid = {0x200000401, 42, 0};
  hai.hai_dfid = hai.hai_fid;
  hai.hai_extent = {0, LUSTRE_EOF};
  hai.hai_cookie = 1705095876;
  wire.item.data = std::string("tag=n1\0x", 8);
  hai.hai_len = 72 + 8;
  wire.archive_id = 1;
  wire.timestamp_ns = 1767225600000000000;
  return wire;
}

TEST(ActionItemTest, WritesUnsignedAsTwosComplement) {
  json::object o = ItemToJson(TaggedArchiveItem());
  EXPECT_EQ(o.at("hai_extent_length").as_int64(), -1);
  EXPECT_EQ(o.at("hai_fid").as_object().at("f_seq").as_int64(), 8589935617);
  EXPECT_EQ(o.at("hai_gid").as_int64(), 0);  // items carry zeros too
  EXPECT_EQ(json::serialize(o.at("hai_data")), R"("tag=n1\u0000x")");
}

TEST(ActionItemTest, RoundTripsThroughJsonText) {
  WireItem original = TaggedArchiveItem();
  json::value parsed = json::parse(json::serialize(ItemToJson(original)));
  WireItem decoded;
  std::string error;
  ASSERT_TRUE(ItemFromJson(parsed.as_object(), &decoded, &error)) << error;
  EXPECT_EQ(decoded.item.hai.hai_action, uint32_t{HSMA_ARCHIVE});
  EXPECT_EQ(decoded.item.hai.hai_fid.f_oid, 42u);
  EXPECT_EQ(decoded.item.hai.hai_extent.length, LUSTRE_EOF);
  EXPECT_EQ(decoded.item.hai.hai_cookie, 1705095876u);
  EXPECT_EQ(decoded.item.data, original.item.data);
  EXPECT_EQ(decoded.item.hai.hai_len, 80u);
  EXPECT_EQ(decoded.archive_id, 1u);
  EXPECT_EQ(decoded.timestamp_ns, original.timestamp_ns);
}

TEST(ActionItemTest, AcceptsLargePositiveUnsigned) {
  json::object o = ItemToJson(TaggedArchiveItem());
  o["hai_extent_length"] = uint64_t{0xffffffffffffffff};
  WireItem decoded;
  std::string error;
  ASSERT_TRUE(ItemFromJson(o, &decoded, &error)) << error;
  EXPECT_EQ(decoded.item.hai.hai_extent.length, LUSTRE_EOF);
}

TEST(ActionItemTest, NamesTheMissingOrBadKey) {
  WireItem decoded;
  std::string error;
  json::object o = ItemToJson(TaggedArchiveItem());
  o.erase("hai_cookie");
  EXPECT_FALSE(ItemFromJson(o, &decoded, &error));
  EXPECT_EQ(error, "'hai_cookie' must be an integer");

  o = ItemToJson(TaggedArchiveItem());
  o["hai_data"] = 5;
  EXPECT_FALSE(ItemFromJson(o, &decoded, &error));
  EXPECT_EQ(error, "'hai_data' must be a string");

  o = ItemToJson(TaggedArchiveItem());
  o.erase("hai_dfid");
  EXPECT_FALSE(ItemFromJson(o, &decoded, &error));
  EXPECT_EQ(error, "'hai_dfid' is missing");
}

TEST(ActionItemTest, FidRejectsExtraKeysAndWrongTypes) {
  lu_fid fid;
  std::string error;
  EXPECT_FALSE(FidFromJson(
      json::parse(R"({"f_seq":1,"f_oid":2,"f_ver":0,"x":1})"), &fid, &error));
  EXPECT_EQ(error, "unexpected key 'x' in FID");
  EXPECT_FALSE(FidFromJson(json::parse(R"({"f_seq":"1","f_oid":2,"f_ver":0})"),
                           &fid, &error));
  EXPECT_EQ(error, "'f_seq' must be an integer");
  EXPECT_FALSE(
      FidFromJson(json::parse(R"({"f_seq":1,"f_oid":8589934592,"f_ver":0})"),
                  &fid, &error));
  EXPECT_EQ(error, "'f_oid' is out of 32-bit range");
  EXPECT_FALSE(FidFromJson(json::parse("[1,2,3]"), &fid, &error));
  EXPECT_EQ(error, "FID must be an object");
}

TEST(ActionItemTest, NegativeOidMeansTheHighBitSet) {
  lu_fid fid;
  std::string error;
  ASSERT_TRUE(FidFromJson(json::parse(R"({"f_seq":1,"f_oid":-2,"f_ver":0})"),
                          &fid, &error))
      << error;
  EXPECT_EQ(fid.f_oid, 0xfffffffeu);
}

}  // namespace
}  // namespace protocol
