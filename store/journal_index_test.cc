// JournalIndex against a std::map doing the same: inserts, replacements,
// erasures (places reused), assignments kept apart, positions moved, and
// the memory given back once empty.
#include "store/journal_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace store {
namespace {

using Key = JournalIndex::Key;
using Entry = JournalIndex::Entry;

Key KeyOf(uint32_t n) {
  Key key{};
  // Like RequestKey(): cookie, then FID; many keys differ in one word only.
  key[7] = static_cast<unsigned char>(n);
  key[15] = static_cast<unsigned char>(n >> 8);
  key[23] = static_cast<unsigned char>(n >> 16);
  return key;
}

void ExpectSame(const JournalIndex& index, const std::map<Key, Entry>& model) {
  ASSERT_EQ(index.size(), model.size());
  for (const auto& [key, entry] : model) {
    auto found = index.Find(key);
    ASSERT_TRUE(found.has_value());
    ASSERT_EQ(*found, entry);
  }
  size_t visited = 0;
  index.ForEach([&](const Key& key, const Entry& entry) {
    ++visited;
    auto it = model.find(key);
    ASSERT_NE(it, model.end());
    EXPECT_EQ(it->second, entry);
  });
  EXPECT_EQ(visited, model.size());
}

TEST(JournalIndexTest, MatchesAMapUnderRandomChanges) {
  JournalIndex index;
  std::map<Key, Entry> model;
  std::mt19937_64 random(18);
  for (int step = 0; step < 200000; ++step) {
    Key key = KeyOf(static_cast<uint32_t>(random() % 20000));
    Entry entry = model.count(key) ? model[key] : Entry{};
    switch (random() % 4) {
      case 0:  // put
        entry.put_at = random() % (1ull << 40);
        entry.put_len = 1 + random() % 1000;
        break;
      case 1:  // assign
        entry.assign_at = random() % (1ull << 40);
        entry.assign_len = 1 + random() % 100;
        break;
      case 2:  // unassign
        entry.assign_at = 0;
        entry.assign_len = 0;
        break;
      case 3:  // forget
        entry = Entry{};
        break;
    }
    index.Set(key, entry);
    if (entry.empty())
      model.erase(key);
    else
      model[key] = entry;
    ASSERT_EQ(index.Contains(key), !entry.empty());
    if (step % 20000 == 0) ExpectSame(index, model);
  }
  ExpectSame(index, model);
  // A compaction moves every record.
  index.MovePositions([](Entry& e) {
    e.put_at += 7;
    if (e.assign_len) e.assign_at += 11;
  });
  for (auto& [key, e] : model) {
    e.put_at += 7;
    if (e.assign_len) e.assign_at += 11;
  }
  ExpectSame(index, model);
  // Emptied, then used again.
  for (const auto& [key, e] : model) index.Set(key, Entry{});
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Find(KeyOf(1)).has_value());
  index.Set(KeyOf(1), Entry{.put_at = 8, .put_len = 3});
  EXPECT_EQ(index.Find(KeyOf(1))->put_at, 8u);
  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Contains(KeyOf(1)));
}

TEST(JournalIndexTest, AnAssignmentWithoutPut) {
  // The Put lost to damage, its Assign read: the key is known all the same.
  JournalIndex index;
  index.Set(KeyOf(5), Entry{.assign_at = 100, .assign_len = 20});
  ASSERT_TRUE(index.Contains(KeyOf(5)));
  EXPECT_EQ(index.Find(KeyOf(5))->assign_at, 100u);
  EXPECT_EQ(index.Find(KeyOf(5))->put_len, 0u);
  index.Set(KeyOf(5), Entry{});  // unassigned: nothing left
  EXPECT_FALSE(index.Contains(KeyOf(5)));
}

TEST(JournalIndexTest, PositionsAndLengthsBeyondThePackedWord) {
  // A Put beyond 1 TiB, or longer than 16 MiB, is kept apart, exactly; it
  // goes back to the packed word when it fits again, and a reused place
  // does not inherit it.
  JournalIndex index;
  const Entry far{.put_at = (1ull << 40) + 5, .put_len = 9};
  const Entry long_put{.put_at = 64, .put_len = (1u << 24) + 1};
  const Entry edge{.put_at = (1ull << 40) - 1, .put_len = (1u << 24) - 2};
  const Entry near{.put_at = 128, .put_len = 10};
  index.Set(KeyOf(1), far);
  index.Set(KeyOf(2), long_put);
  index.Set(KeyOf(3), edge);
  EXPECT_EQ(*index.Find(KeyOf(1)), far);
  EXPECT_EQ(*index.Find(KeyOf(2)), long_put);
  EXPECT_EQ(*index.Find(KeyOf(3)), edge);
  index.Set(KeyOf(1), near);
  EXPECT_EQ(*index.Find(KeyOf(1)), near);
  index.Set(KeyOf(2), Entry{});  // forgotten: its place is reused
  index.Set(KeyOf(4), near);
  EXPECT_EQ(*index.Find(KeyOf(4)), near);
  index.MovePositions([](Entry& e) { e.put_at += 1ull << 40; });
  EXPECT_EQ(index.Find(KeyOf(1))->put_at, 128 + (1ull << 40));
  EXPECT_EQ(index.Find(KeyOf(3))->put_at, (1ull << 41) - 1);
  EXPECT_EQ(index.Find(KeyOf(4))->put_len, 10u);
  index.MovePositions([](Entry& e) { e.put_at -= 1ull << 40; });
  EXPECT_EQ(*index.Find(KeyOf(1)), near);
  EXPECT_EQ(*index.Find(KeyOf(3)), edge);
  EXPECT_EQ(index.size(), 3u);
}

}  // namespace
}  // namespace store
