#include "client/active_requests.h"

#include <gtest/gtest.h>

namespace client {
namespace {

constexpr const char* kRestoreLine =
    "fid=[0x200000401:0x2a:0x0] dfid=[0x200000401:0x2a:0x0] "
    "compound/cookie=0x3/0x65a1b2c4 action=RESTORE archive#=2 flags=0x0 "
    "extent=0x0-0xffffffffffffffff gid=0x0 data=[63723D6162] canceled=0 "
    "uuid=0b1c2d3e-0000-4000-8000-000000000001 done=0";

TEST(ActiveRequestsTest, ParsesTheReferenceExample) {
  protocol::WireItem item;
  std::string error, warning;
  ASSERT_TRUE(ParseActiveRequestLine(kRestoreLine, &item, &error, &warning))
      << error;
  EXPECT_TRUE(warning.empty());
  const hsm_action_item& hai = item.item.hai;
  EXPECT_EQ(hai.hai_action, uint32_t{HSMA_RESTORE});
  EXPECT_EQ(hai.hai_fid.f_seq, 0x200000401u);
  EXPECT_EQ(hai.hai_fid.f_oid, 0x2au);
  EXPECT_EQ(hai.hai_dfid.f_oid, 0x2au);
  EXPECT_EQ(hai.hai_cookie, 0x65a1b2c4u);
  EXPECT_EQ(hai.hai_extent.offset, 0u);
  EXPECT_EQ(hai.hai_extent.length, LUSTRE_EOF);
  EXPECT_EQ(item.archive_id, 2u);
  EXPECT_EQ(item.hal_flags, 0u);
  EXPECT_EQ(item.item.data, "cr=ab");
  EXPECT_EQ(hai.hai_len, 77u);
}

// Lustre prints the data as %02X of each byte (at most 5), so any byte
// value comes through: it is sent on as the protocol's byte string.
TEST(ActiveRequestsTest, BinaryDataComesThroughExactly) {
  std::string line = kRestoreLine;
  line.replace(line.find("63723D6162"), 10, "FFfe800041");
  protocol::WireItem item;
  std::string error, warning;
  ASSERT_TRUE(ParseActiveRequestLine(line, &item, &error, &warning)) << error;
  EXPECT_EQ(item.item.data, std::string("\xff\xfe\x80\0A", 5));
  boost::json::object o = protocol::ItemToJson(item);
  EXPECT_EQ(o.at("hai_data_base64").as_string(), "//6AAEE=");
  protocol::WireItem back;
  ASSERT_TRUE(protocol::ItemFromJson(
      boost::json::parse(boost::json::serialize(o)).as_object(), &back, &error))
      << error;
  EXPECT_EQ(back.item.data, item.item.data);
}

TEST(ActiveRequestsTest, SkipsLctlHeaderAndParsesEveryLine) {
  std::string text = std::string("mdt.lustre-MDT0000.hsm.active_requests=\n") +
                     kRestoreLine + "\n" + kRestoreLine + "\n";
  std::vector<protocol::WireItem> items;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ParseActiveRequests(text, &items, &warnings, &error)) << error;
  EXPECT_EQ(items.size(), 2u);
}

TEST(ActiveRequestsTest, DataOddDigitIsDropped) {
  std::string line = kRestoreLine;
  line.replace(line.find("[63723D6162]"), 12, "[6B6]");
  protocol::WireItem item;
  std::string error, warning;
  ASSERT_TRUE(ParseActiveRequestLine(line, &item, &error, &warning)) << error;
  EXPECT_EQ(item.item.data, "k");
}

TEST(ActiveRequestsTest, FailsWholeInputOnAnyBadLine) {
  std::vector<protocol::WireItem> items;
  std::vector<std::string> warnings;
  std::string error;
  std::string cancel = kRestoreLine;
  cancel.replace(cancel.find("RESTORE"), 7, "CANCEL");
  EXPECT_FALSE(
      ParseActiveRequests(std::string(kRestoreLine) + "\n" + cancel + "\n",
                          &items, &warnings, &error));
  EXPECT_EQ(error, "line 2: unsupported action 'CANCEL'");
  EXPECT_TRUE(items.empty());
  EXPECT_FALSE(ParseActiveRequests(kRestoreLine, &items, &warnings, &error));
  EXPECT_EQ(error, "line 1: no newline at the end of the input");
  EXPECT_FALSE(ParseActiveRequests("\n", &items, &warnings, &error));
  EXPECT_EQ(error, "line 1: empty line");
  EXPECT_FALSE(ParseActiveRequests(std::string(10000, 'x') + "\n", &items,
                                   &warnings, &error));
  EXPECT_EQ(error, "line 1: longer than 9700 bytes");
}

TEST(ActiveRequestsTest, MalformedFidIsOnlyAWarning) {
  std::string line = kRestoreLine;
  line.replace(line.find("fid=[0x200000401:0x2a:0x0] d"), 26, "fid=[zz]");
  std::vector<protocol::WireItem> items;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ParseActiveRequests(line + "\n", &items, &warnings, &error))
      << error;
  EXPECT_EQ(warnings,
            std::vector<std::string>{"line 1: malformed fid= or dfid="});
}

}  // namespace
}  // namespace client
