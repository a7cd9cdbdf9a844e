#include "protocol/fields.h"

#include <gtest/gtest.h>

namespace protocol {
namespace {

namespace json = boost::json;

json::object Parse(const char* text) { return json::parse(text).as_object(); }

TEST(FieldsTest, WrongTypesAreErrorsNamingTheField) {
  int64_t v;
  std::string error;
  EXPECT_TRUE(OptionalInt(Parse("{}"), "status", 3, &v, &error));
  EXPECT_EQ(v, 3);
  EXPECT_TRUE(OptionalInt(Parse(R"({"status":-5})"), "status", 0, &v, &error));
  EXPECT_EQ(v, -5);
  for (const char* bad :
       {R"({"status":"x"})", R"({"status":1.5})", R"({"status":null})",
        R"({"status":[0]})", R"({"status":true})"}) {
    EXPECT_FALSE(OptionalInt(Parse(bad), "status", 0, &v, &error)) << bad;
    EXPECT_EQ(error, "'status' must be an integer");
  }
  EXPECT_FALSE(OptionalIntIn(Parse(R"({"status":4294967296})"), "status", 0,
                             INT32_MIN, INT32_MAX, &v, &error));
  EXPECT_EQ(error, "'status' is out of range");
  EXPECT_FALSE(OptionalIntIn(Parse(R"({"status":18446744073709551615})"),
                             "status", 0, INT64_MIN, INT64_MAX, &v, &error));
  EXPECT_EQ(error, "'status' is out of range");
  bool b;
  EXPECT_FALSE(
      OptionalBool(Parse(R"({"progress":1})"), "progress", false, &b, &error));
  EXPECT_EQ(error, "'progress' must be a boolean");
}

TEST(FieldsTest, ItemIdMissingOrMalformed) {
  ItemId id;
  std::string error;
  EXPECT_EQ(ReadItemId(Parse(R"({"hai_cookie":1})"), &id, &error),
            IdField::kMissing);
  EXPECT_EQ(
      ReadItemId(Parse(R"({"hai_cookie":"1","hai_dfid":{}})"), &id, &error),
      IdField::kMalformed);
  EXPECT_EQ(error, "'hai_cookie' must be an integer");
  EXPECT_EQ(ReadItemId(Parse(R"({"hai_cookie":1,"hai_dfid":{"f_seq":1}})"), &id,
                       &error),
            IdField::kMalformed);
  EXPECT_EQ(error, "'hai_dfid': 'f_oid' must be an integer");
  EXPECT_EQ(ReadItemId(Parse(R"({"hai_cookie":-1,"hai_dfid":
                                 {"f_seq":2,"f_oid":3,"f_ver":0}})"),
                       &id, &error),
            IdField::kOk);
  EXPECT_EQ(id.cookie, UINT64_MAX);
  EXPECT_EQ(id.dfid.f_oid, 3u);
}

}  // namespace
}  // namespace protocol
