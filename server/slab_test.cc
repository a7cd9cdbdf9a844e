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

// Handles: every block, of every size class and from the heap, has one of
// its own that leads back to it.
TEST(SizedSlabHandleTest, EverySizeClassAndHeapBlocksRoundTrip) {
  SizedSlab slab;
  struct Block {
    void* p;
    size_t bytes;
    SizedSlab::Handle handle;
  };
  std::vector<Block> blocks;
  std::vector<size_t> sizes;
  for (size_t bytes = 1; bytes <= SizedSlab::kMaxPooledBytes;
       bytes += SizedSlab::kGranule)
    sizes.push_back(bytes);
  for (size_t bytes :
       {SizedSlab::kMaxPooledBytes, SizedSlab::kMaxPooledBytes + 1,
        size_t{5000}, size_t{300000}})
    sizes.push_back(bytes);
  // Two of each, so a class's second block is not at its chunk's start.
  for (int round = 0; round < 2; ++round)
    for (size_t bytes : sizes) {
      void* p = slab.Allocate(bytes);
      std::memset(p, 0x5a, bytes);
      blocks.push_back({p, bytes, slab.HandleOf(p, bytes)});
    }
  EXPECT_EQ(slab.heap_blocks(), 6u);
  std::set<SizedSlab::Handle> distinct;
  for (const Block& b : blocks) {
    EXPECT_NE(b.handle, SizedSlab::kNoHandle) << b.bytes;
    EXPECT_EQ(slab.At(b.handle), b.p) << b.bytes;
    distinct.insert(b.handle);
  }
  EXPECT_EQ(distinct.size(), blocks.size());
  for (const Block& b : blocks) slab.Free(b.p, b.bytes);
  EXPECT_EQ(slab.size(), 0u);
  EXPECT_EQ(slab.heap_blocks(), 0u);
}

TEST(SizedSlabHandleTest, HandlesAreReusedAfterFree) {
  SizedSlab slab;
  void* a = slab.Allocate(216);
  const SizedSlab::Handle ha = slab.HandleOf(a, 216);
  void* big = slab.Allocate(9000);
  const SizedSlab::Handle hbig = slab.HandleOf(big, 9000);
  slab.Free(a, 216);
  slab.Free(big, 9000);
  // The freed slot comes back with its handle; the heap block's number is
  // given to the next large block, at whatever address it lands.
  void* b = slab.Allocate(216);
  EXPECT_EQ(b, a);
  EXPECT_EQ(slab.HandleOf(b, 216), ha);
  void* big2 = slab.Allocate(20000);
  const SizedSlab::Handle hbig2 = slab.HandleOf(big2, 20000);
  EXPECT_EQ(hbig2, hbig);
  EXPECT_EQ(slab.At(hbig2), big2);
  std::memset(big2, 1, 20000);
  slab.Free(b, 216);
  slab.Free(big2, 20000);
}

TEST(SizedSlabHandleTest, ManyBlocksOverManyChunks) {
  // 200,000 items of the bench's size (216 bytes): about 160 chunks. Half
  // freed in a scattered order, chunks emptied and mapped again: every
  // live handle still leads to its block and its bytes, and the chunk
  // numbers freed are taken again rather than new ones.
  SizedSlab slab;
  constexpr size_t kBytes = 216;
  constexpr size_t kCount = 200000;
  std::vector<std::pair<uint32_t*, SizedSlab::Handle>> blocks;
  for (uint32_t i = 0; i < kCount; ++i) {
    auto* p = static_cast<uint32_t*>(slab.Allocate(kBytes));
    *p = i;
    blocks.emplace_back(p, slab.HandleOf(p, kBytes));
  }
  const size_t peak_chunks = slab.chunks();
  EXPECT_GT(peak_chunks, 100u);
  SizedSlab::Handle highest = 0;
  for (const auto& [p, handle] : blocks) {
    ASSERT_EQ(slab.At(handle), p);
    highest = std::max(highest, handle);
  }
  // The first half as whole chunks (they go back to the system), then
  // every other block of the rest.
  for (size_t i = 0; i < kCount / 2; ++i) slab.Free(blocks[i].first, kBytes);
  EXPECT_LT(slab.chunks(), peak_chunks * 2 / 3);
  std::vector<std::pair<uint32_t*, SizedSlab::Handle>> live;
  for (size_t i = kCount / 2; i < kCount; ++i)
    if (i % 2)
      slab.Free(blocks[i].first, kBytes);
    else
      live.push_back(blocks[i]);
  for (uint32_t i = 0; i < kCount / 2; ++i) {
    auto* p = static_cast<uint32_t*>(slab.Allocate(kBytes));
    *p = static_cast<uint32_t>(kCount + i);
    live.emplace_back(p, slab.HandleOf(p, kBytes));
  }
  std::set<SizedSlab::Handle> distinct;
  for (const auto& [p, handle] : live) {
    ASSERT_EQ(slab.At(handle), p);
    // Chunk numbers taken again, none past the peak's.
    ASSERT_LE(handle >> ChunkTable::kOffsetBits,
              highest >> ChunkTable::kOffsetBits);
    distinct.insert(handle);
  }
  EXPECT_EQ(distinct.size(), live.size());
  EXPECT_EQ(slab.size(), live.size());
  for (const auto& [p, handle] : live) slab.Free(p, kBytes);
  EXPECT_EQ(slab.chunks(), 1u);
}

TEST(ChunkTableTest, NumbersStartAtOneAndRunOut) {
  ChunkTable table;
  unsigned char byte = 0;
  EXPECT_EQ(table.Add(&byte), 1u);  // 0 names nothing
  for (uint32_t n = 2; n <= ChunkTable::kMaxNumber; ++n)
    ASSERT_EQ(table.Add(&byte), n);
  EXPECT_THROW(table.Add(&byte), std::bad_alloc);
  table.Remove(77);
  EXPECT_EQ(table.Add(&byte), 77u);
  EXPECT_EQ(table.size(), size_t{ChunkTable::kMaxNumber});
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
