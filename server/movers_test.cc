// MoverTable: grace bookkeeping, activity and revoked items.
#include "server/movers.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "server/connection.h"

namespace server {
namespace {

using namespace std::chrono_literals;
using TimePoint = common::Clock::TimePoint;

// Connections the table refers to (unconnected sockets: the table never
// uses them).
struct NoHandler : ConnectionHandler {
  void OnMessage(Connection&, boost::json::object&) override {}
  void OnClosed(Connection&, const std::string&) override {}
};

std::shared_ptr<Connection> Link() {
  static boost::asio::io_context io;
  static NoHandler handler;
  return std::make_shared<Connection>(boost::asio::ip::tcp::socket(io), handler,
                                      ConnectionOptions{});
}

ItemId ItemIdOf(uint64_t cookie) { return {cookie, {0x200000401, 1, 0}}; }

TEST(MoverTableTest, OnlyTheCurrentConnectionStartsTheGrace) {
  MoverTable t;
  auto first = Link(), second = Link();
  t.Connect("a", first);
  t.Connect("a", second);  // took the id over
  EXPECT_FALSE(t.Disconnect("a", first.get(), TimePoint(1s), 1));
  EXPECT_TRUE(t.connected("a"));
  EXPECT_FALSE(t.NextExpiry(10s));
  EXPECT_TRUE(t.Disconnect("a", second.get(), TimePoint(1s), 1));
  EXPECT_EQ(t.NextExpiry(10s), TimePoint(11s));
  EXPECT_TRUE(t.Expired(TimePoint(11s) - 1ns, 10s).empty());
  EXPECT_EQ(t.Expired(TimePoint(11s), 10s), std::vector<MoverId>{"a"});
  EXPECT_FALSE(t.Disconnect("b", second.get(), TimePoint(1s), 1));
}

TEST(MoverTableTest, DrainingOutlivesReconnectsNotTheEntry) {
  MoverTable t;
  EXPECT_FALSE(t.SetDraining("a", true));  // unknown: refused
  EXPECT_EQ(t.Find("a"), nullptr);         // and not created
  auto first = Link(), second = Link();
  t.Connect("a", first);
  EXPECT_FALSE(t.draining("a"));
  EXPECT_TRUE(t.SetDraining("a", true));
  EXPECT_TRUE(t.draining("a"));
  // Away within its grace, then back on a new connection: still drained.
  EXPECT_TRUE(t.Disconnect("a", first.get(), TimePoint(1s), 1));
  EXPECT_TRUE(t.draining("a"));
  t.Connect("a", second);
  EXPECT_TRUE(t.draining("a"));
  EXPECT_TRUE(t.SetDraining("a", false));
  EXPECT_FALSE(t.draining("a"));
  // A disconnected mover may be drained; forgotten (grace over), it is not
  // drained when it comes back.
  EXPECT_TRUE(t.Disconnect("a", second.get(), TimePoint(2s), 2));
  EXPECT_TRUE(t.SetDraining("a", true));
  t.Erase("a");
  EXPECT_FALSE(t.draining("a"));
  t.Connect("a", first);
  EXPECT_FALSE(t.draining("a"));
  // A recovery placeholder is known: it may be drained.
  t.AddPlaceholder("p", TimePoint(3s), 3);
  EXPECT_TRUE(t.SetDraining("p", true));
  t.Connect("p", second);
  EXPECT_TRUE(t.draining("p"));
}

TEST(MoverTableTest, DoneCountsGoToTheMoverAndReturnItsConnection) {
  MoverTable t;
  auto link = Link();
  t.Connect("a", link);
  EXPECT_EQ(t.CountDone("a", ItemType::kRestore), link);
  EXPECT_EQ(t.CountDone("x", ItemType::kRestore), nullptr);
  EXPECT_EQ(t.Find("a")->done[static_cast<int>(ItemType::kRestore)], 1u);
}

TEST(MoverTableTest, StaleSkipsDisconnectedMoversAndDropsMovedItems) {
  MoverTable t;
  t.Connect("a", Link());
  t.Connect("b", Link());
  t.Started(ItemIdOf(1), "a", TimePoint(0s));
  t.Started(ItemIdOf(2), "b", TimePoint(0s));
  t.Started(ItemIdOf(3), "a", TimePoint(0s));
  t.Disconnect("b", t.Find("b")->connection.get(), TimePoint(1s), 1);
  MoverName a("a"), b("b"), c("c");
  auto owner_of = [&](const ItemId& id) -> const MoverName* {
    return id.cookie == 1 ? &a : id.cookie == 2 ? &b : &c;  // 3 moved to c
  };
  EXPECT_EQ(t.Stale(TimePoint(5s), 4s, owner_of).size(), 1u);
  EXPECT_EQ(t.tracked(), 2u);  // 3's activity dropped
  EXPECT_TRUE(t.Stale(TimePoint(4s), 4s, owner_of).empty());
}

TEST(MoverTableTest, RevokeStallsAConnectedOwnerUntilProgress) {
  MoverTable t;
  t.Connect("a", Link());
  t.Revoke(ItemIdOf(1), "a");
  EXPECT_TRUE(t.stalled("a"));
  EXPECT_TRUE(t.RevokedFrom(ItemIdOf(1), "a"));
  EXPECT_FALSE(t.RevokedFrom(ItemIdOf(1), "b"));
  EXPECT_TRUE(t.Progressed(ItemIdOf(2), "a", TimePoint(1s)));
  EXPECT_FALSE(t.Progressed(ItemIdOf(2), "a", TimePoint(2s)));
  t.Ended(ItemIdOf(1));
  EXPECT_FALSE(t.RevokedFrom(ItemIdOf(1), "a"));
  // A reconnect starts unstalled.
  t.Revoke(ItemIdOf(3), "a");
  t.Connect("a", Link());
  EXPECT_FALSE(t.stalled("a"));
}

}  // namespace
}  // namespace server
