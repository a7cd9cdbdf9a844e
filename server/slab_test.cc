// Slab: objects constructed and destroyed once each, slots reused, chunks
// given back when empty, aligned objects.
#include "server/slab.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
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

TEST(SizedSlabTest, BlocksOfManySizesKeepTheirBytes) {
  // Sizes across many classes, the largest pooled one and heap ones:
  // every block keeps what was written in it until freed, in any order.
  SizedSlab slab;
  std::mt19937 random(11);
  std::uniform_int_distribution<size_t> size_of(1, 600);
  struct Block {
    unsigned char* p;
    size_t bytes;
  };
  std::vector<Block> blocks;
  const size_t sizes[] = {0,
                          1,
                          8,
                          9,
                          SizedSlab::kMaxPooledBytes,
                          SizedSlab::kMaxPooledBytes + 1,
                          100000};
  for (size_t bytes : sizes)
    blocks.push_back(
        {static_cast<unsigned char*>(slab.Allocate(bytes)), bytes});
  for (int i = 0; i < 20000; ++i) {
    const size_t bytes = size_of(random);
    blocks.push_back(
        {static_cast<unsigned char*>(slab.Allocate(bytes)), bytes});
  }
  EXPECT_EQ(slab.size(), blocks.size());
  EXPECT_EQ(slab.heap_blocks(), 2u);
  for (size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_EQ(reinterpret_cast<uintptr_t>(blocks[i].p) % 8, 0u);
    std::memset(blocks[i].p, static_cast<int>(i & 0xff), blocks[i].bytes);
  }
  std::shuffle(blocks.begin(), blocks.end(), random);
  std::set<unsigned char*> distinct;
  for (const Block& b : blocks) distinct.insert(b.p);
  EXPECT_EQ(distinct.size(), blocks.size());
  // Each block's bytes are one value, none overwritten by a neighbour.
  for (const Block& b : blocks) {
    for (size_t k = 1; k < b.bytes; ++k) ASSERT_EQ(b.p[k], b.p[0]);
    slab.Free(b.p, b.bytes);
  }
  EXPECT_EQ(slab.size(), 0u);
  EXPECT_EQ(slab.heap_blocks(), 0u);
  // At most one chunk kept per size class used.
  EXPECT_LE(slab.chunks(), 600 / SizedSlab::kGranule + 2);
}

TEST(SizedSlabTest, ClassesRoundUpToEightBytes) {
  EXPECT_EQ(SizedSlab::BlockBytes(1), 8u);
  EXPECT_EQ(SizedSlab::BlockBytes(8), 8u);
  EXPECT_EQ(SizedSlab::BlockBytes(9), 16u);
  EXPECT_EQ(SizedSlab::BlockBytes(240), 240u);
  EXPECT_EQ(SizedSlab::BlockBytes(241), 248u);
  // Blocks of one class are packed back to back in a chunk.
  SizedSlab slab;
  auto* a = static_cast<unsigned char*>(slab.Allocate(241));
  auto* b = static_cast<unsigned char*>(slab.Allocate(248));
  EXPECT_EQ(b - a, 248);
  slab.Free(a, 241);
  slab.Free(b, 248);
}

TEST(SlabPoolTest, ChunksGoBackAsTheyEmpty) {
  SlabPool pool(100, 8);
  EXPECT_EQ(pool.slot_bytes(), 104u);
  std::vector<void*> slots;
  const size_t n = 3 * pool.per_chunk() + 1;
  for (size_t i = 0; i < n; ++i) slots.push_back(pool.Allocate());
  EXPECT_EQ(pool.chunks(), 4u);
  for (void* p : slots) pool.Free(p);
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.chunks(), 1u);
}

}  // namespace
}  // namespace server
