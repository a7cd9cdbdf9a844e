// JournalIndex against a std::map doing the same: entries added, replaced
// and ended by handle (handles reused), found by key while keyed,
// assignments kept apart, positions moved with the handles kept, and the
// memory given back once empty.
#include "store/journal_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace store {
namespace {

using Key = JournalIndex::Key;
using Entry = JournalIndex::Entry;
using Handle = JournalIndex::Handle;

Key KeyOf(uint32_t n) {
  Key key{};
  // Like RequestKey(): cookie, then FID; many keys differ in one word only.
  key[7] = static_cast<unsigned char>(n);
  key[15] = static_cast<unsigned char>(n >> 8);
  key[23] = static_cast<unsigned char>(n >> 16);
  return key;
}

// model: key number -> (handle, entry).
using Model = std::map<uint32_t, std::pair<Handle, Entry>>;

void ExpectSame(const JournalIndex& index, const Model& model) {
  ASSERT_EQ(index.size(), model.size());
  for (const auto& [n, held] : model) {
    ASSERT_TRUE(index.Live(held.first));
    ASSERT_EQ(index.Get(held.first), held.second);
    if (index.keyed()) {
      ASSERT_EQ(index.Find(KeyOf(n)), held.first);
    }
  }
  std::map<Handle, Entry> by_handle;
  for (const auto& [n, held] : model) by_handle[held.first] = held.second;
  size_t visited = 0;
  index.ForEach([&](Handle handle, const Entry& entry) {
    ++visited;
    auto it = by_handle.find(handle);
    ASSERT_NE(it, by_handle.end());
    EXPECT_EQ(it->second, entry);
  });
  EXPECT_EQ(visited, model.size());
}

void RandomChanges(JournalIndex& index, Model& model, uint64_t seed) {
  std::mt19937_64 random(seed);
  for (int step = 0; step < 100000; ++step) {
    const uint32_t n = static_cast<uint32_t>(random() % 20000);
    auto it = model.find(n);
    Entry entry = it != model.end() ? it->second.second : Entry{};
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
    if (it == model.end()) {
      if (entry.empty()) continue;
      const Handle handle = index.Add(KeyOf(n), entry);
      ASSERT_FALSE(index.keyed() && index.Find(KeyOf(n)) != handle);
      model[n] = {handle, entry};
    } else {
      index.Set(it->second.first, entry);
      if (entry.empty()) {
        ASSERT_FALSE(index.keyed() &&
                     index.Find(KeyOf(n)) != JournalIndex::kNone);
        model.erase(it);
      } else {
        it->second.second = entry;
      }
    }
    if (step % 20000 == 0) ExpectSame(index, model);
  }
  ExpectSame(index, model);
}

TEST(JournalIndexTest, MatchesAMapUnderRandomChanges) {
  JournalIndex index;
  Model model;
  RandomChanges(index, model, 18);
  // A compaction moves every record; the handles stay.
  index.MovePositions([](Entry& e) {
    e.put_at += 7;
    if (e.assign_len) e.assign_at += 11;
  });
  for (auto& [n, held] : model) {
    held.second.put_at += 7;
    if (held.second.assign_len) held.second.assign_at += 11;
  }
  ExpectSame(index, model);
  // Without keys: the same by handle, Find() finds nothing.
  index.DropKeys();
  EXPECT_FALSE(index.keyed());
  EXPECT_EQ(index.Find(KeyOf(model.begin()->first)), JournalIndex::kNone);
  RandomChanges(index, model, 19);
  // Emptied, then used again: still without keys (its user gives
  // handles); Clear() starts keyed again.
  for (const auto& [n, held] : model) index.Set(held.first, Entry{});
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.keyed());
  const Handle h = index.Add(KeyOf(1), Entry{.put_at = 8, .put_len = 3});
  EXPECT_EQ(index.Get(h).put_at, 8u);
  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Live(h));
  EXPECT_TRUE(index.keyed());
}

TEST(JournalIndexTest, AnEndedEntrysHandleIsReused) {
  JournalIndex index;
  const Handle a = index.Add(KeyOf(1), Entry{.put_at = 8, .put_len = 3});
  const Handle b = index.Add(KeyOf(2), Entry{.put_at = 11, .put_len = 3});
  EXPECT_NE(a, b);
  index.Set(a, Entry{});
  EXPECT_FALSE(index.Live(a));
  EXPECT_EQ(index.Find(KeyOf(1)), JournalIndex::kNone);
  const Handle c = index.Add(KeyOf(3), Entry{.put_at = 14, .put_len = 3});
  EXPECT_EQ(c, a);
  EXPECT_EQ(index.Find(KeyOf(3)), c);
  EXPECT_EQ(index.Get(b).put_at, 11u);
  EXPECT_EQ(index.size(), 2u);
}

TEST(JournalIndexTest, AnAssignmentWithoutPut) {
  // The Put lost to damage, its Assign read: the key is known all the same.
  JournalIndex index;
  const Handle h =
      index.Add(KeyOf(5), Entry{.assign_at = 100, .assign_len = 20});
  ASSERT_EQ(index.Find(KeyOf(5)), h);
  EXPECT_EQ(index.Get(h).assign_at, 100u);
  EXPECT_EQ(index.Get(h).put_len, 0u);
  index.Set(h, Entry{});  // unassigned: nothing left
  EXPECT_EQ(index.Find(KeyOf(5)), JournalIndex::kNone);
  EXPECT_FALSE(index.Live(h));
}

TEST(JournalIndexTest, PositionsAndLengthsBeyondThePackedWord) {
  // A Put beyond 1 TiB, or longer than 16 MiB, is kept apart, exactly; it
  // goes back to the packed word when it fits again, and a reused handle
  // does not inherit it.
  JournalIndex index;
  const Entry far{.put_at = (1ull << 40) + 5, .put_len = 9};
  const Entry long_put{.put_at = 64, .put_len = (1u << 24) + 1};
  const Entry edge{.put_at = (1ull << 40) - 1, .put_len = (1u << 24) - 2};
  const Entry near{.put_at = 128, .put_len = 10};
  const Handle h1 = index.Add(KeyOf(1), far);
  const Handle h2 = index.Add(KeyOf(2), long_put);
  const Handle h3 = index.Add(KeyOf(3), edge);
  EXPECT_EQ(index.Get(h1), far);
  EXPECT_EQ(index.Get(h2), long_put);
  EXPECT_EQ(index.Get(h3), edge);
  index.Set(h1, near);
  EXPECT_EQ(index.Get(h1), near);
  index.Set(h2, Entry{});  // forgotten: its handle is reused
  const Handle h4 = index.Add(KeyOf(4), near);
  EXPECT_EQ(h4, h2);
  EXPECT_EQ(index.Get(h4), near);
  index.MovePositions([](Entry& e) { e.put_at += 1ull << 40; });
  EXPECT_EQ(index.Get(h1).put_at, 128 + (1ull << 40));
  EXPECT_EQ(index.Get(h3).put_at, (1ull << 41) - 1);
  EXPECT_EQ(index.Get(h4).put_len, 10u);
  index.MovePositions([](Entry& e) { e.put_at -= 1ull << 40; });
  EXPECT_EQ(index.Get(h1), near);
  EXPECT_EQ(index.Get(h3), edge);
  EXPECT_EQ(index.size(), 3u);
}

TEST(JournalIndexTest, EntriesApartReuseTheirSlots) {
  // A queue drained by a few movers: each request is put, assigned, then
  // forgotten, never more than three assigned at once. The entries apart
  // take three slots, whatever the number of requests, and each keeps its
  // own values.
  JournalIndex index;
  std::vector<Handle> running;
  for (uint32_t n = 0; n < 10000; ++n) {
    const Handle h = index.Add(KeyOf(n), Entry{.put_at = 8 + n, .put_len = 3});
    index.Set(h, Entry{.put_at = 8 + n,
                       .assign_at = 100000 + n,
                       .put_len = 3,
                       .assign_len = 5});
    running.push_back(h);
    if (running.size() == 3) {
      EXPECT_EQ(index.Get(running[1]).assign_at, 100000 + n - 1);
      index.Set(running[0], Entry{});
      running.erase(running.begin());
    }
  }
  EXPECT_EQ(index.apart_slots(), 3u);
  EXPECT_EQ(index.size(), 2u);
  // Unassigned: back in its word, its slot free for the next.
  index.Set(running[0], Entry{.put_at = 7, .put_len = 3});
  const Handle h = index.Add(KeyOf(20000), Entry{.put_at = 9, .put_len = 3});
  index.Set(h,
            Entry{.put_at = 9, .assign_at = 40, .put_len = 3, .assign_len = 5});
  EXPECT_EQ(index.apart_slots(), 3u);
  EXPECT_EQ(index.Get(running[0]), (Entry{.put_at = 7, .put_len = 3}));
  EXPECT_EQ(index.Get(running[1]).assign_at, 100000u + 9999);
  EXPECT_EQ(index.Get(h).assign_at, 40u);
}

}  // namespace
}  // namespace store
