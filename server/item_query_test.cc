#include "server/item_query.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "server/placement.h"
#include "server/test_items.h"

namespace server {
namespace {

namespace json = boost::json;
using test::MakeItem;

lu_fid FidOf(uint64_t cookie) {
  return MakeItem(HSMA_ARCHIVE, cookie).item.hai.hai_fid;
}

class ItemQueryTest : public ::testing::Test {
 protected:
  protocol::WireItem Stamped(uint32_t action, uint64_t cookie,
                             std::string data = "") {
    protocol::WireItem wire = MakeItem(action, cookie, 1, std::move(data));
    wire.timestamp_ns = clock_.UnixNanos();
    return wire;
  }
  json::object ShowOne(uint64_t cookie) {
    json::object o = query_.Show(FidOf(cookie));
    EXPECT_EQ(o.at("fid").as_string(), hsm::FormatFid(FidOf(cookie)));
    const json::array& requests = o.at("requests").as_array();
    EXPECT_EQ(requests.size(), 1u) << json::serialize(o);
    return requests.empty() ? json::object{} : requests[0].as_object();
  }

  common::ManualClock clock_;
  Scheduler scheduler_;
  MoverTable movers_;
  RecentDone recent_;
  DispatchRate rate_{clock_};
  ItemQuery query_{scheduler_, movers_, recent_, rate_, clock_};
};

TEST_F(ItemQueryTest, WaitingAtItsPlaceWithAnEstimate) {
  for (uint64_t c = 1; c <= 5; ++c)
    ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_RESTORE, c)));
  clock_.Advance(std::chrono::seconds(20));
  json::object o = ShowOne(4);
  EXPECT_EQ(o.at("state").as_string(), "waiting");
  EXPECT_EQ(o.at("queue").as_string(), "global");
  EXPECT_EQ(o.at("type").as_string(), "restore");
  EXPECT_EQ(o.at("position").to_number<int64_t>(), 3);  // 3 ahead
  EXPECT_DOUBLE_EQ(o.at("waited_s").as_double(), 20.0);
  EXPECT_FALSE(o.contains("estimate_s"));  // nothing handed out lately
  // 1 restore a second lately: 4 to go before and with it.
  for (int s = 0; s < 60; ++s) {
    rate_.Note(ItemType::kRestore);
    clock_.Advance(std::chrono::seconds(1));
  }
  o = ShowOne(4);
  EXPECT_NEAR(o.at("estimate_s").as_double(), 4.0, 0.1);
  EXPECT_EQ(query_.Show(FidOf(99)).at("requests").as_array().size(), 0u);
}

TEST_F(ItemQueryTest, PositionBeyondTheBound) {
  const size_t n = ItemQuery::kPositionBound + 2;
  for (uint64_t c = 1; c <= n; ++c)
    ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, c)));
  json::object o = ShowOne(n);
  EXPECT_FALSE(o.contains("position"));
  EXPECT_EQ(o.at("position_beyond").to_number<size_t>(),
            ItemQuery::kPositionBound);
  EXPECT_EQ(ShowOne(n - 1).at("position").to_number<size_t>(),
            ItemQuery::kPositionBound);
}

TEST_F(ItemQueryTest, LocatingHeldAndAMoverOwnQueue) {
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_RESTORE, 1), kLocating));
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, 2), kChecking));
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_RESTORE, 3), "m2"));
  json::object locating = ShowOne(1);
  EXPECT_EQ(locating.at("state").as_string(), "locating");
  EXPECT_FALSE(locating.contains("queue"));
  EXPECT_EQ(ShowOne(2).at("state").as_string(), "held");
  json::object own = ShowOne(3);
  EXPECT_EQ(own.at("state").as_string(), "waiting");
  EXPECT_EQ(own.at("queue").as_string(), "m2");
  EXPECT_EQ(own.at("position").to_number<int64_t>(), 0);
}

// A request behind an earlier one of its file (one action per file at a
// time): shown and listed as such, with no position.
TEST_F(ItemQueryTest, AfterAnEarlierRequestOfTheSameFile) {
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, 1)));
  protocol::WireItem later = Stamped(HSMA_REMOVE, 2);
  later.item.hai.hai_fid = later.item.hai.hai_dfid = FidOf(1);
  ASSERT_TRUE(scheduler_.Enqueue(later));
  json::object o = query_.Show(FidOf(1));
  const json::array& requests = o.at("requests").as_array();
  ASSERT_EQ(requests.size(), 2u);
  const json::object& held = requests[0].as_object();  // newest first
  EXPECT_EQ(held.at("cookie").as_int64(), 2);
  EXPECT_EQ(held.at("state").as_string(), "after_same_fid");
  EXPECT_FALSE(held.contains("position"));
  EXPECT_FALSE(held.contains("position_beyond"));
  EXPECT_EQ(requests[1].at("state").as_string(), "waiting");
  const json::object page = query_.List({.state = "after_same_fid"});
  ASSERT_EQ(page.at("requests").as_array().size(), 1u);
  EXPECT_EQ(page.at("requests").as_array()[0].at("cookie").as_int64(), 2);
}

// A request Lustre sent again after retryable failures shows its attempt
// and the movers that failed it, while its memory lasts.
TEST_F(ItemQueryTest, RetriedRequestShowsItsAttempt) {
  RetryMemory retries(clock_, 16, std::chrono::seconds(60));
  ItemQuery query(scheduler_, movers_, recent_, rate_, clock_, &retries);
  protocol::WireItem wire = Stamped(HSMA_ARCHIVE, 1);
  retries.Failed(RetryMemory::KeyOf(wire.item.hai), "m1", 5);
  retries.Failed(RetryMemory::KeyOf(wire.item.hai), "m2", 28);
  ASSERT_TRUE(scheduler_.Enqueue(wire, "m3"));
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, 2)));
  auto show = [&](uint64_t cookie) {
    return query.Show(FidOf(cookie))
        .at("requests")
        .as_array()
        .at(0)
        .as_object();
  };
  json::object o = show(1);
  EXPECT_EQ(o.at("attempt"), 3);
  EXPECT_EQ(o.at("failed_on"), json::array({"m1", "m2"}));
  EXPECT_EQ(o.at("last_error"), 28);
  EXPECT_EQ(o.at("queue").as_string(), "m3");
  EXPECT_FALSE(show(2).contains("attempt"));  // never failed
  clock_.Advance(std::chrono::seconds(60));
  EXPECT_FALSE(show(1).contains("attempt"));  // forgotten
}

TEST_F(ItemQueryTest, BatchedArchiveNamesTheSlotHoldingItsHint) {
  scheduler_.SetBatching({.idle = std::chrono::seconds(60),
                          .max = std::chrono::seconds(0),
                          .slots = 1});
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, 1, "project=a")));
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, 2, "project=a")));
  json::object before = ShowOne(2);
  EXPECT_EQ(before.at("batch_hint").as_string(), "project=a");
  EXPECT_FALSE(before.contains("batch_mover"));  // no slot holds it yet
  MoverLimits limits;
  limits.max_running = {0, 0, 1};
  ASSERT_EQ(
      scheduler_.Dispatch("m1", {}, limits, 1, clock_.UnixNanos()).items.size(),
      1u);
  json::object after = ShowOne(2);
  EXPECT_EQ(after.at("state").as_string(), "waiting");
  EXPECT_EQ(after.at("batch_mover").as_string(), "m1");
  EXPECT_EQ(after.at("batch_slot").to_number<int64_t>(), 0);
  EXPECT_EQ(ShowOne(1).at("batch_slot").to_number<int64_t>(), 0);
}

TEST_F(ItemQueryTest, RunningSinceItsDispatchWithProgress) {
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, 1)));
  clock_.Advance(std::chrono::seconds(5));
  MoverLimits limits;
  ASSERT_EQ(
      scheduler_.Dispatch("m1", {}, limits, 1, clock_.UnixNanos()).items.size(),
      1u);
  const ItemId id = ItemId::Of(MakeItem(HSMA_ARCHIVE, 1).item.hai);
  movers_.Started(id, "m1", clock_.Now());
  clock_.Advance(std::chrono::seconds(30));
  movers_.Progressed(id, "m1", clock_.Now());
  clock_.Advance(std::chrono::seconds(2));
  json::object o = ShowOne(1);
  EXPECT_EQ(o.at("state").as_string(), "running");
  EXPECT_EQ(o.at("mover").as_string(), "m1");
  EXPECT_DOUBLE_EQ(o.at("running_s").as_double(), 32.0);
  EXPECT_DOUBLE_EQ(o.at("waited_s").as_double(), 5.0);
  EXPECT_DOUBLE_EQ(o.at("last_progress_s").as_double(), 2.0);
}

TEST_F(ItemQueryTest, DoneLately) {
  DoneEntry e;
  e.fid = FidOf(7);
  e.id = {7, e.fid};
  e.type = ItemType::kRestore;
  e.status = 5;
  e.end_ns = clock_.UnixNanos();
  e.mover = "m3";
  recent_.Add(e);
  clock_.Advance(std::chrono::seconds(3));
  json::object o = ShowOne(7);
  EXPECT_EQ(o.at("state").as_string(), "done");
  EXPECT_EQ(o.at("result").as_string(), "failed");
  EXPECT_EQ(o.at("mover").as_string(), "m3");
  EXPECT_DOUBLE_EQ(o.at("ended_s").as_double(), 3.0);
}

TEST_F(ItemQueryTest, ListFilters) {
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_RESTORE, 1)));
  clock_.Advance(std::chrono::seconds(100));
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_RESTORE, 2)));
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, 3)));
  ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, 4), "m2"));
  MoverLimits limits;
  limits.max_running = {0, 0, 1};
  ASSERT_EQ(scheduler_.Dispatch("m1", {}, limits, 1, 1).items.size(), 1u);
  auto cookies = [&](protocol::ListRequest r) {
    std::vector<int64_t> out;
    const json::object page = query_.List(r);
    for (const json::value& v : page.at("requests").as_array())
      out.push_back(v.at("cookie").as_int64());
    return out;
  };
  EXPECT_EQ(cookies({.type = "restore"}), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(cookies({.state = "running"}), (std::vector<int64_t>{3}));
  EXPECT_EQ(cookies({.mover = "m1"}), (std::vector<int64_t>{3}));
  EXPECT_EQ(cookies({.mover = "m2"}), (std::vector<int64_t>{4}));
  EXPECT_EQ(cookies({.older_than_s = 50}), (std::vector<int64_t>{1}));
  EXPECT_EQ(cookies({.type = "archive", .state = "waiting"}),
            (std::vector<int64_t>{4}));
  EXPECT_EQ(cookies({.limit = 2}), (std::vector<int64_t>{1, 2}));
}

// Paging visits every item present throughout exactly once, while others
// come and go between pages, and no call examines more than its bound.
TEST_F(ItemQueryTest, PagingVisitsEachItemOnceWhileTheQueuesChange) {
  const uint64_t kStable = 25'000;
  std::set<uint64_t> stable;
  for (uint64_t c = 1; c <= kStable; ++c) {
    ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, c)));
    stable.insert(c);
  }
  // Transient items, interleaved, added and removed between pages.
  uint64_t next_transient = 1'000'000;
  std::vector<uint64_t> transient;
  std::mt19937 random(7);
  std::multiset<uint64_t> seen;
  uint64_t cursor = 0;
  int pages = 0;
  for (;;) {
    json::object page =
        query_.List({.cursor = cursor, .limit = protocol::kListMaxLimit});
    EXPECT_LE(page.at("examined").to_number<size_t>(), ItemQuery::kMaxExamined);
    for (const json::value& v : page.at("requests").as_array())
      seen.insert(static_cast<uint64_t>(v.at("cookie").as_int64()));
    ++pages;
    if (!page.contains("cursor")) break;
    cursor = page.at("cursor").to_number<uint64_t>();
    for (int i = 0; i < 50; ++i) {
      transient.push_back(next_transient);
      ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_RESTORE, next_transient++)));
    }
    // Remove some transient items, old and new, before and after the cursor.
    for (int i = 0; i < 30 && !transient.empty(); ++i) {
      size_t k = random() % transient.size();
      ASSERT_TRUE(scheduler_.Drop(
          ItemId::Of(MakeItem(HSMA_RESTORE, transient[k]).item.hai)));
      transient.erase(transient.begin() + k);
    }
    // And dispatch a few stable ones (they stay, running).
    MoverLimits limits;
    limits.max_running = {0, 0, 3};
    scheduler_.Dispatch("m" + std::to_string(pages), {}, limits, 1, 1);
    ASSERT_LT(pages, 1000);
  }
  for (uint64_t c : stable) EXPECT_EQ(seen.count(c), 1u) << c;
  for (uint64_t c : seen) EXPECT_EQ(seen.count(c), 1u) << c;
  EXPECT_GE(pages, static_cast<int>(kStable / protocol::kListMaxLimit));
}

TEST_F(ItemQueryTest, AFilterMatchingLittleStillEndsEachCallEarly) {
  for (uint64_t c = 1; c <= 25'000; ++c)
    ASSERT_TRUE(scheduler_.Enqueue(Stamped(HSMA_ARCHIVE, c)));
  json::object page = query_.List({.type = "restore"});
  EXPECT_TRUE(page.at("requests").as_array().empty());
  EXPECT_EQ(page.at("examined").to_number<size_t>(), ItemQuery::kMaxExamined);
  EXPECT_TRUE(page.contains("cursor"));  // go on from there
}

}  // namespace
}  // namespace server
