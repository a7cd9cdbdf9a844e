#include "server/recent_done.h"

#include <gtest/gtest.h>

namespace server {
namespace {

DoneEntry Entry(uint32_t oid, uint64_t cookie, int32_t status = 0) {
  DoneEntry e;
  e.fid = {0x200000401, oid, 0};
  e.id = {cookie, e.fid};
  e.status = status;
  e.end_ns = static_cast<int64_t>(cookie);
  return e;
}

std::vector<uint64_t> CookiesOf(const RecentDone& r, uint32_t oid) {
  std::vector<uint64_t> cookies;
  r.ForEachOf({0x200000401, oid, 0},
              [&](const DoneEntry& e) { cookies.push_back(e.id.cookie); });
  return cookies;
}

TEST(RecentDoneTest, FindsByFileOrDataFidNewestFirst) {
  RecentDone recent(8);
  recent.Add(Entry(1, 10));
  recent.Add(Entry(2, 11));
  recent.Add(Entry(1, 12, 5));
  DoneEntry restore = Entry(3, 13);
  restore.id.dfid = {0x200000402, 7, 0};  // a volatile data FID
  recent.Add(restore);
  EXPECT_EQ(CookiesOf(recent, 1), (std::vector<uint64_t>{12, 10}));
  EXPECT_EQ(CookiesOf(recent, 3), (std::vector<uint64_t>{13}));
  std::vector<uint64_t> by_dfid;
  recent.ForEachOf({0x200000402, 7, 0},
                   [&](const DoneEntry& e) { by_dfid.push_back(e.id.cookie); });
  EXPECT_EQ(by_dfid, (std::vector<uint64_t>{13}));
  EXPECT_TRUE(CookiesOf(recent, 9).empty());
}

TEST(RecentDoneTest, BoundedTheOldestGo) {
  RecentDone recent(4);
  for (uint64_t c = 1; c <= 10; ++c) recent.Add(Entry(1, c));
  EXPECT_EQ(recent.size(), 4u);
  EXPECT_EQ(CookiesOf(recent, 1), (std::vector<uint64_t>{10, 9, 8, 7}));
}

}  // namespace
}  // namespace server
