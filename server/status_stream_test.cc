#include "server/status_stream.h"

#include <gtest/gtest.h>

namespace server {
namespace {

namespace json = boost::json;

ItemId StreamItemId(uint64_t cookie) { return {cookie, {0x200000401, 1, 0}}; }

TEST(StatusStreamTest, WritesOneObjectInSlices) {
  StatusStream stream;
  std::vector<ItemId> many;
  for (uint64_t i = 1; i <= 5000; ++i) many.push_back(StreamItemId(i));
  auto render = [](const ItemId& id, json::object* entry) {
    if (id.cookie % 1000 == 0) return false;  // gone since the snapshot
    (*entry)["hai_cookie"] = id.cookie;
    return true;
  };
  json::object o{{"pending_archive", 5000}};
  json::object client{{"client_id", "m1"}};
  client["active_requests"] = stream.AddArray({StreamItemId(7)}, render);
  o["clients"] = json::array{client};
  o["waiting_archive"] = stream.AddArray(many, render);
  o["empty"] = stream.AddArray({}, render);
  o["command"] = "status";
  stream.SetObject(o);
  std::string all;
  int pieces = 0;
  for (bool finished = false; !finished; ++pieces) {
    std::string piece;
    finished = stream.Produce(&piece);
    EXPECT_LT(piece.size(), 64u << 10);
    all += piece;
  }
  EXPECT_GE(pieces, 3);  // 5000 entries at 2048 a piece
  json::object back = json::parse(all).as_object();
  EXPECT_EQ(back.at("command"), "status");
  EXPECT_EQ(back.at("waiting_archive").as_array().size(), 4995u);
  EXPECT_EQ(back.at("waiting_archive").as_array()[0].at("hai_cookie"), 1);
  EXPECT_EQ(back.at("clients").as_array()[0].at("active_requests"),
            json::parse(R"([{"hai_cookie":7}])"));
  EXPECT_EQ(back.at("empty"), json::array());
}

TEST(StatusStreamTest, SmallDumpIsTheSingleObjectItWasBefore) {
  StatusStream stream;
  json::object o{{"pending_archive", 1}, {"command", "status"}};
  stream.SetObject(o);
  std::string all;
  EXPECT_TRUE(stream.Produce(&all));
  EXPECT_EQ(all, json::serialize(o));
}

}  // namespace
}  // namespace server
