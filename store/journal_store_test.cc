// JournalStore: round trip, group commit, torn tails, compaction.
#include "store/journal_store.h"

#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "store/test_state.h"

namespace store {
namespace {

class JournalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/journal_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    options_.dir = dir_ + "/state/lustre";
  }
  void TearDown() override {
    store_.reset();
    nftw(
        dir_.c_str(),
        [](const char* path, const struct stat*, int, FTW*) {
          return remove(path);
        },
        16, FTW_DEPTH | FTW_PHYS);
  }

  void Open() {
    store_.reset();
    warnings_.clear();
    std::string error;
    store_ = JournalStore::Open(io_, options_, &warnings_, &error);
    ASSERT_NE(store_, nullptr) << error;
  }

  // Runs the loop until `done` has been called by a Sync().
  bool SyncNow() {
    bool called = false, durable = false;
    store_->Sync([&](bool ok) {
      called = true;
      durable = ok;
    });
    // The loop may run out of handlers while the writer thread works.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!called && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(50));
    }
    return called && durable;
  }

  State Load() {
    State state;
    std::string error;
    EXPECT_TRUE(store_->Load(state, &error)) << error;
    return state;
  }

  uint64_t FileSize() {
    struct stat st {};
    stat(store_->path().c_str(), &st);
    return static_cast<uint64_t>(st.st_size);
  }

  boost::asio::io_context io_;
  std::string dir_;
  JournalOptions options_;
  std::vector<std::string> warnings_;
  std::unique_ptr<JournalStore> store_;
};

TEST(RequestKeyTest, IsTheOriginalRedisFieldName) {
  // reference-behaviour §13's example.
  EXPECT_EQ(RequestKey(0x65a1b2c4, {0x200000401, 0x2a, 0}),
            "0000000065a1b2c400000002000004010000002a00000000");
}

TEST_F(JournalStoreTest, ChangesSurviveAReopen) {
  Open();
  store_->Put(RequestKey(1, Fid(1)), R"({"a":1})");
  store_->Put(RequestKey(2, Fid(2)), R"({"a":2})");
  store_->Put(RequestKey(3, Fid(3)), R"({"a":3})");
  store_->Assign(RequestKey(1, Fid(1)), "m1");
  store_->Assign(RequestKey(2, Fid(2)), "m2");
  store_->Unassign(RequestKey(2, Fid(2)));
  store_->Forget(RequestKey(3, Fid(3)));
  ASSERT_TRUE(SyncNow());
  Open();
  EXPECT_TRUE(warnings_.empty());
  State state = Load();
  EXPECT_EQ(state.requests, (std::map<std::string, std::string>{
                                {RequestKey(1, Fid(1)), R"({"a":1})"},
                                {RequestKey(2, Fid(2)), R"({"a":2})"}}));
  EXPECT_EQ(
      state.assigned,
      (std::map<std::string, std::string>{{RequestKey(1, Fid(1)), "m1"}}));
}

TEST_F(JournalStoreTest, ChangesOfOneLoopTurnShareOneWriteAndSync) {
  Open();
  for (uint32_t i = 0; i < 1000; ++i) store_->Put(RequestKey(i, Fid(i)), "{}");
  int durable = 0;
  for (int i = 0; i < 10; ++i) store_->Sync([&](bool ok) { durable += ok; });
  ASSERT_TRUE(SyncNow());
  EXPECT_EQ(durable, 10);
  EXPECT_EQ(store_->stats().batches, 1u);
  EXPECT_EQ(store_->stats().records, 1000u);
  // Nothing outstanding: Sync answers at once.
  bool now = false;
  store_->Sync([&](bool ok) { now = ok; });
  EXPECT_TRUE(now);
}

TEST_F(JournalStoreTest, TornTailIsReportedAndCut) {
  Open();
  store_->Put(RequestKey(1, Fid(1)), R"({"a":1})");
  ASSERT_TRUE(SyncNow());
  store_->Put(RequestKey(2, Fid(2)), R"({"a":2})");
  ASSERT_TRUE(SyncNow());
  uint64_t size = FileSize();
  store_.reset();
  // A crash in the middle of the second record's write.
  ASSERT_EQ(truncate((options_.dir + "/journal").c_str(),
                     static_cast<off_t>(size - 3)),
            0);
  Open();
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("torn tail at offset"), std::string::npos)
      << warnings_[0];
  EXPECT_NE(warnings_[0].find("runs past the end"), std::string::npos)
      << warnings_[0];
  State state = Load();
  EXPECT_EQ(state.requests.size(), 1u);
  EXPECT_TRUE(state.requests.contains(RequestKey(1, Fid(1))));
  // Appends go on after the cut, and a reopen sees a clean journal.
  store_->Put(RequestKey(3, Fid(3)), R"({"a":3})");
  ASSERT_TRUE(SyncNow());
  Open();
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(Load().requests.size(), 2u);
}

TEST_F(JournalStoreTest, CorruptRecordEndsTheReplay) {
  Open();
  for (uint32_t i = 0; i < 3; ++i) store_->Put(RequestKey(i, Fid(i)), "{}");
  ASSERT_TRUE(SyncNow());
  uint64_t size = FileSize();
  store_.reset();
  {
    // Flip a byte inside the last record.
    int fd = open((options_.dir + "/journal").c_str(), O_RDWR);
    char c = 'X';
    ASSERT_EQ(pwrite(fd, &c, 1, static_cast<off_t>(size - 2)), 1);
    close(fd);
  }
  Open();
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("checksum mismatch"), std::string::npos);
  EXPECT_EQ(Load().requests.size(), 2u);
}

TEST_F(JournalStoreTest, CompactionKeepsTheLiveStateAndShrinksTheFile) {
  options_.min_compact_bytes = 64 << 10;
  options_.compact_ratio = 4;
  Open();
  std::string json(200, 'x');
  for (uint32_t round = 0; round < 50; ++round) {
    for (uint32_t i = 0; i < 100; ++i) {
      std::string key = RequestKey(round * 100 + i, Fid(i));
      store_->Put(key, json);
      store_->Assign(key, "m");
      if (i >= 2) store_->Forget(key);
    }
    ASSERT_TRUE(SyncNow());
  }
  EXPECT_GE(store_->stats().compactions, 1u);
  EXPECT_LT(FileSize(), 200u << 10);
  State before = Load();
  EXPECT_EQ(before.requests.size(), 100u);  // 2 per round
  EXPECT_EQ(before.assigned.size(), 100u);
  Open();
  EXPECT_TRUE(warnings_.empty());
  State after = Load();
  EXPECT_EQ(after.requests, before.requests);
  EXPECT_EQ(after.assigned, before.assigned);
}

// The store keeps only where each key's latest records are; a compaction
// copies them from the journal. Random changes, some made while a
// compaction is in flight, over RequestKey()s and other keys: the compacted
// journal replays to the live state exactly, before and after a reopen.
TEST_F(JournalStoreTest, CompactionReproducesTheLiveStateExactly) {
  options_.min_compact_bytes = 16 << 10;
  options_.compact_ratio = 2;
  Open();
  std::mt19937 random(42);
  std::vector<std::string> keys;
  for (uint32_t i = 0; i < 150; ++i) {
    keys.push_back(RequestKey(i, Fid(i)));
    keys.push_back("key-" + std::to_string(i));
  }
  State model;
  auto change = [&] {
    const std::string& key = keys[random() % keys.size()];
    switch (random() % 6) {
      case 0:
      case 1: {
        std::string json = "{\"v\":" + std::to_string(random()) + "," +
                           std::string(random() % 300,
                                       static_cast<char>('a' + random() % 26)) +
                           "}";
        store_->Put(key, json);
        model.requests[key] = json;
        break;
      }
      case 2:
      case 3: {
        std::string mover = "mover" + std::to_string(random() % 5);
        store_->Assign(key, mover);
        model.assigned[key] = mover;
        break;
      }
      case 4:
        store_->Unassign(key);
        model.assigned.erase(key);
        break;
      default:
        store_->Forget(key);
        model.requests.erase(key);
        model.assigned.erase(key);
    }
  };
  auto replayed = [&] {
    std::ifstream in(store_->path(), std::ios::binary);
    std::stringstream data;
    data << in.rdbuf();
    State state;
    std::string why;
    std::string bytes = data.str();
    EXPECT_EQ(ReplayJournal(
                  bytes,
                  [&](const JournalRecord& r) {
                    std::string key(r.key);
                    if (r.type == 'P') state.requests[key] = r.value;
                    if (r.type == 'A') state.assigned[key] = r.value;
                    if (r.type == 'U') state.assigned.erase(key);
                    if (r.type == 'F') {
                      state.requests.erase(key);
                      state.assigned.erase(key);
                    }
                  },
                  &why),
              bytes.size())
        << why;
    return state;
  };
  for (int reopen = 0; reopen < 3; ++reopen) {
    uint64_t compactions = store_->stats().compactions;
    for (int round = 0; round < 200; ++round) {
      for (int i = 0; i < 50; ++i) change();
      // Mostly let the writer work while changes go on.
      if (round % 10 == 9) {
        ASSERT_TRUE(SyncNow());
      } else {
        io_.restart();
        io_.poll();
      }
    }
    ASSERT_TRUE(SyncNow());
    EXPECT_GE(store_->stats().compactions, compactions + 2);
    State loaded = Load();
    EXPECT_EQ(loaded.requests, model.requests);
    EXPECT_EQ(loaded.assigned, model.assigned);
    State file = replayed();
    EXPECT_EQ(file.requests, model.requests);
    EXPECT_EQ(file.assigned, model.assigned);
    Open();
    EXPECT_TRUE(warnings_.empty());
    State reopened = Load();
    EXPECT_EQ(reopened.requests, model.requests);
    EXPECT_EQ(reopened.assigned, model.assigned);
  }
  // A snapshot holds one record per live request and assignment.
  store_->Put(keys[0], "{}");
  model.requests[keys[0]] = "{}";
  options_.min_compact_bytes = 0;
  options_.compact_ratio = 1;
  Open();
  store_->Put(keys[0], "{}");
  ASSERT_TRUE(SyncNow());
  EXPECT_EQ(store_->stats().compactions, 1u);
  uint64_t records = 0;
  {
    std::ifstream in(store_->path(), std::ios::binary);
    std::stringstream data;
    data << in.rdbuf();
    std::string why;
    ReplayJournal(
        data.str(), [&](const JournalRecord&) { ++records; }, &why);
  }
  EXPECT_EQ(records, model.requests.size() + model.assigned.size());
  State file = replayed();
  EXPECT_EQ(file.requests, model.requests);
  EXPECT_EQ(file.assigned, model.assigned);
}

TEST_F(JournalStoreTest, SecondOpenOfOneDirectoryIsRefused) {
  Open();
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_EQ(JournalStore::Open(io_, options_, &warnings, &error), nullptr);
  EXPECT_EQ(error, options_.dir + " is in use by another coordinatool");
}

TEST_F(JournalStoreTest, CloseWritesWhatIsPending) {
  Open();
  store_->Put(RequestKey(9, Fid(9)), "{}");
  store_->Close(5000);
  Open();
  EXPECT_EQ(Load().requests.size(), 1u);
}

}  // namespace
}  // namespace store
