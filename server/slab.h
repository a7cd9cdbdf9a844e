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

namespace server {

namespace slab_internal {
inline constexpr size_t kChunkBytes = 256u << 10;
// kChunkBytes bytes aligned on kChunkBytes, or nullptr (out of memory).
void* MapChunk();
void UnmapChunk(void* chunk);
}  // namespace slab_internal

class SlabPool {
 public:
  // Slots of `slot_bytes` (rounded up to `align`, at least a pointer),
  // aligned on `align` (a power of two, at most 4096).
  SlabPool(size_t slot_bytes, size_t align);
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
  };

  unsigned char* SlotAt(Chunk* chunk, uint32_t i) const {
    return reinterpret_cast<unsigned char*>(chunk) + header_ +
           size_t{i} * slot_bytes_;
  }
  static Chunk* ChunkOf(unsigned char* slot) {
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
class SizedSlab {
 public:
  static constexpr size_t kGranule = 8;
  static constexpr size_t kMaxPooledBytes = 4096;

  SizedSlab() = default;
  SizedSlab(const SizedSlab&) = delete;
  SizedSlab& operator=(const SizedSlab&) = delete;
  // REQUIRES: every block was freed.
  ~SizedSlab() = default;

  // `bytes` bytes aligned on 8. Throws std::bad_alloc as new does.
  void* Allocate(size_t bytes) {
    if (bytes > kMaxPooledBytes) {
      ++heap_blocks_;
      return ::operator new(bytes);
    }
    std::unique_ptr<SlabPool>& pool = pools_[ClassOf(bytes)];
    if (!pool)
      pool =
          std::make_unique<SlabPool>((ClassOf(bytes) + 1) * kGranule, kGranule);
    return pool->Allocate();
  }
  // REQUIRES: `p` came from Allocate(bytes) with the same `bytes`.
  void Free(void* p, size_t bytes) {
    if (bytes > kMaxPooledBytes) {
      --heap_blocks_;
      ::operator delete(p);
      return;
    }
    pools_[ClassOf(bytes)]->Free(p);
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
  static constexpr size_t ClassOf(size_t bytes) {
    return bytes == 0 ? 0 : (bytes - 1) / kGranule;
  }
  std::array<std::unique_ptr<SlabPool>, kMaxPooledBytes / kGranule> pools_;
  size_t heap_blocks_ = 0;
};

}  // namespace server

#endif  // SERVER_SLAB_H_
