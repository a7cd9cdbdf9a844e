// Slab storage for the Scheduler's items: objects in chunks of 256 KiB
// instead of one heap block each. At a million queued requests this saves
// the allocator's header and rounding on every item, and items that arrive
// together sit together in memory (a queue walked in arrival order reads
// consecutive lines, not a page per item).
//
// SlabPool hands out slots of one size; Slab<T> constructs objects of one
// type in a SlabPool; SizedSlab hands out blocks of any size from a pool
// per size class (8-byte steps), so an object whose size varies (an item
// with its hsm data at its end) wastes at most 7 bytes, and blocks larger
// than its largest class come from the heap.
//
// A freed slot is reused by the next allocation of its chunk; allocations
// fill the chunk freed into most recently first. A chunk whose slots are
// all free goes back to the system at once (munmap), unless it is the only
// one with room, so a drained queue gives its memory back, which the heap
// rarely does for a million small blocks. Chunks are aligned on their
// size: a slot finds its chunk by masking its address, so a free costs no
// lookup. A chunk's pages are touched only as its slots are first used.
//
// SizedSlab also names each block by a 4-byte handle (see ChunkTable), so
// that an index of a million blocks keeps 4 bytes per entry, not a pointer.
//
// Thread-safety: none; one thread owns a pool.
#ifndef SERVER_SLAB_H_
#define SERVER_SLAB_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace server {

namespace slab_internal {
inline constexpr size_t kChunkBytes = 256u << 10;
// kChunkBytes bytes aligned on kChunkBytes, or nullptr (out of memory).
void* MapChunk();
void UnmapChunk(void* chunk);
}  // namespace slab_internal

// Numbers for chunks (and for blocks too large for a chunk), so that a block
// is named by a 4-byte handle: its chunk's number (17 bits) and its offset in
// the chunk in 8-byte steps (15 bits: 256 KiB). Number 0 is never given, so
// handle 0 names no block. A number freed is given again first.
class ChunkTable {
 public:
  static constexpr unsigned kOffsetBits = 15;
  static constexpr uint32_t kOffsetMask = (uint32_t{1} << kOffsetBits) - 1;
  // Numbers 1 to kMaxNumber: 32 GiB of chunks.
  static constexpr uint32_t kMaxNumber =
      (uint32_t{1} << (32 - kOffsetBits)) - 1;
  static_assert(slab_internal::kChunkBytes / 8 - 1 == kOffsetMask);

  ChunkTable() : bases_(1, nullptr) {}
  ChunkTable(const ChunkTable&) = delete;
  ChunkTable& operator=(const ChunkTable&) = delete;

  // A number for `base`. Throws std::bad_alloc when every number is taken.
  uint32_t Add(unsigned char* base);
  void Remove(uint32_t number) {
    bases_[number] = nullptr;
    free_.push_back(number);
  }
  unsigned char* base(uint32_t number) const { return bases_[number]; }
  // Numbers in use.
  size_t size() const { return bases_.size() - 1 - free_.size(); }

 private:
  std::vector<unsigned char*> bases_;  // by number; [0] unused
  std::vector<uint32_t> free_;
};

class SlabPool {
 public:
  // Slots of `slot_bytes` (rounded up to `align`, at least a pointer),
  // aligned on `align` (a power of two, at most 4096). With `table`, each
  // chunk gets a number there while it is mapped (ChunkNumberOf).
  SlabPool(size_t slot_bytes, size_t align, ChunkTable* table = nullptr);
  SlabPool(const SlabPool&) = delete;
  SlabPool& operator=(const SlabPool&) = delete;
  // REQUIRES: every slot was freed.
  ~SlabPool() {
    while (open_) Release(open_);
  }

  // A slot. Throws std::bad_alloc as new does.
  void* Allocate() {
    if (!open_) Open();
    Chunk* chunk = open_;
    unsigned char* slot = chunk->free;
    if (slot) {
      std::memcpy(&chunk->free, slot, sizeof(slot));
    } else {
      slot = SlotAt(chunk, chunk->fresh++);
    }
    if (++chunk->live == per_chunk_) Close(chunk);  // full: off the list
    ++size_;
    return slot;
  }

  // REQUIRES: `p` came from this pool's Allocate() and was not freed.
  void Free(void* p) {
    auto* slot = static_cast<unsigned char*>(p);
    Chunk* chunk = ChunkOf(slot);
    if (chunk->live-- == per_chunk_) Reopen(chunk);
    std::memcpy(slot, &chunk->free, sizeof(slot));
    chunk->free = slot;
    --size_;
    // Empty: back to the system, unless no other chunk has room (a queue
    // that empties and fills again would map and unmap at every item).
    if (chunk->live == 0 && (chunk->prev || chunk->next)) Release(chunk);
  }

  size_t size() const { return size_; }
  size_t chunks() const { return chunks_; }
  size_t slot_bytes() const { return slot_bytes_; }
  size_t per_chunk() const { return per_chunk_; }

  // The number in the pool's ChunkTable of the chunk holding `slot`, and
  // the slot's offset in its chunk. REQUIRES: a live slot of a pool with
  // a table.
  static uint32_t ChunkNumberOf(const void* slot) {
    return ChunkOf(slot)->number;
  }
  static size_t OffsetInChunk(const void* slot) {
    return reinterpret_cast<uintptr_t>(slot) &
           (uintptr_t{slab_internal::kChunkBytes} - 1);
  }

  static constexpr size_t SlotBytes(size_t bytes, size_t align) {
    if (bytes < sizeof(void*)) bytes = sizeof(void*);
    return (bytes + align - 1) / align * align;
  }
  static constexpr size_t HeaderBytes(size_t align) {
    return (sizeof(Chunk) + align - 1) / align * align;
  }
  static constexpr size_t PerChunk(size_t bytes, size_t align) {
    return (slab_internal::kChunkBytes - HeaderBytes(align)) /
           SlotBytes(bytes, align);
  }

 private:
  struct Chunk {
    Chunk* prev = nullptr;  // in the list of chunks with a free slot
    Chunk* next = nullptr;
    unsigned char* free = nullptr;  // freed slots of this chunk, chained
    uint32_t fresh = 0;             // slots never used start here
    uint32_t live = 0;
    uint32_t number = 0;  // in table_; 0: the pool has none
  };

  unsigned char* SlotAt(Chunk* chunk, uint32_t i) const {
    return reinterpret_cast<unsigned char*>(chunk) + header_ +
           size_t{i} * slot_bytes_;
  }
  static Chunk* ChunkOf(const void* slot) {
    return reinterpret_cast<Chunk*>(
        reinterpret_cast<uintptr_t>(slot) &
        ~(uintptr_t{slab_internal::kChunkBytes} - 1));
  }
  void Open();
  // Puts `chunk` first in the list of chunks with a free slot.
  void Reopen(Chunk* chunk) {
    chunk->prev = nullptr;
    chunk->next = open_;
    if (open_) open_->prev = chunk;
    open_ = chunk;
  }
  void Close(Chunk* chunk) {
    if (chunk->prev)
      chunk->prev->next = chunk->next;
    else
      open_ = chunk->next;
    if (chunk->next) chunk->next->prev = chunk->prev;
    chunk->prev = chunk->next = nullptr;
  }
  void Release(Chunk* chunk);

  const size_t slot_bytes_;
  const size_t header_;
  const uint32_t per_chunk_;
  ChunkTable* const table_;
  Chunk* open_ = nullptr;  // chunks with a free slot
  size_t size_ = 0;
  size_t chunks_ = 0;
};

// Objects of type T in a SlabPool.
template <class T>
class Slab {
 public:
  Slab() : pool_(sizeof(T), alignof(T)) {}
  // REQUIRES: every object was deleted (the owner deletes its objects
  // first, as their destructors may need the owner).
  ~Slab() = default;

  // A new T(args...). Throws std::bad_alloc as new does.
  template <class... Args>
  T* New(Args&&... args) {
    void* slot = pool_.Allocate();
    try {
      return new (slot) T(std::forward<Args>(args)...);
    } catch (...) {
      pool_.Free(slot);
      throw;
    }
  }
  void Delete(T* object) {
    object->~T();
    pool_.Free(object);
  }

  size_t size() const { return pool_.size(); }
  size_t chunks() const { return pool_.chunks(); }
  static constexpr size_t per_chunk() {
    return SlabPool::PerChunk(sizeof(T), alignof(T));
  }

 private:
  static_assert(per_chunk() >= 16, "objects too large for a chunk");
  static_assert(alignof(T) <= 4096, "over-aligned objects");
  SlabPool pool_;
};

// Blocks of any size, 8-byte aligned: up to kMaxPooledBytes from a
// SlabPool per 8-byte size class (made when first needed), larger ones
// from the heap. The caller gives the size again when it frees a block.
// Every block, pooled or not, has a 4-byte handle (HandleOf, At): a large
// block gets a number of the chunk table for itself, kept in a header
// before it.
class SizedSlab {
 public:
  static constexpr size_t kGranule = 8;
  static constexpr size_t kMaxPooledBytes = 4096;
  // Names a live block; 0 names none.
  using Handle = uint32_t;
  static constexpr Handle kNoHandle = 0;

  SizedSlab() = default;
  SizedSlab(const SizedSlab&) = delete;
  SizedSlab& operator=(const SizedSlab&) = delete;
  // REQUIRES: every block was freed.
  ~SizedSlab() = default;

  // `bytes` bytes aligned on 8. Throws std::bad_alloc as new does, and
  // when the handles are all taken (32 GiB of blocks).
  void* Allocate(size_t bytes) {
    if (bytes > kMaxPooledBytes) return AllocateLarge(bytes);
    std::unique_ptr<SlabPool>& pool = pools_[ClassOf(bytes)];
    if (!pool)
      pool = std::make_unique<SlabPool>((ClassOf(bytes) + 1) * kGranule,
                                        kGranule, &table_);
    return pool->Allocate();
  }
  // REQUIRES: `p` came from Allocate(bytes) with the same `bytes`.
  void Free(void* p, size_t bytes) {
    if (bytes > kMaxPooledBytes) {
      FreeLarge(p);
      return;
    }
    pools_[ClassOf(bytes)]->Free(p);
  }

  // The handle of block `p`. REQUIRES: as Free().
  Handle HandleOf(const void* p, size_t bytes) const {
    if (bytes > kMaxPooledBytes) return LargeNumberOf(p) << kOffsetBits;
    return SlabPool::ChunkNumberOf(p) << kOffsetBits |
           static_cast<Handle>(SlabPool::OffsetInChunk(p) / kGranule);
  }
  // The block named by `handle`. REQUIRES: a handle of a live block.
  void* At(Handle handle) const {
    return table_.base(handle >> kOffsetBits) +
           size_t{handle & ChunkTable::kOffsetMask} * kGranule;
  }

  // The bytes a block of `bytes` bytes takes when pooled.
  static constexpr size_t BlockBytes(size_t bytes) {
    return (ClassOf(bytes) + 1) * kGranule;
  }
  // Blocks held now, pooled or not.
  size_t size() const;
  // Chunks mapped now, all size classes together.
  size_t chunks() const;
  size_t heap_blocks() const { return heap_blocks_; }

 private:
  static constexpr unsigned kOffsetBits = ChunkTable::kOffsetBits;
  // A large block's header: its number, padded to keep the block aligned.
  static constexpr size_t kLargeHeader = kGranule;

  static constexpr size_t ClassOf(size_t bytes) {
    return bytes == 0 ? 0 : (bytes - 1) / kGranule;
  }
  void* AllocateLarge(size_t bytes);
  void FreeLarge(void* p);
  static uint32_t LargeNumberOf(const void* p) {
    uint32_t number;
    std::memcpy(&number, static_cast<const unsigned char*>(p) - kLargeHeader,
                sizeof(number));
    return number;
  }

  // Before the pools: they give their chunks' numbers back as they go.
  ChunkTable table_;
  std::array<std::unique_ptr<SlabPool>, kMaxPooledBytes / kGranule> pools_;
  size_t heap_blocks_ = 0;
};

}  // namespace server

#endif  // SERVER_SLAB_H_
