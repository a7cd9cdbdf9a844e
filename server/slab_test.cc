// Slab: objects constructed and destroyed once each, slots reused, chunks
// given back when empty, aligned objects.
#include "server/slab.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace server {
namespace {

struct Counted {
  static inline int alive = 0;
  explicit Counted(int v)
      : value(v), text(std::to_string(v) + " xxxxxxxxxxxxxxxxx") {
    ++alive;
  }
  ~Counted() { --alive; }
  int value;
  std::string text;  // owns heap memory: a missed destructor leaks (ASan)
};

TEST(SlabTest, ConstructsDestroysAndReusesSlots) {
  Slab<Counted> slab;
  Counted* a = slab.New(1);
  Counted* b = slab.New(2);
  EXPECT_EQ(a->value, 1);
  EXPECT_EQ(b->text, "2 xxxxxxxxxxxxxxxxx");
  EXPECT_EQ(Counted::alive, 2);
  EXPECT_EQ(slab.size(), 2u);
  slab.Delete(a);
  EXPECT_EQ(Counted::alive, 1);
  Counted* c = slab.New(3);
  EXPECT_EQ(c, a);  // the freed slot first
  EXPECT_EQ(c->value, 3);
  slab.Delete(b);
  slab.Delete(c);
  EXPECT_EQ(Counted::alive, 0);
  EXPECT_EQ(slab.size(), 0u);
  EXPECT_EQ(slab.chunks(), 1u);  // the last one is kept for the next New
}

TEST(SlabTest, ManyChunksGivenBackWhenEmpty) {
  Slab<Counted> slab;
  const size_t n = 5 * Slab<Counted>::per_chunk() + 7;
  std::vector<Counted*> objects;
  for (size_t i = 0; i < n; ++i) objects.push_back(slab.New(int(i)));
  EXPECT_EQ(slab.chunks(), 6u);
  std::set<Counted*> distinct(objects.begin(), objects.end());
  EXPECT_EQ(distinct.size(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(objects[i]->value, int(i));
    ASSERT_EQ(reinterpret_cast<uintptr_t>(objects[i]) % alignof(Counted), 0u);
  }
  // In random order: values intact until deleted, chunks go as they empty.
  std::mt19937 random(7);
  std::shuffle(objects.begin(), objects.end(), random);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(objects[i]->text,
              std::to_string(objects[i]->value) + " xxxxxxxxxxxxxxxxx");
    slab.Delete(objects[i]);
    ASSERT_LE(slab.chunks(), 6u);
  }
  EXPECT_EQ(Counted::alive, 0);
  EXPECT_EQ(slab.chunks(), 1u);
  // And filled again: every slot of the kept chunk, then a new one.
  for (size_t i = 0; i < Slab<Counted>::per_chunk() + 1; ++i)
    objects[i] = slab.New(int(i));
  EXPECT_EQ(slab.chunks(), 2u);
  for (size_t i = 0; i < Slab<Counted>::per_chunk() + 1; ++i)
    slab.Delete(objects[i]);
  EXPECT_EQ(Counted::alive, 0);
}

TEST(SlabTest, FifoUseKeepsFewChunks) {
  // A queue: the oldest leaves, a new one arrives, 100,000 times over a
  // steady 1,000: memory stays at what 1,000 need.
  Slab<Counted> slab;
  std::vector<Counted*> queue;
  for (int i = 0; i < 1000; ++i) queue.push_back(slab.New(i));
  size_t head = 0;
  for (int i = 1000; i < 101000; ++i) {
    slab.Delete(queue[head++]);
    queue.push_back(slab.New(i));
  }
  EXPECT_LE(slab.chunks(), 1000 / Slab<Counted>::per_chunk() + 2);
  for (size_t i = head; i < queue.size(); ++i) {
    ASSERT_EQ(queue[i]->value, int(i));
    slab.Delete(queue[i]);
  }
}

struct alignas(64) Wide {
  char bytes[100];
};

TEST(SlabTest, OverAlignedObjects) {
  Slab<Wide> slab;
  std::vector<Wide*> objects;
  for (int i = 0; i < 3000; ++i) {
    objects.push_back(slab.New());
    ASSERT_EQ(reinterpret_cast<uintptr_t>(objects.back()) % 64, 0u);
  }
  for (Wide* w : objects) slab.Delete(w);
  EXPECT_EQ(slab.size(), 0u);
}

}  // namespace
}  // namespace server
