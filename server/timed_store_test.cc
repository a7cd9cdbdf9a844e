// TimedStore around a real JournalStore: syncs after changes are timed from
// the call to the callback on the injected clock; syncs without changes are
// not.
#include "server/timed_store.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <vector>

#include "store/journal_store.h"
#include "tests/support/temp_dir.h"

namespace server {
namespace {

using namespace std::chrono_literals;

class TimedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::JournalOptions options;
    options.dir = dir_.Join("journal");
    std::vector<std::string> warnings;
    std::string error;
    auto journal = store::JournalStore::Open(io_, options, &warnings, &error);
    ASSERT_NE(journal, nullptr) << error;
    store_ = std::make_unique<TimedStore>(
        std::move(journal), clock_,
        [this](double seconds) { observed_.push_back(seconds); });
  }
  void TearDown() override {
    if (store_) store_->Close(1000);
  }
  // Syncs, steps the clock by `step` while the store works, and runs the
  // loop until the callback (bounded).
  bool SyncAndWait(std::chrono::nanoseconds step) {
    bool called = false, durable = false;
    store_->Sync([&](bool ok) {
      called = true;
      durable = ok;
    });
    clock_.Advance(step);
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!called && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(50ms);
    }
    return called && durable;
  }

  testing_support::TempDir dir_{"timed_store"};
  boost::asio::io_context io_;
  common::ManualClock clock_;
  std::vector<double> observed_;
  std::unique_ptr<TimedStore> store_;
};

TEST_F(TimedStoreTest, TimesSyncsAfterChanges) {
  std::string error;
  struct None : store::LoadVisitor {
    void OnRequest(std::string_view, std::string_view, store::Handle) override {
    }
    void OnAssignment(std::string_view, std::string_view,
                      store::Handle) override {}
  } none;
  ASSERT_TRUE(store_->Load(none, &error)) << error;
  store_->Put("k1", "{}");
  store_->Assign("k1", "m1");
  ASSERT_TRUE(SyncAndWait(3ms));
  ASSERT_EQ(observed_.size(), 1u);
  EXPECT_DOUBLE_EQ(observed_[0], 0.003);
  // Nothing changed since: answered, not timed.
  ASSERT_TRUE(SyncAndWait(5ms));
  EXPECT_EQ(observed_.size(), 1u);
  store_->Forget("k1");
  ASSERT_TRUE(SyncAndWait(2ms));
  ASSERT_EQ(observed_.size(), 2u);
  EXPECT_DOUBLE_EQ(observed_[1], 0.002);
  EXPECT_EQ(store_->Describe(), store_->inner().Describe());
}

}  // namespace
}  // namespace server
