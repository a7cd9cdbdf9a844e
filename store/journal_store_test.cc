// JournalStore: round trip, group commit, torn tails, damage in the middle,
// faults of the disk (through FaultEnv), compaction.
#include "store/journal_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "store/fault_env.h"
#include "store/test_state.h"

namespace store {
namespace {

class JournalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("journal_test");
    ASSERT_NE(dir_, "");
    options_.dir = dir_ + "/state/lustre";
  }
  void TearDown() override {
    store_.reset();
    RemoveTree(dir_);
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

  // What the open store loads is `model`, and so is what a reopen of its
  // directory loads, without a warning.
  void ExpectLoadsAndReopensAs(const State& model) {
    State loaded = Load();
    EXPECT_EQ(loaded.requests, model.requests);
    EXPECT_EQ(loaded.assigned, model.assigned);
    Open();
    EXPECT_TRUE(warnings_.empty());
    State reopened = Load();
    EXPECT_EQ(reopened.requests, model.requests);
    EXPECT_EQ(reopened.assigned, model.assigned);
  }

  // Runs the loop until `done` holds, for at most `bound`.
  bool RunUntil(const std::function<bool()>& done,
                std::chrono::milliseconds bound = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream data;
    data << in.rdbuf();
    return data.str();
  }
  void WriteBytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  // Files of the state directory whose name starts with `prefix`.
  std::vector<std::string> Files(const std::string& prefix) {
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(options_.dir))
      if (entry.path().filename().string().rfind(prefix, 0) == 0)
        found.push_back(entry.path());
    return found;
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
  // docs/redis.md's example.
  EXPECT_EQ(RequestKey(0x65a1b2c4, {0x200000401, 0x2a, 0}),
            "0000000065a1b2c400000002000004010000002a00000000");
  // Every digit of every field, the largest values included.
  const lu_fid max{~uint64_t{0}, ~uint32_t{0}, ~uint32_t{0}};
  EXPECT_EQ(RequestKey(~uint64_t{0}, max), std::string(48, 'f'));
  EXPECT_EQ(RequestKey(0x0123456789abcdef, {0xfedcba9876543210, 0x1, 0x80}),
            "0123456789abcdeffedcba98765432100000000100000080");
}

TEST(RequestKeyTest, RequestKeyTextIsTheSameKey) {
  const lu_fid fid{0xfedcba9876543210, 0x1, 0x80};
  const RequestKeyText text(0x0123456789abcdef, fid);
  EXPECT_EQ(std::string_view(text), RequestKey(0x0123456789abcdef, fid));
  EXPECT_EQ(std::string_view(RequestKeyText(0, {})), std::string(48, '0'));
}

TEST(RequestKeyTest, IsRequestKeyComparesWithoutBuildingTheKey) {
  const lu_fid fid{0x200000401, 0x2a, 0};
  const std::string key = RequestKey(7, fid);
  EXPECT_TRUE(IsRequestKey(key, 7, fid));
  EXPECT_FALSE(IsRequestKey(key, 8, fid));
  EXPECT_FALSE(IsRequestKey(key, 7, {0x200000401, 0x2a, 1}));
  EXPECT_FALSE(IsRequestKey(key.substr(1), 7, fid));
  EXPECT_FALSE(IsRequestKey(key + "0", 7, fid));
  std::string upper = key;
  upper[upper.find('a')] = 'A';  // of 0x2a: keys are lowercase
  EXPECT_FALSE(IsRequestKey(upper, 7, fid));
}

// A record whose value is appended in place is, byte for byte, the record
// EncodeJournalRecord() makes, after whatever the buffer held.
TEST(JournalFormatTest, ARecordBegunAndFinishedIsTheEncodedRecord) {
  const std::string key = RequestKey(7, {0x200000401, 0x2a, 0});
  for (const std::string& value :
       {std::string(), std::string("{}"), std::string(5000, 'v')}) {
    std::string encoded = "earlier";
    const std::string_view view = value;
    EncodeJournalRecord(&encoded, 'P', key, &view);
    std::string written = "earlier";
    const size_t start = BeginJournalRecord(&written, 'P', key);
    EXPECT_EQ(start, 7u);
    written += value;
    FinishJournalRecord(&written, start, key.size());
    EXPECT_EQ(written, encoded) << value.size();
  }
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

// Issue 10 (4): one damaged byte in the middle used to end the replay there
// and cut everything after it. Now it costs that record only: the request
// it names is dropped (Lustre is the truth for it) and reported with its
// cookie and FID, the 99 others stay, the damaged file is kept aside
// unchanged, and the rewritten journal is clean.
TEST_F(JournalStoreTest, DamagedRecordInTheMiddleCostsThatRecordOnly) {
  Open();
  for (uint32_t i = 0; i < 100; ++i)
    store_->Put(RequestKey(i, Fid(i)), R"({"n":)" + std::to_string(i) + "}");
  store_->Assign(RequestKey(7, Fid(7)), "m1");
  ASSERT_TRUE(SyncNow());
  store_.reset();
  std::string file = options_.dir + "/journal";
  std::string bytes = ReadBytes(file);
  // A byte of the JSON of request 50's record.
  size_t at = bytes.find(R"({"n":50})");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] ^= 0x80;
  WriteBytes(file, bytes);
  Open();
  std::string all;
  for (const std::string& w : warnings_) all += w + "\n";
  EXPECT_NE(all.find("checksum mismatch"), std::string::npos) << all;
  EXPECT_NE(all.find("cookie 0x32 fid [0x200000401:0x32:0x0]"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("hsm.active_requests"), std::string::npos) << all;
  State state = Load();
  EXPECT_EQ(state.requests.size(), 99u);
  EXPECT_FALSE(state.requests.contains(RequestKey(50, Fid(50))));
  EXPECT_EQ(state.requests[RequestKey(99, Fid(99))], R"({"n":99})");
  EXPECT_EQ(
      state.assigned,
      (std::map<std::string, std::string>{{RequestKey(7, Fid(7)), "m1"}}));
  // Kept aside as it was, before anything was written.
  auto aside = Files("journal.damaged.");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(ReadBytes(aside[0]), bytes);
  // Clean from now on, and appends go on.
  store_->Put(RequestKey(200, Fid(200)), "{}");
  ASSERT_TRUE(SyncNow());
  Open();
  EXPECT_TRUE(warnings_.empty()) << warnings_[0];
  EXPECT_EQ(Load().requests.size(), 100u);
}

// Bytes of a small journal damaged in turn (every byte of the Forget and
// of the last record, every third elsewhere): each time exactly the record
// holding that byte is lost, its request is dropped whenever its key
// can be read, and nothing else changes. A lost Forget never brings its
// request back when the key is readable.
TEST_F(JournalStoreTest, DamageAtAnyOffsetCostsOneRecordOnly) {
  std::string key[4];
  for (uint32_t i = 0; i < 4; ++i) key[i] = RequestKey(i + 1, Fid(i + 1));
  Open();
  store_->Put(key[0], R"({"a":1})");
  store_->Put(key[1], R"({"a":2})");
  store_->Assign(key[0], "m1");
  store_->Put(key[2], R"({"a":3})");
  store_->Assign(key[1], "m2");
  store_->Unassign(key[1]);
  store_->Forget(key[2]);
  store_->Put(key[3], R"({"a":4})");
  store_->Assign(key[3], "m4");
  ASSERT_TRUE(SyncNow());
  store_.reset();
  const std::string clean = ReadBytes(options_.dir + "/journal");
  struct Rec {
    JournalRecord r;
    size_t at, size;
  };
  std::vector<Rec> records;
  ScanJournal(clean, [&](const JournalRecord& r, size_t at, size_t size) {
    records.push_back({r, at, size});
  });
  ASSERT_EQ(records.size(), 9u);
  auto replay_without = [&](size_t skip) {
    State s;
    for (size_t i = 0; i < records.size(); ++i) {
      if (i == skip) continue;
      std::string k(records[i].r.key);
      switch (records[i].r.type) {
        case 'P':
          s.requests[k] = records[i].r.value;
          break;
        case 'A':
          s.assigned[k] = records[i].r.value;
          break;
        case 'U':
          s.assigned.erase(k);
          break;
        case 'F':
          s.requests.erase(k);
          s.assigned.erase(k);
      }
    }
    return s;
  };
  const std::string root = options_.dir;
  for (size_t offset = 0; offset < clean.size(); ++offset) {
    SCOPED_TRACE("damaged byte at offset " + std::to_string(offset));
    // A damaged header costs no record.
    bool header = offset < kJournalMagic.size();
    size_t d = header ? records.size() : 0;
    while (!header && records[d].at + records[d].size <= offset) ++d;
    if (!header && offset % 3 != 0 && records[d].r.type != 'F' &&
        d + 1 != records.size())
      continue;
    // The key's bytes: after length (4), crc (4), type (1), key length (4).
    size_t key_at = header ? 0 : records[d].at + 13;
    bool readable = !header && (offset < key_at || offset >= key_at + 48);
    State expected = replay_without(d);
    if (readable) {
      expected.requests.erase(std::string(records[d].r.key));
      expected.assigned.erase(std::string(records[d].r.key));
    }
    options_.dir = root + "/o" + std::to_string(offset);
    std::filesystem::create_directories(options_.dir);
    std::string bytes = clean;
    bytes[offset] ^= 0x80;
    WriteBytes(options_.dir + "/journal", bytes);
    Open();
    ASSERT_FALSE(warnings_.empty());
    State state = Load();
    EXPECT_EQ(state.requests, expected.requests);
    EXPECT_EQ(state.assigned, expected.assigned);
    if (readable) {
      std::string all;
      for (const std::string& w : warnings_) all += w + "\n";
      EXPECT_NE(all.find(DescribeRequestKey(records[d].r.key)),
                std::string::npos)
          << all;
    }
    // Damage in the middle is kept aside; the last record is a torn tail.
    bool last = d + 1 == records.size();
    EXPECT_EQ(Files("journal.damaged.").size(), last ? 0u : 1u);
    EXPECT_EQ(Files("journal.tail.").size(), last ? 1u : 0u);
    // Clean after the repair: a reopen finds the same, silently.
    Open();
    EXPECT_TRUE(warnings_.empty());
    State again = Load();
    EXPECT_EQ(again.requests, expected.requests);
    EXPECT_EQ(again.assigned, expected.assigned);
    store_.reset();
  }
}

// Issue 10 (6): with the disk full the store used to declare itself
// writable before each retry (the health flapped and requests read in
// those windows were served with nothing written). Now it stays unwritable
// through every failed retry, Sync() answers "not durable", and it is
// writable again only once a write and its sync succeeded; then everything
// is in the journal once, in order.
TEST_F(JournalStoreTest, DiskFullKeepsTheStoreUnwritableUntilAWriteSucceeds) {
  for (int error : {ENOSPC, EIO, EFBIG}) {
    SCOPED_TRACE(strerror(error));
    FaultEnv env;
    options_.env = &env;
    options_.dir = dir_ + "/full" + std::to_string(error);
    Open();
    std::vector<bool> health;
    store_->SetHealthCallback([&](bool ok) { health.push_back(ok); });
    store_->Put(RequestKey(1, Fid(1)), "{}");
    ASSERT_TRUE(SyncNow());
    env.FailWrites(error);
    store_->Put(RequestKey(2, Fid(2)), R"({"b":2})");
    EXPECT_FALSE(SyncNow());
    EXPECT_FALSE(store_->writable());
    // Three retries (100 + 200 + 400 ms) fail: no flapping.
    ASSERT_TRUE(RunUntil([&] { return env.failed_writes() >= 4; }));
    EXPECT_EQ(health, std::vector<bool>{false});
    EXPECT_FALSE(store_->writable());
    bool answered = false, durable = true;
    store_->Sync([&](bool ok) {
      answered = true;
      durable = ok;
    });
    EXPECT_TRUE(answered);
    EXPECT_FALSE(durable);
    // Changes made meanwhile queue behind.
    store_->Forget(RequestKey(1, Fid(1)));
    store_->Put(RequestKey(3, Fid(3)), R"({"c":3})");
    uint64_t syncs = env.syncs();
    env.Heal();
    ASSERT_TRUE(RunUntil([&] { return store_->writable(); }));
    EXPECT_GT(env.syncs(), syncs);  // writable only after a sync
    EXPECT_EQ(health, (std::vector<bool>{false, true}));
    ASSERT_TRUE(SyncNow());
    Open();
    EXPECT_TRUE(warnings_.empty());
    State state = Load();
    EXPECT_EQ(state.requests, (std::map<std::string, std::string>{
                                  {RequestKey(2, Fid(2)), R"({"b":2})"},
                                  {RequestKey(3, Fid(3)), R"({"c":3})"}}));
    store_.reset();
  }
}

// An fdatasync that fails (EIO): the batch is not durable, the store is
// unwritable, and the retry writes the batch again before syncing again.
TEST_F(JournalStoreTest, FailedSyncIsAFailedWrite) {
  FaultEnv env;
  options_.env = &env;
  Open();
  env.FailSyncs(EIO);
  store_->Put(RequestKey(1, Fid(1)), "{}");
  EXPECT_FALSE(SyncNow());
  EXPECT_FALSE(store_->writable());
  ASSERT_TRUE(RunUntil([&] { return env.failed_syncs() >= 2; }));
  EXPECT_FALSE(store_->writable());
  env.Heal();
  ASSERT_TRUE(RunUntil([&] { return store_->writable(); }));
  ASSERT_TRUE(SyncNow());
  Open();
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(Load().requests.size(), 1u);
  // One record, not one per attempt.
  std::string why;
  size_t records = 0;
  ReplayJournal(
      ReadBytes(store_->path()), [&](const JournalRecord&) { ++records; },
      &why);
  EXPECT_EQ(records, 1u);
}

// A write cut short (part of the batch on disk, then ENOSPC): the partial
// batch is cut, nothing is durable until the retry succeeds, and the
// journal replays clean, each record once.
TEST_F(JournalStoreTest, ShortWriteIsCutAndRetried) {
  FaultEnv env;
  options_.env = &env;
  Open();
  store_->Put(RequestKey(1, Fid(1)), "{}");
  ASSERT_TRUE(SyncNow());
  uint64_t size = FileSize();
  env.FailWrites(ENOSPC, 70);  // about one record of the next batch
  for (uint32_t i = 2; i < 6; ++i) store_->Put(RequestKey(i, Fid(i)), "{}");
  EXPECT_FALSE(SyncNow());
  EXPECT_FALSE(store_->writable());
  EXPECT_EQ(FileSize(), size);  // the partial batch was cut
  env.Heal();
  ASSERT_TRUE(RunUntil([&] { return store_->writable(); }));
  ASSERT_TRUE(SyncNow());
  Open();
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(Load().requests.size(), 5u);
  std::string why;
  std::string bytes = ReadBytes(store_->path());
  size_t records = 0;
  EXPECT_EQ(ReplayJournal(
                bytes, [&](const JournalRecord&) { ++records; }, &why),
            bytes.size())
      << why;
  EXPECT_EQ(records, 5u);
}

// A compaction that fails (no room for the snapshot) leaves the batch
// before it durable and the store writable; the journal stays whole.
TEST_F(JournalStoreTest, FailedCompactionKeepsTheStoreWritable) {
  FaultEnv env;
  options_.env = &env;
  options_.min_compact_bytes = 4 << 10;
  options_.compact_ratio = 1;
  Open();
  for (uint32_t i = 0; i < 10; ++i)
    store_->Put(RequestKey(i, Fid(i)), std::string(300, 'x'));
  ASSERT_TRUE(SyncNow());
  for (uint32_t i = 0; i < 10; ++i)
    store_->Put(RequestKey(i, Fid(i)), std::string(300, 'y'));
  // This batch passes, the snapshot after it does not.
  env.FailWrites(ENOSPC, 3700);
  EXPECT_TRUE(SyncNow());
  EXPECT_TRUE(store_->writable());
  EXPECT_EQ(store_->stats().compactions, 0u);
  EXPECT_TRUE(Files("journal.tmp").empty());
  env.Heal();
  Open();
  EXPECT_TRUE(warnings_.empty());
  State state = Load();
  EXPECT_EQ(state.requests.size(), 10u);
  EXPECT_EQ(state.requests[RequestKey(3, Fid(3))], std::string(300, 'y'));
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

// What Load() reports, in its order, and the count it announced.
struct Visits : LoadVisitor {
  std::vector<std::string> requests, assigned;
  std::vector<size_t> expected;  // ExpectRequests() calls
  size_t expected_before_first = 0;
  void ExpectRequests(size_t count) override {
    expected.push_back(count);
    expected_before_first = requests.size();
  }
  void OnRequest(std::string_view key, std::string_view json, Handle) override {
    requests.push_back(std::string(key) + "=" + std::string(json));
  }
  void OnAssignment(std::string_view key, std::string_view mover,
                    Handle) override {
    assigned.push_back(std::string(key) + "=" + std::string(mover));
  }
};

// Requests come back in journal order (the order of each one's latest
// Put: arrival order, which the server would otherwise sort), before and
// after a compaction and a reopen, and their number is announced first.
TEST_F(JournalStoreTest, LoadVisitsInJournalOrderAndAnnouncesTheCount) {
  options_.min_compact_bytes = 4 << 10;
  options_.compact_ratio = 1;
  Open();
  std::vector<std::string> order, assigned;
  std::mt19937 random(7);
  for (uint32_t i = 0; i < 300; ++i) {
    // Keys in no order of their own, packed or not.
    std::string key = i % 10 == 3 ? "key-" + std::to_string(random())
                                  : RequestKey(random(), Fid(random()));
    std::string json = "{\"n\":" + std::to_string(i) + "}";
    store_->Put(key, json);
    order.push_back(key + "=" + json);
    if (i % 7 == 0) {
      store_->Assign(key, "m" + std::to_string(i));
      assigned.push_back(key + "=m" + std::to_string(i));
    }
    if (i % 5 == 0) {
      store_->Forget(key);
      order.pop_back();
      if (i % 7 == 0) assigned.pop_back();
    }
    if (i % 50 == 0) {
      ASSERT_TRUE(SyncNow());
    }
  }
  // A Put again moves a request to the end.
  const std::string moved = order[10].substr(0, order[10].find('='));
  store_->Put(moved, "{\"n\":-1}");
  order.erase(order.begin() + 10);
  order.push_back(moved + "={\"n\":-1}");
  ASSERT_TRUE(SyncNow());
  EXPECT_GE(store_->stats().compactions, 1u);
  for (int reopen = 0; reopen < 2; ++reopen) {
    Visits visits;
    std::string error;
    ASSERT_TRUE(store_->Load(visits, &error)) << error;
    EXPECT_EQ(visits.requests, order);
    EXPECT_EQ(visits.assigned, assigned);
    EXPECT_EQ(visits.expected, std::vector<size_t>{order.size()});
    EXPECT_EQ(visits.expected_before_first, 0u);
    Open();
  }
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
    State file = replayed();
    EXPECT_EQ(file.requests, model.requests);
    EXPECT_EQ(file.assigned, model.assigned);
    ExpectLoadsAndReopensAs(model);
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

// File::CopyFrom copies inside the kernel between two files of the POSIX
// Env; a File that cannot (here FaultEnv's) says so and writes nothing, and
// CopyFully says when the source ends early.
TEST_F(JournalStoreTest, CopyFullyCopiesInTheKernelOrSaysItCannot) {
  std::string bytes;
  for (uint32_t i = 0; bytes.size() < (300u << 10); ++i)
    bytes += std::to_string(i * 2654435761u) + ",";
  std::unique_ptr<File> from, to;
  ASSERT_EQ(PosixEnv()->Open(dir_ + "/from", Env::Mode::kTruncate, &from), 0);
  ASSERT_EQ(WriteFully(*from, 0, bytes), 0);
  ASSERT_EQ(PosixEnv()->Open(dir_ + "/to", Env::Mode::kTruncate, &to), 0);
  ASSERT_EQ(WriteFully(*to, 0, "head"), 0);
  ASSERT_EQ(CopyFully(*from, 1000, *to, 4, 200'000), 0);
  EXPECT_EQ(ReadBytes(dir_ + "/to"), "head" + bytes.substr(1000, 200'000));

  EXPECT_EQ(CopyFully(*from, bytes.size() - 10, *to, 0, 20), EIO);

  FaultEnv env;
  std::unique_ptr<File> faulty;
  ASSERT_EQ(env.Open(dir_ + "/faulty", Env::Mode::kTruncate, &faulty), 0);
  EXPECT_EQ(CopyFully(*from, 0, *faulty, 0, 100), EOPNOTSUPP);
  EXPECT_EQ(ReadBytes(dir_ + "/faulty"), "");
}

// A file is mapped where it can be (PosixEnv), read into memory where not
// (FaultEnv's files do not map), with the same bytes either way; pages
// given back behind a reader leave the rest readable.
TEST_F(JournalStoreTest, ReadWholeMapsOrReadsTheSameBytes) {
  std::string bytes;
  for (uint32_t i = 0; bytes.size() < (200u << 10); ++i)
    bytes += std::to_string(i * 2654435761u) + ",";
  ASSERT_EQ(PosixEnv()->MakeDirs(dir_), 0);
  std::unique_ptr<File> file;
  ASSERT_EQ(PosixEnv()->Open(dir_ + "/f", Env::Mode::kTruncate, &file), 0);
  ASSERT_EQ(WriteFully(*file, 0, bytes), 0);

  FileBytes mapped;
  ASSERT_EQ(ReadWhole(*file, &mapped), 0);
  EXPECT_TRUE(mapped.mapped());
  EXPECT_TRUE(mapped.view() == bytes);
  mapped.Release(0, 100'000);
  EXPECT_TRUE(mapped.view().substr(100'000) == bytes.substr(100'000));
  FileBytes moved = std::move(mapped);
  EXPECT_TRUE(mapped.empty());
  EXPECT_TRUE(moved.view().substr(150'000) == bytes.substr(150'000));

  FaultEnv env;
  std::unique_ptr<File> unmappable;
  ASSERT_EQ(env.Open(dir_ + "/f", Env::Mode::kReadOnly, &unmappable), 0);
  FileBytes read;
  ASSERT_EQ(ReadWhole(*unmappable, &read), 0);
  EXPECT_FALSE(read.mapped());
  EXPECT_TRUE(read.view() == bytes);
  read.Release(0, bytes.size());  // held bytes stay
  EXPECT_TRUE(read.view() == bytes);

  std::unique_ptr<File> empty;
  ASSERT_EQ(PosixEnv()->Open(dir_ + "/e", Env::Mode::kTruncate, &empty), 0);
  FileBytes none = std::string("stale");
  ASSERT_EQ(ReadWhole(*empty, &none), 0);
  EXPECT_TRUE(none.empty());
}

// The estimate that sizes the replay's index: Puts less Forgets, from the
// headers, up to the first thing that is not a record.
TEST(EstimateLiveRequestsTest, CountsPutsLessForgetsUpToDamage) {
  std::string journal(kJournalMagic);
  const std::string_view value = "{}";
  for (int i = 0; i < 5; ++i)
    EncodeJournalRecord(&journal, 'P', RequestKey(i, Fid(i)), &value);
  EncodeJournalRecord(&journal, 'A', RequestKey(0, Fid(0)), &value);
  EncodeJournalRecord(&journal, 'F', RequestKey(1, Fid(1)), nullptr);
  EncodeJournalRecord(&journal, 'U', RequestKey(0, Fid(0)), nullptr);
  EXPECT_EQ(EstimateLiveRequests(journal), 4u);
  const size_t clean = journal.size();
  journal += std::string(4, '\xff');  // a length past the end
  EncodeJournalRecord(&journal, 'P', RequestKey(9, Fid(9)), &value);
  EXPECT_EQ(EstimateLiveRequests(journal), 4u);
  EXPECT_EQ(EstimateLiveRequests(journal.substr(0, clean - 3)), 4u);
  EXPECT_EQ(EstimateLiveRequests("not a journal"), 0u);
  EXPECT_EQ(EstimateLiveRequests(""), 0u);
}

// A compaction copies long runs of live records in the kernel and gathers
// short ones in a buffer; through an Env whose files cannot copy in the
// kernel (FaultEnv, without faults) it reads and writes them all. Both give
// the same file, byte for byte, and positions that Load(), later changes
// and a reopen find right.
TEST_F(JournalStoreTest, CompactionGivesTheSameFileWithAndWithoutKernelCopy) {
  FaultEnv no_kernel_copy;
  std::map<Env*, std::string> compacted;
  for (Env* env : {PosixEnv(), static_cast<Env*>(&no_kernel_copy)}) {
    SCOPED_TRACE(env == PosixEnv() ? "posix" : "fault env");
    options_.env = env;
    options_.dir = dir_ + (env == PosixEnv() ? "/posix" : "/fault");
    options_.min_compact_bytes = 64u << 20;
    options_.compact_ratio = 4;
    Open();
    State model;
    std::string json(300, 'j');
    auto key = [](uint32_t i) { return RequestKey(i, Fid(i)); };
    auto forget = [&](uint32_t i) {
      store_->Forget(key(i));
      model.requests.erase(key(i));
      model.assigned.erase(key(i));
    };
    for (uint32_t i = 0; i < 1500; ++i) {
      store_->Put(key(i), json + std::to_string(i));
      model.requests[key(i)] = json + std::to_string(i);
    }
    ASSERT_TRUE(SyncNow());
    // Dead: a prefix, one request in 250 (live runs of about 90 KiB), and
    // every other one at the end (runs of one record).
    for (uint32_t i = 0; i < 1500; ++i)
      if (i < 300 || i % 250 == 0 || (i >= 1300 && i % 2 == 0)) forget(i);
    store_->Assign(key(1001), "mover-a");
    model.assigned[key(1001)] = "mover-a";
    ASSERT_TRUE(SyncNow());
    // The next batch compacts.
    options_.min_compact_bytes = 0;
    options_.compact_ratio = 1;
    Open();
    store_->Assign(key(1002), "mover-b");
    model.assigned[key(1002)] = "mover-b";
    ASSERT_TRUE(SyncNow());
    ASSERT_EQ(store_->stats().compactions, 1u);
    compacted[env] = ReadBytes(store_->path());
    // Changes after the compaction go where Relocate() says the records
    // are.
    forget(700);
    store_->Put(key(701), "{}");
    model.requests[key(701)] = "{}";
    store_->Unassign(key(1001));
    model.assigned.erase(key(1001));
    ASSERT_TRUE(SyncNow());
    ExpectLoadsAndReopensAs(model);
  }
  ASSERT_EQ(compacted.size(), 2u);
  EXPECT_GT(compacted[PosixEnv()].size(), 300u << 10);
  EXPECT_TRUE(compacted[PosixEnv()] == compacted[&no_kernel_copy]);
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

namespace store {
namespace {

// A visitor that keeps each request's handle, as the server does.
struct HandleState : State {
  std::map<std::string, Handle> handles;
  bool KeepsHandles() const override { return true; }
  void OnRequest(std::string_view key, std::string_view json,
                 Handle handle) override {
    State::OnRequest(key, json, handle);
    handles[std::string(key)] = handle;
  }
};

// Loads the empty store as the server does: from then on the store finds
// requests by handle only.
void LoadKeepingHandles(JournalStore* store) {
  HandleState none;
  std::string error;
  ASSERT_TRUE(store->Load(none, &error)) << error;
}

// Once Load() gave the handles to a visitor that keeps them, requests are
// found by handle only: a Put of a held request keeps its handle, a
// forgotten request's handle is reused, and the handles stay right across
// compactions (records move) and are given again by the next Load().
TEST_F(JournalStoreTest, HandlesFindRequestsWithoutKeys) {
  options_.min_compact_bytes = 4 << 10;
  options_.compact_ratio = 2;
  Open();
  LoadKeepingHandles(store_.get());
  std::map<std::string, std::string> model;
  std::map<std::string, Handle> handle_of;
  std::map<std::string, std::string> assigned;
  auto put = [&](uint32_t i, const std::string& json) {
    const std::string key = RequestKey(i, Fid(i));
    auto it = handle_of.find(key);
    const Handle given = it == handle_of.end() ? kNoHandle : it->second;
    const Handle handle = store_->Put(key, json, given);
    ASSERT_NE(handle, kNoHandle);
    if (given != kNoHandle) {
      ASSERT_EQ(handle, given);  // same request
    }
    handle_of[key] = handle;
    model[key] = json;
  };
  auto forget = [&](uint32_t i) {
    const std::string key = RequestKey(i, Fid(i));
    store_->Forget(key, handle_of.at(key));
    handle_of.erase(key);
    model.erase(key);
    assigned.erase(key);
  };
  for (uint32_t i = 0; i < 20; ++i)
    put(i, R"({"n":)" + std::to_string(i) + "}");
  put(3, R"({"n":"three"})");  // a Put of a held request
  const Handle freed = handle_of.at(RequestKey(5, Fid(5)));
  forget(5);
  put(100, R"({"n":100})");
  EXPECT_EQ(handle_of.at(RequestKey(100, Fid(100))), freed);  // reused
  store_->Assign(RequestKey(7, Fid(7)), "m1",
                 handle_of.at(RequestKey(7, Fid(7))));
  assigned[RequestKey(7, Fid(7))] = "m1";
  ASSERT_TRUE(SyncNow());
  // Churn past the compaction threshold, in batches: records move.
  std::mt19937 random(28);
  for (int round = 0; round < 30; ++round) {
    for (int k = 0; k < 20; ++k) {
      const uint32_t i = 200 + random() % 40;
      if (handle_of.count(RequestKey(i, Fid(i))) && random() % 2)
        forget(i);
      else
        put(i, std::string(100 + random() % 50, 'a' + round % 26));
    }
    ASSERT_TRUE(SyncNow());
  }
  EXPECT_GE(store_->stats().compactions, 1u);
  // The handles from before the compactions still name their requests.
  store_->Unassign(RequestKey(7, Fid(7)), handle_of.at(RequestKey(7, Fid(7))));
  assigned.erase(RequestKey(7, Fid(7)));
  store_->Assign(RequestKey(8, Fid(8)), "m2",
                 handle_of.at(RequestKey(8, Fid(8))));
  assigned[RequestKey(8, Fid(8))] = "m2";
  forget(9);
  put(3, R"({"n":3})");
  ASSERT_TRUE(SyncNow());
  Open();
  HandleState loaded;
  std::string error;
  ASSERT_TRUE(store_->Load(loaded, &error)) << error;
  EXPECT_EQ(loaded.requests, model);
  EXPECT_EQ(loaded.assigned, assigned);
  // The handles the Load() gave work as the old ones did.
  store_->Forget(RequestKey(3, Fid(3)),
                 loaded.handles.at(RequestKey(3, Fid(3))));
  model.erase(RequestKey(3, Fid(3)));
  store_->Put(RequestKey(4, Fid(4)), "{}",
              loaded.handles.at(RequestKey(4, Fid(4))));
  model[RequestKey(4, Fid(4))] = "{}";
  ASSERT_TRUE(SyncNow());
  Open();
  EXPECT_EQ(Load().requests, model);
}

// A change without handle once the store has no keys (a caller's
// mistake) is in the journal all the same, and stops compaction rather
// than let one copy the request as if it were still live.
TEST_F(JournalStoreTest, AChangeWithoutHandleStopsCompaction) {
  options_.min_compact_bytes = 2 << 10;
  options_.compact_ratio = 1;
  Open();
  LoadKeepingHandles(store_.get());
  store_->Put(RequestKey(1, Fid(1)), "{}");
  store_->Forget(RequestKey(1, Fid(1)));  // no handle
  for (uint32_t i = 2; i < 40; ++i) {
    store_->Put(RequestKey(i, Fid(i)), std::string(200, 'x'));
    ASSERT_TRUE(SyncNow());
  }
  EXPECT_EQ(store_->stats().compactions, 0u);
  Open();
  State state = Load();
  EXPECT_EQ(state.requests.size(), 38u);
  EXPECT_EQ(state.requests.count(RequestKey(1, Fid(1))), 0u);
}

// PutWritten() leaves the journal Put() leaves, gives the same handles,
// and its value may be written in pieces, even undo its own last byte
// (the server's writer drops the closing brace to add a member).
TEST_F(JournalStoreTest, PutWrittenWritesTheJournalPutWrites) {
  Open();
  LoadKeepingHandles(store_.get());
  JournalOptions other = options_;
  other.dir = dir_ + "/other";
  std::vector<std::string> warnings;
  std::string error;
  auto written = JournalStore::Open(io_, other, &warnings, &error);
  ASSERT_NE(written, nullptr) << error;
  LoadKeepingHandles(written.get());
  std::vector<Handle> put_handles, written_handles;
  for (uint32_t i = 0; i < 50; ++i) {
    const std::string key = RequestKey(i, Fid(i));
    const std::string json = R"({"n":)" + std::to_string(i) + R"(,"on":"m"})";
    put_handles.push_back(store_->Put(key, json));
    written_handles.push_back(written->PutWritten(key, [&](std::string* out) {
      *out += R"({"n":)" + std::to_string(i) + "}";
      out->pop_back();
      *out += R"(,"on":"m"})";
    }));
    if (i % 3 == 0) {
      store_->Assign(key, "m", put_handles.back());
      written->Assign(key, "m", written_handles.back());
    }
    if (i % 5 == 0) {
      // A Put of a held request.
      EXPECT_EQ(store_->Put(key, "{}", put_handles.back()), put_handles.back());
      EXPECT_EQ(written->PutWritten(
                    key, [](std::string* out) { *out += "{}"; },
                    written_handles.back()),
                written_handles.back());
    }
  }
  EXPECT_EQ(put_handles, written_handles);
  ASSERT_TRUE(SyncNow());
  bool synced = false;
  written->Sync([&](bool durable) { synced = durable; });
  ASSERT_TRUE(RunUntil([&] { return synced; }));
  EXPECT_EQ(ReadBytes(written->path()), ReadBytes(store_->path()));
  written.reset();
  Open();
  const State loaded = Load();
  EXPECT_EQ(loaded.requests.size(), 50u);
  EXPECT_EQ(loaded.requests.at(RequestKey(1, Fid(1))), R"({"n":1,"on":"m"})");
  EXPECT_EQ(loaded.requests.at(RequestKey(5, Fid(5))), "{}");
  EXPECT_EQ(loaded.assigned.size(), 17u);
}

// A handle that names no live request (a caller's mistake) is not
// trusted: while the store still has its keys, the key finds the request.
TEST_F(JournalStoreTest, AHandleThatIsNotLiveLetsTheKeyDecide) {
  Open();
  const std::string key = RequestKey(1, Fid(1));
  const Handle stale = 12345;
  const Handle handle = store_->Put(key, "{}", stale);
  EXPECT_NE(handle, stale);
  EXPECT_NE(handle, kNoHandle);
  store_->Assign(key, "m", stale);
  store_->Put(RequestKey(2, Fid(2)), "{}");
  ASSERT_TRUE(SyncNow());
  Open();
  const State state = Load();
  EXPECT_EQ(state.requests.size(), 2u);
  EXPECT_EQ(state.assigned, (std::map<std::string, std::string>{{key, "m"}}));
}

}  // namespace
}  // namespace store
