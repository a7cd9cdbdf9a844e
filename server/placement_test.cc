#include "server/placement.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <map>

#include "server/test_items.h"
#include "store/journal_store.h"
#include "store/null_store.h"
#include "store/test_state.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

#ifndef LOCATE_TABLE_PATH
#error "LOCATE_TABLE_PATH: the path of coordinatool-locate-table"
#endif

namespace server {
namespace {

namespace json = boost::json;
using policy::MoverPresence;
using test::MakeItem;

// Placement over a real Scheduler, with the mover table a map the test
// fills, and what the located hook was told.
class PlacementTest : public ::testing::Test {
 protected:
  Placement& Make(PlacementOptions options = {}) {
    options.seed = 42;
    PlacementHooks hooks;
    hooks.presence = [this](const std::string& id) {
      auto it = movers_.find(id);
      return it == movers_.end() ? MoverPresence::kUnknown : it->second;
    };
    hooks.connected = [this] {
      std::vector<MoverId> ids;
      for (const auto& [id, presence] : movers_)
        if (presence == MoverPresence::kConnected) ids.push_back(id);
      return ids;
    };
    hooks.located = [this](const MoverId& mover) { located_.push_back(mover); };
    hooks.stopped = [this] { return stopped_; };
    placement_ = std::make_unique<Placement>(scheduler_, store_,
                                             std::move(options), hooks);
    return *placement_;
  }
  // A journal store in `dir` (the real one: what placement writes is what a
  // restart reads).
  std::unique_ptr<store::JournalStore> OpenJournal(const std::string& dir) {
    std::vector<std::string> warnings;
    std::string error;
    auto journal =
        store::JournalStore::Open(io_, {.dir = dir}, &warnings, &error);
    EXPECT_TRUE(journal) << error;
    return journal;
  }
  // Closes `journal` and opens it again, as a restart does; *state gets
  // what it holds.
  std::unique_ptr<store::JournalStore> Reopen(
      std::unique_ptr<store::JournalStore> journal, const std::string& dir,
      store::State* state) {
    journal->Close(10'000);
    journal.reset();
    auto reopened = OpenJournal(dir);
    std::string error;
    if (reopened) {
      EXPECT_TRUE(reopened->Load(*state, &error)) << error;
    }
    return reopened;
  }
  const Item& Find(uint64_t cookie) {
    const Item* item =
        scheduler_.Find(ItemId::Of(MakeItem(0, cookie).item.hai));
    EXPECT_NE(item, nullptr) << cookie;
    // No data: an Item of its own size alone is whole.
    static Item none(protocol::WireItem{}, ItemType::kArchive);
    return item ? *item : none;
  }
  // Runs the loop until the located hook was called `n` times in all.
  bool RunUntilLocated(size_t n) {
    return testing_support::WaitFor(
        [&] {
          io_.restart();
          io_.run_for(std::chrono::milliseconds(5));
          return located_.size() >= n;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(1));
  }
  static std::unique_ptr<policy::Locator> TableLocator(
      boost::asio::io_context& io, const std::string& table) {
    policy::LocatorOptions options;
    options.command = {LOCATE_TABLE_PATH, "--tag", "tape=", table};
    options.timeout = std::chrono::seconds(5);
    return std::make_unique<policy::Locator>(io, std::move(options));
  }

  boost::asio::io_context io_;
  Scheduler scheduler_;
  store::NullStore store_;
  std::map<std::string, MoverPresence> movers_;
  std::vector<MoverId> located_;
  bool stopped_ = false;
  std::unique_ptr<Placement> placement_;
};

TEST_F(PlacementTest, HostRuleSendsATaggedArchiveToAConnectedMoverOfIt) {
  PlacementOptions options;
  options.archive_on_hosts = {{"project=", {"m1", "m2", "m3"}, 1}};
  movers_ = {{"m1", MoverPresence::kDisconnected},
             {"m2", MoverPresence::kConnected}};
  Placement& placement = Make(std::move(options));
  ASSERT_TRUE(placement.has_host_rules());
  EXPECT_TRUE(placement.Enqueue(MakeItem(HSMA_ARCHIVE, 1, 1, "project=a")));
  EXPECT_TRUE(placement.Enqueue(MakeItem(HSMA_ARCHIVE, 2, 1, "other")));
  EXPECT_TRUE(placement.Enqueue(MakeItem(HSMA_RESTORE, 3, 1, "project=a")));
  EXPECT_EQ(Find(1).affinity.str(), "m2");  // the only connected one
  EXPECT_EQ(Find(2).affinity.str(), "");    // no rule matches
  EXPECT_EQ(Find(3).affinity.str(), "");    // rules are for archives
  // A known identity changes nothing.
  EXPECT_FALSE(placement.Enqueue(MakeItem(HSMA_ARCHIVE, 1, 1, "project=b")));
  EXPECT_EQ(Find(1).data(), "project=a");
  EXPECT_EQ(scheduler_.size(), 3u);
}

// A retried request goes where the retry chose, whatever the host rules
// say, and is stored as received.
TEST_F(PlacementTest, RetriedRequestGoesWhereTheRetryChoseNotByTheRules) {
  PlacementOptions options;
  options.archive_on_hosts = {{"project=", {"m1"}, 1}};
  movers_ = {{"m1", MoverPresence::kConnected},
             {"m2", MoverPresence::kConnected}};
  Placement& placement = Make(std::move(options));
  EXPECT_TRUE(
      placement.AddRetried(MakeItem(HSMA_ARCHIVE, 1, 1, "project=a"), "m2"));
  EXPECT_TRUE(
      placement.AddRetried(MakeItem(HSMA_ARCHIVE, 2, 1, "project=a"), ""));
  EXPECT_EQ(Find(1).affinity.str(), "m2");
  EXPECT_EQ(Find(2).affinity.str(), "");  // the global queues
  EXPECT_FALSE(placement.AddRetried(MakeItem(HSMA_ARCHIVE, 1, 1), "m1"));
  EXPECT_EQ(Find(1).affinity.str(), "m2");
  EXPECT_EQ(scheduler_.size(), 2u);
}

TEST_F(PlacementTest, ConsistentHashRewritesTheValueOnceAndStoresTheOriginal) {
  std::vector<config::ConsistentHashRule> rules = {
      {"project=", 5, {"m1", "m2", "m3"}, 1}};
  // The value is folded once: a second fold would change it again.
  policy::HostRules check({}, rules);
  auto none = [](const std::string&) { return MoverPresence::kUnknown; };
  auto zero = [](size_t) { return size_t{0}; };
  std::string original = "project=alpha;x";
  auto first = check.Choose(original, none, zero);
  ASSERT_TRUE(first && first->rewritten_data);
  auto second = check.Choose(*first->rewritten_data, none, zero);
  ASSERT_TRUE(second && second->rewritten_data);
  ASSERT_NE(*second->rewritten_data, *first->rewritten_data)
      << "pick a value whose second fold differs";

  testing_support::TempDir dir("placement-test");
  auto journal = OpenJournal(dir.path());
  ASSERT_TRUE(journal);
  PlacementOptions options;
  options.archive_on_hosts_ch = rules;
  Placement& placement = Make(std::move(options));
  placement.set_store(*journal);

  protocol::WireItem wire = MakeItem(HSMA_ARCHIVE, 1, 1, original);
  ASSERT_TRUE(placement.Enqueue(wire));
  placement.PutItem(wire);
  const Item& item = Find(1);
  EXPECT_EQ(item.data(), *first->rewritten_data);
  EXPECT_EQ(item.hai.hai_len,
            hsm::kHaiFixedSize + first->rewritten_data->size());
  EXPECT_EQ(item.affinity.str(), first->host);

  // A mover re-announces an item the store lost, with the data it got
  // (rewritten already): stored with the mover the rules chose.
  protocol::WireItem reannounced = item.ToWire();
  reannounced.item.hai.hai_cookie = 2;
  placement.PutReannounced(reannounced, "m3");
  store::State state;
  auto reopened = Reopen(std::move(journal), dir.path(), &state);
  ASSERT_TRUE(reopened);
  ASSERT_EQ(state.requests.size(), 2u);
  auto stored1 =
      boost::json::parse(state.requests[KeyOf(ItemId::Of(wire.item.hai))]);
  auto stored2 = boost::json::parse(
      state.requests[KeyOf(ItemId::Of(reannounced.item.hai))]);
  EXPECT_EQ(stored1.as_object().if_contains(kPlacedOnKey), nullptr);
  EXPECT_EQ(stored2.at(kPlacedOnKey).as_string(), "m3");

  // Recovery: the stored original folds to the same value; the re-announced
  // one stays as it is, on its mover, not folded a second time.
  Scheduler recovered;
  Placement again(
      recovered, *reopened, {.archive_on_hosts_ch = rules},
      PlacementHooks{
          .presence = none, .connected = {}, .located = {}, .stopped = {}});
  protocol::WireItem back1, back2;
  std::string why;
  ASSERT_TRUE(protocol::ItemFromJson(stored1.as_object(), &back1, &why));
  ASSERT_TRUE(protocol::ItemFromJson(stored2.as_object(), &back2, &why));
  EXPECT_EQ(back1.item.data, original);
  again.EnqueueRecovered(back1, "");
  again.EnqueueRecovered(back2, "m3");
  const Item* r1 = recovered.Find(ItemId::Of(back1.item.hai));
  const Item* r2 = recovered.Find(ItemId::Of(back2.item.hai));
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->data(), *first->rewritten_data);
  EXPECT_EQ(r1->affinity.str(), first->host);
  EXPECT_EQ(r2->data(), *first->rewritten_data);
  EXPECT_EQ(r2->affinity.str(), "m3");
  reopened->Close(10'000);
}

TEST_F(PlacementTest, WithoutHostRulesAReannouncedItemNamesNoMover) {
  testing_support::TempDir dir("placement-test");
  auto journal = OpenJournal(dir.path());
  ASSERT_TRUE(journal);
  Placement& placement = Make();
  placement.set_store(*journal);
  placement.PutReannounced(MakeItem(HSMA_ARCHIVE, 1), "m1");
  store::State state;
  auto reopened = Reopen(std::move(journal), dir.path(), &state);
  ASSERT_TRUE(reopened);
  ASSERT_EQ(state.requests.size(), 1u);
  EXPECT_EQ(state.requests.begin()->second.find(kPlacedOnKey),
            std::string::npos);
  reopened->Close(10'000);
}

TEST_F(PlacementTest, ListedStartedRestoreIsKnownByItsFid) {
  Placement& placement = Make();
  ASSERT_TRUE(placement.Add(MakeItem(HSMA_RESTORE, 1)));
  // Lustre's active_requests lists it with the volatile file as its dfid.
  protocol::WireItem listed = MakeItem(HSMA_RESTORE, 1);
  listed.item.hai.hai_dfid = {0x200000402, 7, 0};
  EXPECT_FALSE(placement.AddListed(listed));
  // An archive with another dfid is another item.
  protocol::WireItem archive = MakeItem(HSMA_ARCHIVE, 1);
  archive.item.hai.hai_dfid = {0x200000402, 7, 0};
  EXPECT_TRUE(placement.AddListed(archive));
  EXPECT_FALSE(placement.AddListed(MakeItem(HSMA_ARCHIVE, 2)) &&
               placement.AddListed(MakeItem(HSMA_ARCHIVE, 2)));
  EXPECT_EQ(scheduler_.size(), 3u);
}

// A re-announced item the store lost names its mover only if the host
// rules apply to it: anything else placed again goes to any mover, as a
// new one would, and is not tied to a mover that may never come back.
TEST_F(PlacementTest, ReannouncedItemNamesItsMoverOnlyWhereARuleApplies) {
  testing_support::TempDir dir("placement-test");
  auto journal = OpenJournal(dir.path());
  ASSERT_TRUE(journal);
  PlacementOptions options;
  options.archive_on_hosts = {{"project=", {"m1"}, 1}};
  Placement& placement = Make(std::move(options));
  placement.set_store(*journal);
  placement.PutReannounced(MakeItem(HSMA_ARCHIVE, 1, 1, "project=a"), "m2");
  placement.PutReannounced(MakeItem(HSMA_ARCHIVE, 2, 1, "other"), "m2");
  placement.PutReannounced(MakeItem(HSMA_RESTORE, 3, 1, "project=a"), "m2");
  placement.PutReannounced(MakeItem(HSMA_REMOVE, 4), "m2");
  store::State state;
  auto reopened = Reopen(std::move(journal), dir.path(), &state);
  ASSERT_TRUE(reopened);
  ASSERT_EQ(state.requests.size(), 4u);
  std::map<int64_t, std::string> placed_on;
  for (const auto& [key, text] : state.requests) {
    json::object o = json::parse(text).as_object();
    const json::value* placed = o.if_contains(kPlacedOnKey);
    placed_on[o.at("hai_cookie").to_number<int64_t>()] =
        placed ? std::string(placed->as_string()) : "";
  }
  EXPECT_EQ(placed_on, (std::map<int64_t, std::string>{
                           {1, "m2"}, {2, ""}, {3, ""}, {4, ""}}));
  reopened->Close(10'000);
}

TEST_F(PlacementTest, FairShareOwnerOfARestoreIsItsFilesOwner) {
  testing_support::TempDir mount("placement-owner");
  ASSERT_EQ(mkdir(mount.Join(".lustre").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(mount.Join(".lustre/fid").c_str(), 0755), 0);
  // MakeItem(…, 1) is file [0x200000401:0x1:0x0]; file 2 does not exist.
  std::ofstream(mount.Join(".lustre/fid/0x200000401:0x1:0x0")) << "bytes";

  config::ServerSettings settings;
  EXPECT_FALSE(SetUpFairShare(settings, scheduler_));  // off
  settings.fair_share_by = config::FairShareBy::kUid;
  settings.fair_share_weights = {{std::to_string(geteuid()), 3}};
  auto kind = SetUpFairShare(settings, scheduler_);
  ASSERT_EQ(kind, policy::OwnerKind::kUid);
  Placement& placement = Make({.mount = mount.path(), .owner_kind = kind});
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_RESTORE, 1)));
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_RESTORE, 2)));
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_ARCHIVE, 3)));
  EXPECT_EQ(Find(1).group, std::to_string(geteuid()));
  EXPECT_EQ(Find(2).group, "");  // lookup failed: the default owner
  EXPECT_EQ(Find(3).group, "");  // archives have no fair-share owner
}

TEST_F(PlacementTest, LocatedRestoreGoesToTheConnectedMoverTheHelperNames) {
  testing_support::TempDir dir("placement-locate");
  std::string table = dir.Join("table");
  std::ofstream(table) << "VOL001 mover1\nVOL002 mover2\n";
  movers_ = {{"mover1", MoverPresence::kConnected},
             {"mover2", MoverPresence::kDisconnected}};
  Placement& placement = Make({.locator = TableLocator(io_, table)});
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_RESTORE, 1, 1, "tape=VOL001")));
  // Out of every mover's reach until the helper answers.
  EXPECT_EQ(Find(1).affinity, kLocating);
  EXPECT_TRUE(located_.empty());
  ASSERT_TRUE(RunUntilLocated(1));
  EXPECT_EQ(located_, std::vector<MoverId>{"mover1"});
  EXPECT_EQ(Find(1).affinity.str(), "mover1");

  // Not in the table: any mover.
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_RESTORE, 3, 1, "tape=VOL404")));
  ASSERT_TRUE(RunUntilLocated(2));
  // A helper that names a mover that is not connected (the reference one
  // names only connected movers): any mover. Its answer comes first here.
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_RESTORE, 2, 1, "tape=VOL002")));
  placement.OnLocated(Find(2).id(), {"mover2", "", 0});
  ASSERT_TRUE(RunUntilLocated(3));
  EXPECT_EQ(located_, (std::vector<MoverId>{"mover1", "", ""}));
  EXPECT_EQ(Find(2).affinity.str(), "");
  EXPECT_EQ(Find(3).affinity.str(), "");
  // Archives are not located.
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_ARCHIVE, 4, 1, "tape=VOL001")));
  EXPECT_EQ(Find(4).affinity.str(), "");
}

// Recalls in tape order: an answer with a medium places the restore on it
// (the mover answered is not used); without tape order the medium is
// ignored. A held restore goes back to its medium.
TEST_F(PlacementTest, AnswerWithAMediumPlacesTheRestoreOnIt) {
  movers_ = {{"mover1", MoverPresence::kConnected}};
  scheduler_.SetTapeOrder({std::chrono::seconds(10), {}, 1});
  Placement& placement = Make({});
  ASSERT_TRUE(scheduler_.Enqueue(MakeItem(HSMA_RESTORE, 1), kLocating));
  ASSERT_TRUE(scheduler_.Enqueue(MakeItem(HSMA_RESTORE, 2), kLocating));
  placement.OnLocated(Find(1).id(), {"mover1", "T1", 40});
  placement.OnLocated(Find(2).id(), {"mover1", "", 0});
  EXPECT_EQ(Find(1).affinity, kOnMedium);
  EXPECT_EQ(Find(2).affinity.str(), "mover1");
  EXPECT_EQ(scheduler_.MediumOf(Find(1)),
            std::make_optional(std::make_pair(std::string("T1"), 40ul)));
  EXPECT_EQ(located_, (std::vector<MoverId>{"", "mover1"}));
  placement.Hold(Find(1), /*newly_held=*/true);
  EXPECT_EQ(scheduler_.tape_media()->waiting(), 0u);
  placement.GiveBack(Find(1));
  EXPECT_EQ(Find(1).affinity, kOnMedium);
  EXPECT_EQ(scheduler_.tape_media()->waiting(), 1u);
}

TEST_F(PlacementTest, WithoutTapeOrderAMediumAnswerIsIgnored) {
  movers_ = {{"mover1", MoverPresence::kConnected}};
  Placement& placement = Make({});
  ASSERT_TRUE(scheduler_.Enqueue(MakeItem(HSMA_RESTORE, 1), kLocating));
  placement.OnLocated(Find(1).id(), {"mover1", "T1", 40});
  EXPECT_EQ(Find(1).affinity.str(), "mover1");
}

TEST_F(PlacementTest, BrokenHelperLeavesRestoresToAnyMover) {
  movers_ = {{"mover1", MoverPresence::kConnected}};
  policy::LocatorOptions options;
  options.command = {"/nonexistent/locality-helper"};
  options.timeout = std::chrono::seconds(5);
  Placement& placement = Make(
      {.locator = std::make_unique<policy::Locator>(io_, std::move(options))});
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_RESTORE, 1, 1, "tape=VOL001")));
  ASSERT_TRUE(RunUntilLocated(1));
  EXPECT_EQ(located_, std::vector<MoverId>{""});
  EXPECT_EQ(Find(1).affinity.str(), "");
}

TEST_F(PlacementTest,
       AnswerAfterStopOrForAnItemNoLongerLocatingChangesNothing) {
  testing_support::TempDir dir("placement-locate");
  std::string table = dir.Join("table");
  std::ofstream(table) << "VOL001 mover1\n";
  movers_ = {{"mover1", MoverPresence::kConnected}};
  Placement& placement = Make({.locator = TableLocator(io_, table)});
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_RESTORE, 1, 1, "tape=VOL001")));
  stopped_ = true;
  placement.OnLocated(Find(1).id(), {"mover1", "", 0});
  EXPECT_EQ(Find(1).affinity, kLocating);
  stopped_ = false;
  ASSERT_TRUE(scheduler_.Reassign(Find(1).id(), "mover2"));
  placement.OnLocated(Find(1).id(), {"mover1", "", 0});  // placed already
  EXPECT_EQ(Find(1).affinity.str(), "mover2");
  placement.OnLocated(ItemId{99, {}}, {"mover1", "", 0});  // unknown
  EXPECT_TRUE(located_.empty());
}

TEST_F(PlacementTest, HeldItemGetsItsOwnAffinityBack) {
  PlacementOptions options;
  options.archive_on_hosts = {{"project=", {"m1"}, 1}};
  movers_ = {{"m1", MoverPresence::kConnected}};
  Placement& placement = Make(std::move(options));
  ASSERT_TRUE(placement.Enqueue(MakeItem(HSMA_ARCHIVE, 1, 1, "project=a")));
  ASSERT_TRUE(scheduler_.Enqueue(MakeItem(HSMA_RESTORE, 2), "gone"));
  ASSERT_TRUE(scheduler_.Enqueue(MakeItem(HSMA_RESTORE, 3), "m1"));
  ASSERT_TRUE(scheduler_.Enqueue(MakeItem(HSMA_RESTORE, 4), kLocating));
  for (uint64_t cookie : {1, 2, 3, 4}) placement.Hold(Find(cookie), true);
  EXPECT_EQ(placement.held(), 3u);  // kLocating is not an affinity of its own
  for (uint64_t cookie : {1, 2, 3, 4}) {
    EXPECT_EQ(Find(cookie).affinity, kChecking) << cookie;
    // Held again (a retry): the affinity kept is still its own.
    placement.Hold(Find(cookie), false);
  }
  for (uint64_t cookie : {1, 2, 3, 4}) placement.GiveBack(Find(cookie));
  EXPECT_EQ(Find(1).affinity.str(), "m1");  // the host rule's mover
  EXPECT_EQ(Find(2).affinity.str(), "");    // a restore's mover gone: any
  EXPECT_EQ(Find(3).affinity.str(), "m1");  // a restore's mover still known
  EXPECT_EQ(Find(4).affinity.str(), "");
  EXPECT_EQ(placement.held(), 0u);

  // Back with its mover (re-announced) or forgotten.
  placement.Hold(Find(1), true);
  EXPECT_EQ(placement.TakeHeldAffinity(Find(1).id()), "m1");
  EXPECT_EQ(placement.TakeHeldAffinity(Find(1).id()), "");
  placement.Hold(Find(3), true);
  placement.ForgetHeld(Find(3).id());
  EXPECT_EQ(placement.held(), 0u);
}

}  // namespace
}  // namespace server
