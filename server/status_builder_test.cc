#include "server/status_builder.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/retry_memory.h"
#include "server/test_items.h"

namespace server {
namespace {

namespace json = boost::json;
using test::MakeItem;

// A known state: restores 1 and 2 and archive 3 queued, restore 1 sent to
// m1; m1 connected (waiting for work, some done), m2 disconnected, one
// anonymous client; item 9 held for a check.
class StatusBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(scheduler_.Enqueue(MakeItem(HSMA_RESTORE, 1)));
    ASSERT_TRUE(scheduler_.Enqueue(
        MakeItem(HSMA_RESTORE, 2, 1, std::string("a\0b", 3))));
    ASSERT_TRUE(scheduler_.Enqueue(MakeItem(HSMA_ARCHIVE, 3, 1, "x")));
    MoverLimits limits;
    limits.max_running = {1, 0, 0};
    DispatchReply reply = scheduler_.Dispatch("m1", {}, limits);
    ASSERT_EQ(reply.items.size(), 1u);
    redispatch_.Hold(ItemId::Of(MakeItem(HSMA_ARCHIVE, 9).item.hai));

    view_.connections = 2;
    view_.store = "journal /var/lib/x";
    view_.movers = {
        {"m1", "waiting", true, 0, {4, 0, 2}},
        {"m2", "disconnected", false, 1'700'000'123'000'000'000, {}}};
    view_.anonymous = {{"10.0.0.1:4000", "ready"}};
  }
  // The whole reply, as the peer reads it.
  json::object Reply(int verbose) {
    auto stream = builder_.Build(view_, verbose);
    std::string all;
    for (int i = 0; i < 100; ++i) {
      std::string piece;
      bool finished = stream->Produce(&piece);
      all += piece;
      if (finished) break;
    }
    return json::parse(all).as_object();
  }
  static std::vector<int64_t> Cookies(const json::value& list) {
    std::vector<int64_t> cookies;
    for (const json::value& entry : list.as_array())
      cookies.push_back(entry.at("hai_cookie").as_int64());
    return cookies;
  }

  common::ManualClock clock_;
  Scheduler scheduler_;
  Redispatch redispatch_{clock_};
  bool stopped_ = false;
  StatusBuilder builder_{scheduler_, redispatch_, clock_,
                         [this] { return stopped_; }};
  StatusView view_;
};

TEST_F(StatusBuilderTest, CountersAndMoversOfAKnownState) {
  json::object o = Reply(4);
  EXPECT_EQ(o.at("running_restore").to_number<uint64_t>(), 1u);
  EXPECT_EQ(o.at("pending_restore").to_number<uint64_t>(), 1u);
  EXPECT_EQ(o.at("pending_archive").to_number<uint64_t>(), 1u);
  EXPECT_EQ(o.at("clients_connected").to_number<uint64_t>(), 2u);
  EXPECT_EQ(o.at("store").as_string(), "journal /var/lib/x");
  EXPECT_EQ(o.at("store_state").as_string(), "ok");
  EXPECT_EQ(o.at("redispatch").at("held").to_number<uint64_t>(), 1u);
  // Zero counters are left out, as in every reply; "command" is last.
  EXPECT_FALSE(o.contains("running_archive"));
  EXPECT_FALSE(o.contains("pending_remove"));
  EXPECT_FALSE(o.contains("locked"));
  EXPECT_FALSE(o.contains("oversized"));
  EXPECT_EQ(o.at("command").as_string(), "status");
  EXPECT_EQ((o.end() - 1)->key(), "command");

  const json::array& clients = o.at("clients").as_array();
  ASSERT_EQ(clients.size(), 3u);
  const json::object& m1 = clients[0].as_object();
  EXPECT_EQ(m1.at("client_id").as_string(), "m1");
  EXPECT_EQ(m1.at("status").as_string(), "waiting");
  EXPECT_EQ(m1.at("current_restore").to_number<uint64_t>(), 1u);
  EXPECT_EQ(m1.at("current_archive").to_number<uint64_t>(), 0u);
  EXPECT_EQ(m1.at("done_restore").to_number<uint64_t>(), 4u);
  EXPECT_EQ(m1.at("done_archive").to_number<uint64_t>(), 2u);
  EXPECT_FALSE(m1.contains("disconnected_timestamp"));
  const json::object& m2 = clients[1].as_object();
  EXPECT_EQ(m2.at("status").as_string(), "disconnected");
  EXPECT_EQ(m2.at("disconnected_timestamp").as_int64(),
            1'700'000'123'000'000'000);
  const json::object& anonymous = clients[2].as_object();
  EXPECT_EQ(anonymous.at("client_id").as_string(), "10.0.0.1:4000");
  EXPECT_EQ(anonymous.at("status").as_string(), "ready");
  EXPECT_FALSE(anonymous.contains("done_restore"));

  // Below verbose 6: no item lists.
  EXPECT_FALSE(o.contains("waiting_restore"));
  EXPECT_FALSE(o.contains("oversized_items"));
  EXPECT_FALSE(m1.contains("active_requests"));
}

TEST_F(StatusBuilderTest, LockedAndStoreDownAreShown) {
  view_.locked = 2;
  view_.store_writable = false;
  json::object o = Reply(4);
  EXPECT_EQ(o.at("locked").as_int64(), 2);
  EXPECT_EQ(o.at("store_state").as_string(), "cannot persist");
}

// Retries (server/retry_memory.h): the counters and the remembered
// requests, newest failure first, as the memory gives them.
TEST_F(StatusBuilderTest, RetriesAreShown) {
  EXPECT_FALSE(Reply(4).contains("retries"));
  RetryMemory retries(clock_);
  hsm_action_item a{}, b{};
  a.hai_cookie = 1;
  a.hai_fid = {0x200000401, 1, 0};
  b.hai_cookie = 2;
  b.hai_fid = {0x200000401, 2, 0};
  retries.Failed(RetryMemory::KeyOf(a), "m1", 5);
  clock_.Advance(std::chrono::seconds(1));
  retries.Failed(RetryMemory::KeyOf(b), "m1", 28);
  retries.Failed(RetryMemory::KeyOf(b), "m2", 28);
  retries.NoteReturned();
  view_.retries = retries.Status(3, 100);
  json::object o = Reply(4);
  const json::object& r = o.at("retries").as_object();
  EXPECT_EQ(r.at("max_attempts"), 3);
  EXPECT_EQ(r.at("remembered"), 2);
  EXPECT_EQ(r.at("returned"), 1);
  EXPECT_EQ(r.at("given_up"), 0);
  const json::array& requests = r.at("requests").as_array();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].at("hai_cookie"), 2);
  EXPECT_EQ(requests[0].at("failed_attempts"), 2);
  EXPECT_EQ(requests[0].at("failed_on"), json::array({"m1", "m2"}));
  EXPECT_EQ(requests[0].at("last_error"), 28);
  EXPECT_EQ(requests[1].at("hai_cookie"), 1);
  EXPECT_EQ(retries.Status(3, 1).at("requests").as_array().size(), 1u);
}

TEST_F(StatusBuilderTest, ADrainedMoverSaysSo) {
  view_.movers[1].draining = true;  // m2, disconnected and drained
  json::object o = Reply(4);
  const json::array& clients = o.at("clients").as_array();
  EXPECT_FALSE(clients[0].as_object().contains("draining"));
  EXPECT_EQ(clients[1].as_object().at("draining"), true);
  EXPECT_FALSE(clients[2].as_object().contains("draining"));  // anonymous
}

TEST_F(StatusBuilderTest, VerboseSixListsTheItems) {
  json::object o = Reply(6);
  EXPECT_EQ(Cookies(o.at("waiting_restore")), std::vector<int64_t>{2});
  EXPECT_EQ(Cookies(o.at("waiting_archive")), std::vector<int64_t>{3});
  EXPECT_TRUE(o.at("waiting_remove").as_array().empty());
  EXPECT_TRUE(o.at("oversized_items").as_array().empty());
  // Data is cut at its first NUL, as the original.
  EXPECT_EQ(o.at("waiting_restore").as_array()[0].at("hai_data").as_string(),
            "a");
  const json::object& m1 = o.at("clients").as_array()[0].as_object();
  EXPECT_EQ(Cookies(m1.at("active_requests")), std::vector<int64_t>{1});
  EXPECT_TRUE(
      o.at("clients").as_array()[1].at("active_requests").as_array().empty());
}

TEST_F(StatusBuilderTest, ItemsThatChangedOrAServerStoppedAreLeftOut) {
  auto stream = builder_.Build(view_, 6);
  // After the snapshot: restore 2 is sent, then the server stops.
  MoverLimits limits;
  limits.max_running = {5, 0, 0};
  ASSERT_EQ(scheduler_.Dispatch("m1", {}, limits).items.size(), 1u);
  stopped_ = true;
  std::string all, piece;
  while (!stream->Produce(&piece)) all += std::exchange(piece, {});
  all += piece;
  json::object o = json::parse(all).as_object();
  EXPECT_TRUE(o.at("waiting_restore").as_array().empty());
  EXPECT_TRUE(o.at("waiting_archive").as_array().empty());  // stopped
  // Running items are listed while their mover has them.
  const json::object& m1 = o.at("clients").as_array()[0].as_object();
  EXPECT_EQ(Cookies(m1.at("active_requests")), std::vector<int64_t>{1});
}

TEST_F(StatusBuilderTest, FailuresApartAgesAndKinds) {
  // Restore 1 (running on m1) fails; archive 3 waits since 90 s ago; a
  // remove waits in m1's own queue since 30 s ago.
  ASSERT_TRUE(scheduler_.Done(ItemId::Of(MakeItem(HSMA_RESTORE, 1).item.hai),
                              /*failed=*/true));
  const int64_t now = clock_.UnixNanos();
  protocol::WireItem archive = MakeItem(HSMA_ARCHIVE, 4, 2);
  archive.timestamp_ns = now - 90'000'000'000;
  ASSERT_TRUE(scheduler_.Enqueue(archive));
  protocol::WireItem remove = MakeItem(HSMA_REMOVE, 5);
  remove.timestamp_ns = now - 30'000'000'000;
  ASSERT_TRUE(scheduler_.Enqueue(remove, "m1"));
  view_.anonymous[0].kind = "admin";

  json::object o = Reply(4);
  EXPECT_EQ(o.at("done_restore").to_number<uint64_t>(), 1u);  // as before
  EXPECT_EQ(o.at("failed_restore").to_number<uint64_t>(), 1u);
  EXPECT_FALSE(o.contains("failed_archive"));  // zero: left out on the wire
  // Archive 3 has no arrival time (0): not counted.
  EXPECT_DOUBLE_EQ(o.at("oldest_waiting_archive_s").as_double(), 90.0);
  EXPECT_DOUBLE_EQ(o.at("oldest_waiting_remove_s").as_double(), 30.0);
  EXPECT_FALSE(o.contains("oldest_waiting_restore_s"));  // restore 2: ts 0
  const json::array& clients = o.at("clients").as_array();
  EXPECT_EQ(clients[0].at("kind").as_string(), "mover");
  EXPECT_DOUBLE_EQ(clients[0].at("oldest_waiting_remove_s").as_double(), 30.0);
  EXPECT_FALSE(clients[0].as_object().contains("oldest_waiting_archive_s"));
  EXPECT_EQ(clients[2].at("kind").as_string(), "admin");

  clock_.Advance(std::chrono::seconds(10));
  EXPECT_DOUBLE_EQ(Reply(4).at("oldest_waiting_remove_s").as_double(), 40.0);
}

TEST_F(StatusBuilderTest, RedispatchRetryingListIsCappedBelowVerboseSix) {
  for (uint64_t cookie = 100; cookie < 250; ++cookie) {
    ItemId id = ItemId::Of(MakeItem(HSMA_ARCHIVE, cookie).item.hai);
    redispatch_.OnFailedRedispatch(id);
  }
  EXPECT_EQ(builder_.RedispatchStatus(4).at("retrying").as_array().size(),
            100u);
  json::array all = builder_.RedispatchStatus(6).at("retrying").as_array();
  ASSERT_EQ(all.size(), 150u);
  EXPECT_EQ(all[0].at("attempts").to_number<int64_t>(), 1);
}

}  // namespace
}  // namespace server
