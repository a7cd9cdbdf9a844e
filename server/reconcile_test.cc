#include "server/reconcile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "protocol/upcall.h"
#include "server/scheduler.h"
#include "server/test_items.h"

namespace server {
namespace {

ItemId IdOf(const protocol::WireItem& wire) {
  return ItemId::Of(wire.item.hai);
}

class ReconcileTest : public ::testing::Test {
 protected:
  // Queues a new archive with `cookie`.
  ItemId Add(uint64_t cookie) {
    protocol::WireItem wire = test::MakeItem(HSMA_ARCHIVE, cookie);
    EXPECT_TRUE(scheduler_.Enqueue(wire));
    return IdOf(wire);
  }
  // A pass: Lustre lists `listed`; returns the verdict, *token the new one.
  Reconcile::Verdict Pass(const std::optional<std::string>& token,
                          const std::vector<ItemId>& listed,
                          std::string* next_token = nullptr,
                          bool list_whole = true) {
    Reconcile::Pass pass = reconcile_.Begin(token, list_whole);
    last_reason_ = pass.add_only_reason;
    Reconcile::Verdict verdict = reconcile_.Decide(
        pass, scheduler_, ListedIds(listed.begin(), listed.end()));
    // The server forgets what is dropped before it answers.
    for (const ItemId& id : verdict.drop) scheduler_.Drop(id);
    std::string t = reconcile_.End(pass, scheduler_.next_seq());
    if (next_token) *next_token = t;
    return verdict;
  }

  Scheduler scheduler_;
  Reconcile reconcile_{"00112233aabbccdd"};
  std::string last_reason_;
};

TEST(InstanceIdTest, SixteenHexDigitsNewEachTime) {
  const std::string a = NewInstanceId(), b = NewInstanceId();
  ASSERT_EQ(a.size(), 16u);
  EXPECT_TRUE(std::all_of(a.begin(), a.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  })) << a;
  EXPECT_NE(a, b);
}

TEST_F(ReconcileTest, TokenNamesTheInstanceAndThePass) {
  std::string first, second;
  Pass(std::nullopt, {}, &first);
  Pass(first, {}, &second);
  EXPECT_EQ(first, "00112233aabbccdd-1");
  EXPECT_EQ(second, "00112233aabbccdd-2");
}

TEST_F(ReconcileTest, WithoutTokenNothingIsDropped) {
  Add(1);
  Pass(std::nullopt, {});
  // Even an item held long before: without a token, add only.
  auto verdict = Pass(std::nullopt, {});
  EXPECT_TRUE(verdict.drop.empty());
  EXPECT_EQ(last_reason_, "no token: add only");
  EXPECT_NE(scheduler_.Find(IdOf(test::MakeItem(HSMA_ARCHIVE, 1))), nullptr);
}

TEST_F(ReconcileTest, HeldAtThePreviousPassAndNotListedIsDropped) {
  const ItemId gone = Add(1), live = Add(2);
  std::string token;
  Pass(std::nullopt, {gone, live}, &token);
  auto verdict = Pass(token, {live});
  ASSERT_EQ(verdict.drop.size(), 1u);
  EXPECT_EQ(verdict.drop.front(), gone);
  EXPECT_EQ(scheduler_.Find(gone), nullptr);
  EXPECT_NE(scheduler_.Find(live), nullptr);
  // Neither pending nor done any more: it never ran.
  const int archive = static_cast<int>(ItemType::kArchive);
  EXPECT_EQ(scheduler_.counters().pending[archive], 1u);
  EXPECT_EQ(scheduler_.counters().done[archive], 0u);
}

TEST_F(ReconcileTest, UpcalledItemsAreNeverDropped) {
  // Lustre never lists an upcalled request (docs/upcall.md): the server
  // holds the only copy.
  const ItemId upcalled = Add(protocol::kUpcallCookieBit | 5);
  std::string token;
  Pass(std::nullopt, {}, &token);
  EXPECT_TRUE(Pass(token, {}).drop.empty());
  EXPECT_NE(scheduler_.Find(upcalled), nullptr);
}

TEST_F(ReconcileTest, AnItemArrivingBetweenTheReadAndTheReconcileIsKept) {
  std::string token;
  Pass(std::nullopt, {}, &token);
  // The reconciler reads Lustre's list (empty), then Lustre sends the
  // server a new request before the list reaches it.
  const ItemId late = Add(7);
  auto verdict = Pass(token, {}, &token);
  EXPECT_TRUE(verdict.drop.empty());
  EXPECT_NE(scheduler_.Find(late), nullptr);
  // Held when that pass was answered: a list read after it that misses it
  // means Lustre ended it.
  verdict = Pass(token, {});
  ASSERT_EQ(verdict.drop.size(), 1u);
  EXPECT_EQ(verdict.drop.front(), late);
}

TEST_F(ReconcileTest, ATokenOfAnotherInstanceDropsNothing) {
  const ItemId id = Add(1);
  Pass(std::nullopt, {});
  auto verdict = Pass(std::string("ffffffffffffffff-1"), {});
  EXPECT_TRUE(verdict.drop.empty());
  EXPECT_EQ(last_reason_, "a token of another server instance");
  EXPECT_NE(scheduler_.Find(id), nullptr);
}

TEST_F(ReconcileTest, MalformedOrForgottenTokensDropNothing) {
  Add(1);
  Reconcile short_memory("00112233aabbccdd", 2);
  Reconcile::Pass pass = short_memory.Begin(std::nullopt, true);
  const std::string oldest = short_memory.End(pass, scheduler_.next_seq());
  for (int i = 0; i < 2; ++i) {
    pass = short_memory.Begin(std::nullopt, true);
    short_memory.End(pass, scheduler_.next_seq());
  }
  pass = short_memory.Begin(oldest, true);
  EXPECT_FALSE(pass.mark.has_value());
  EXPECT_EQ(pass.add_only_reason,
            "a token of a pass this server no longer knows");
  for (const char* bad :
       {"00112233aabbccdd-", "00112233aabbccdd-x1", "00112233aabbccdd-1 ", "",
        "-1", "00112233aabbccdd-99999999999999999999999"}) {
    pass = reconcile_.Begin(std::string(bad), true);
    EXPECT_FALSE(pass.mark.has_value()) << bad;
  }
}

TEST_F(ReconcileTest, AnOlderTokenOfThisInstanceIsStillSafe) {
  const ItemId id = Add(1);
  std::string first;
  Pass(std::nullopt, {id}, &first);
  Pass(first, {id});
  // A reconciler whose reply was lost sends the older token again: the
  // item was held at that pass as well.
  auto verdict = Pass(first, {});
  EXPECT_EQ(verdict.drop.size(), 1u);
}

TEST_F(ReconcileTest, AListNotReadWholeDropsNothing) {
  Add(1);
  std::string token;
  Pass(std::nullopt, {}, &token);
  auto verdict = Pass(token, {}, nullptr, /*list_whole=*/false);
  EXPECT_TRUE(verdict.drop.empty());
  EXPECT_EQ(last_reason_, "entries of the list could not be read");
}

TEST_F(ReconcileTest, RunningItemsAreReportedOnceNeverDropped) {
  protocol::WireItem wire = test::MakeItem(HSMA_RESTORE, 3);
  ASSERT_TRUE(scheduler_.Claim("m1", wire));
  const ItemId id = IdOf(wire);
  std::string token;
  Pass(std::nullopt, {id}, &token);
  auto verdict = Pass(token, {}, &token);
  EXPECT_TRUE(verdict.drop.empty());
  ASSERT_EQ(verdict.report.size(), 1u);
  EXPECT_EQ(verdict.report.front(), id);
  EXPECT_EQ(verdict.running_gone, 1u);
  // Not again while it stays gone.
  verdict = Pass(token, {}, &token);
  EXPECT_TRUE(verdict.report.empty());
  EXPECT_EQ(verdict.running_gone, 1u);
  EXPECT_NE(scheduler_.Find(id), nullptr);
  // Listed again, then gone again: reported again.
  Pass(token, {id}, &token);
  verdict = Pass(token, {}, &token);
  EXPECT_EQ(verdict.report.size(), 1u);
}

TEST_F(ReconcileTest, AnItemPutBackInTheQueuesIsDroppedWhenLustreEndedIt) {
  protocol::WireItem wire = test::MakeItem(HSMA_ARCHIVE, 4);
  ASSERT_TRUE(scheduler_.Claim("m1", wire));
  const ItemId id = IdOf(wire);
  std::string token;
  Pass(std::nullopt, {id}, &token);
  // Its mover went away: waiting again, same arrival number.
  ASSERT_TRUE(scheduler_.Requeue(id));
  auto verdict = Pass(token, {});
  ASSERT_EQ(verdict.drop.size(), 1u);
  EXPECT_EQ(verdict.drop.front(), id);
}

// A restore that ran, then was put back in the queues (its mover left):
// Lustre lists it under the volatile FID its copy was writing to, the
// server holds it under the file's own. Listed all the same: kept.
TEST_F(ReconcileTest, ARestoreListedUnderItsVolatileFidIsKept) {
  protocol::WireItem wire = test::MakeItem(HSMA_RESTORE, 5);
  ASSERT_TRUE(scheduler_.Claim("m1", wire));
  const ItemId id = IdOf(wire);
  std::string token;
  Pass(std::nullopt, {id}, &token);
  ASSERT_TRUE(scheduler_.Requeue(id));
  std::vector<protocol::ListEntry> lustre(1);
  lustre[0].item = wire;
  lustre[0].item.item.hai.hai_dfid = {0x200000402, 99, 0};  // the volatile
  bool whole = false;
  ListedIds listed = ListedIdsOf(lustre, &whole);
  EXPECT_TRUE(whole);
  Reconcile::Pass pass = reconcile_.Begin(token, whole);
  ASSERT_TRUE(pass.mark.has_value());
  EXPECT_TRUE(reconcile_.Decide(pass, scheduler_, listed).drop.empty());
  // An archive is known by its dfid alone.
  std::vector<protocol::ListEntry> archive(1);
  archive[0].item = test::MakeItem(HSMA_ARCHIVE, 6);
  EXPECT_EQ(ListedIdsOf(archive, &whole).size(), 1u);
  EXPECT_EQ(ListedIdsOf(lustre, &whole).size(), 2u);
}

TEST(ListedIdsTest, AnUnreadableEntryMakesTheListPartial) {
  std::vector<protocol::ListEntry> entries(2);
  entries[0].item = test::MakeItem(HSMA_ARCHIVE, 1);
  entries[1].error = "not an object";
  bool whole = true;
  ListedIds listed = ListedIdsOf(entries, &whole);
  EXPECT_FALSE(whole);
  EXPECT_EQ(listed.size(), 1u);
}

TEST_F(ReconcileTest, ListedItemsAreKeptWhateverTheirAge) {
  std::vector<ItemId> ids;
  for (uint64_t cookie = 1; cookie <= 50; ++cookie) ids.push_back(Add(cookie));
  std::string token;
  Pass(std::nullopt, ids, &token);
  // Lustre lists the even ones only.
  std::vector<ItemId> even;
  for (size_t i = 1; i < ids.size(); i += 2) even.push_back(ids[i]);
  auto verdict = Pass(token, even);
  EXPECT_EQ(verdict.drop.size(), 25u);
  for (const ItemId& id : even) EXPECT_NE(scheduler_.Find(id), nullptr);
  EXPECT_EQ(scheduler_.size(), 25u);
}

}  // namespace
}  // namespace server
