// Outbox over a real JournalStore whose disk fails (FaultEnv): what needs a
// durable store is held while it cannot persist and leaves, in order, once
// a write and its sync succeeded; what acknowledges nothing still leaves.
#include "store/outbox.h"

#include <gtest/gtest.h>

#include "store/fault_env.h"
#include "store/journal_store.h"
#include "store/test_state.h"

namespace store {
namespace {

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("outbox_test");
    ASSERT_NE(dir_, "");
    JournalOptions options;
    options.dir = dir_ + "/state";
    options.env = &env_;
    std::vector<std::string> warnings;
    std::string error;
    store_ = JournalStore::Open(io_, options, &warnings, &error);
    ASSERT_NE(store_, nullptr) << error;
    outbox_ = std::make_unique<Outbox>(*store_);
    store_->SetHealthCallback([this](bool writable) {
      if (writable) outbox_->OnWritable();
    });
  }
  void TearDown() override {
    outbox_.reset();
    store_.reset();
    RemoveTree(dir_);
  }

  bool RunUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // Whether `key` is in the journal on disk now.
  bool OnDisk(const std::string& key) {
    State state;
    std::string bytes;
    {
      std::unique_ptr<File> file;
      if (PosixEnv()->Open(store_->path(), Env::Mode::kReadOnly, &file) ||
          ReadWhole(*file, &bytes))
        return false;
    }
    bool found = false;
    ScanJournal(bytes, [&](const JournalRecord& r, size_t, size_t) {
      found |= r.key == key;
    });
    return found;
  }

  boost::asio::io_context io_;
  std::string dir_;
  FaultEnv env_;
  std::unique_ptr<JournalStore> store_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(OutboxTest, SendsOnlyWhatIsDurable) {
  int a = 1, b = 2;  // two connections
  std::vector<std::string> sent;
  std::string key1 = RequestKey(1, Fid(1));
  store_->Put(key1, "{}");
  outbox_->Send(&a, true, [&] {
    EXPECT_TRUE(OnDisk(key1));
    sent.push_back("a1");
  });
  ASSERT_TRUE(RunUntil([&] { return sent.size() == 1; }));

  env_.FailWrites(ENOSPC);
  std::string key2 = RequestKey(2, Fid(2));
  store_->Put(key2, "{}");
  outbox_->Send(&a, true, [&] {
    EXPECT_TRUE(OnDisk(key2));  // never before its record is durable
    sent.push_back("a2");
  });
  ASSERT_TRUE(RunUntil([&] { return !store_->writable(); }));
  // Acknowledging nothing: leaves although nothing is durable, unless its
  // connection has a message held.
  outbox_->Send(&b, false, [&] { sent.push_back("b status"); });
  outbox_->Send(&a, false, [&] { sent.push_back("a status"); });
  outbox_->Send(&b, true, [&] { sent.push_back("b2"); });
  EXPECT_EQ(sent, (std::vector<std::string>{"a1", "b status"}));
  EXPECT_EQ(outbox_->held(), 3u);
  // Retries fail: still held.
  ASSERT_TRUE(RunUntil([&] { return env_.failed_writes() >= 3; }));
  EXPECT_EQ(sent.size(), 2u);
  env_.Heal();
  ASSERT_TRUE(RunUntil([&] { return sent.size() == 5; }));
  EXPECT_EQ(sent, (std::vector<std::string>{"a1", "b status", "a2", "a status",
                                            "b2"}));
  EXPECT_EQ(outbox_->held(), 0u);
}

}  // namespace
}  // namespace store
