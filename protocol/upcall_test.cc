#include "protocol/upcall.h"

#include <gtest/gtest.h>

#include "hsm/fid.h"

namespace protocol {
namespace {

namespace json = boost::json;

TEST(UpcallTest, ReadsTheArgumentsTheMdtPasses) {
  std::vector<std::string> args = {"ARCHIVE",
                                   "lustre",
                                   "2",
                                   "0x1",
                                   "tag=a",
                                   "[0x200000401:0x7:0x0]",
                                   "[0x200000401:0x8:0x0]"};
  UpcallRequest r;
  std::string error;
  ASSERT_TRUE(ParseUpcallArgs(args, &r, &error)) << error;
  EXPECT_EQ(r.action, uint32_t{HSMA_ARCHIVE});
  EXPECT_EQ(r.fsname, "lustre");
  EXPECT_EQ(r.archive_id, 2u);
  EXPECT_EQ(r.flags, 1u);
  EXPECT_EQ(r.data, "tag=a");
  ASSERT_EQ(r.fids.size(), 2u);
  EXPECT_EQ(hsm::FormatFid(r.fids[1]), "[0x200000401:0x8:0x0]");
  args[0] = "remove";
  args[3] = "0";
  ASSERT_TRUE(ParseUpcallArgs(args, &r, &error)) << error;
  EXPECT_EQ(r.action, uint32_t{HSMA_REMOVE});
}

TEST(UpcallTest, RefusesBadArgumentsNamingThem) {
  UpcallRequest r;
  std::string error;
  auto refused = [&](std::vector<std::string> args) {
    return !ParseUpcallArgs(args, &r, &error);
  };
  EXPECT_TRUE(refused({"ARCHIVE", "lustre", "1", "0", ""}));
  EXPECT_NE(error.find("got 5 arguments"), std::string::npos) << error;
  EXPECT_TRUE(refused({"RESTORE", "lustre", "1", "0", "", "[0x1:0x1:0x0]"}));
  EXPECT_NE(error.find("'RESTORE'"), std::string::npos) << error;
  EXPECT_TRUE(refused({"ARCHIVE", "lustre", "0", "0", "", "[0x1:0x1:0x0]"}));
  EXPECT_NE(error.find("archive id 0"), std::string::npos) << error;
  EXPECT_TRUE(
      refused({"ARCHIVE", "lustre", "2147483648", "0", "", "[0x1:0x1:0x0]"}));
  EXPECT_TRUE(refused({"ARCHIVE", "lustre", "1", "x", "", "[0x1:0x1:0x0]"}));
  EXPECT_NE(error.find("flags 'x'"), std::string::npos) << error;
  EXPECT_TRUE(
      refused({"ARCHIVE", "lustre", "1", "0", "", "[0x1:0x1:0x0]", "nofid"}));
  EXPECT_NE(error.find("'nofid' is not a FID"), std::string::npos) << error;
  EXPECT_TRUE(refused({"ARCHIVE", "", "1", "0", "", "[0x1:0x1:0x0]"}));
}

TEST(UpcallTest, CommandRoundTripsAndChecksEveryField) {
  UpcallRequest r;
  r.action = HSMA_REMOVE;
  r.fsname = "lustre";
  r.archive_id = 3;
  r.flags = 0x8000000000000001ULL;
  r.data = std::string("\xff\x00z", 3);  // not UTF-8: base64
  r.fids = {lu_fid{0x200000401, 9, 0}};
  json::object m = ToJson(r);
  EXPECT_EQ(m.at("command"), "upcall");
  EXPECT_TRUE(m.contains("data_base64"));
  UpcallRequest back;
  std::string error;
  ASSERT_TRUE(Parse(m, &back, &error)) << error;
  EXPECT_EQ(back.action, uint32_t{HSMA_REMOVE});
  EXPECT_EQ(back.archive_id, 3u);
  EXPECT_EQ(back.flags, r.flags);
  EXPECT_EQ(back.data, r.data);
  ASSERT_EQ(back.fids.size(), 1u);
  EXPECT_TRUE(hsm::operator==(back.fids[0], r.fids[0]));

  json::object bad = m;
  bad["action"] = "RESTORE";
  EXPECT_FALSE(Parse(bad, &back, &error));
  EXPECT_EQ(error, "'action' must be ARCHIVE or REMOVE");
  bad = m;
  bad["fids"] = json::array{};
  EXPECT_FALSE(Parse(bad, &back, &error));
  EXPECT_EQ(error, "'fids' must be a non-empty array of FIDs");
  bad = m;
  bad["archive_id"] = 0;
  EXPECT_FALSE(Parse(bad, &back, &error));
  bad = m;
  bad["fids"] =
      json::array{json::object{{"f_seq", 0}, {"f_oid", 1}, {"f_ver", 0}}};
  EXPECT_FALSE(Parse(bad, &back, &error));
  EXPECT_NE(error.find("'fids'[0]"), std::string::npos) << error;
}

TEST(UpcallTest, ItemsCarryBothMarks) {
  UpcallRequest r;
  r.action = HSMA_ARCHIVE;
  r.fsname = "lustre";
  r.archive_id = 2;
  r.data = "d";
  r.fids = {lu_fid{0x200000401, 1, 0}, lu_fid{0x200000401, 2, 0}};
  std::vector<WireItem> items = UpcallItems(r, 1000, 55);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].item.hai.hai_cookie, kUpcallCookieBit | 1000);
  EXPECT_EQ(items[1].item.hai.hai_cookie, kUpcallCookieBit | 1001);
  EXPECT_TRUE(IsUpcalledCookie(items[1].item.hai.hai_cookie));
  EXPECT_EQ(items[0].archive_id, kUpcallArchiveBit | 2);
  EXPECT_TRUE(IsUpcallArchive(items[0].archive_id));
  EXPECT_EQ(LustreArchiveOf(items[0].archive_id), 2u);
  EXPECT_EQ(items[0].item.hai.hai_action, uint32_t{HSMA_ARCHIVE});
  EXPECT_EQ(items[0].item.hai.hai_len, hsm::kHaiFixedSize + 1);
  EXPECT_EQ(items[0].timestamp_ns, 55);
  // A Lustre cookie (Unix seconds at the first start, counting up) is never
  // an upcalled one.
  EXPECT_FALSE(IsUpcalledCookie(1767225600ULL + 1'000'000'000ULL));
}

}  // namespace
}  // namespace protocol
