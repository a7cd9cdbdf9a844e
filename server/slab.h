// Slab<T>: storage for many objects of one type (the Scheduler's items), in
// chunks of 256 KiB instead of one heap block each. At a million queued
// requests this saves the allocator's header and rounding on every item,
// and items that arrive together sit together in memory (a queue walked in
// arrival order reads consecutive lines, not a page per item).
//
// A freed slot is reused by the next New() of its chunk; New() fills the
// chunk freed into most recently first. A chunk whose objects are all gone
// goes back to the system at once (munmap), unless it is the only one with
// room, so a drained queue gives its memory back, which the heap rarely
// does for a million small blocks.
// Chunks are aligned on their size: a slot finds its chunk by masking its
// address, so Delete() costs no lookup.
//
// Thread-safety: none; one thread owns a Slab.
#ifndef SERVER_SLAB_H_
#define SERVER_SLAB_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace server {

namespace slab_internal {
inline constexpr size_t kChunkBytes = 256u << 10;
// kChunkBytes bytes aligned on kChunkBytes, or nullptr (out of memory).
void* MapChunk();
void UnmapChunk(void* chunk);
}  // namespace slab_internal

template <class T>
class Slab {
 public:
  Slab() = default;
  Slab(const Slab&) = delete;
  Slab& operator=(const Slab&) = delete;
  // REQUIRES: every object was deleted (the owner deletes its objects
  // first, as their destructors may need the owner).
  ~Slab() {
    while (open_) Release(open_);
  }

  // A new T(args...). Throws std::bad_alloc as new does.
  template <class... Args>
  T* New(Args&&... args) {
    if (!open_) Open();
    Chunk* chunk = open_;
    Slot* slot = chunk->free;
    if (slot) {
      chunk->free = slot->next;
    } else {
      slot = &chunk->slots()[chunk->fresh++];
    }
    if (++chunk->live == kPerChunk) Close(chunk);  // full: off the list
    ++size_;
    return new (slot->bytes) T(std::forward<Args>(args)...);
  }

  void Delete(T* object) {
    object->~T();
    auto* slot = reinterpret_cast<Slot*>(object);
    Chunk* chunk = ChunkOf(slot);
    if (chunk->live-- == kPerChunk) Reopen(chunk);
    slot->next = chunk->free;
    chunk->free = slot;
    --size_;
    // Empty: back to the system, unless no other chunk has room (a queue
    // that empties and fills again would map and unmap at every item).
    if (chunk->live == 0 && (chunk->prev || chunk->next)) Release(chunk);
  }

  size_t size() const { return size_; }
  size_t chunks() const { return chunks_; }
  static constexpr size_t per_chunk() { return kPerChunk; }

 private:
  union Slot {
    Slot* next;  // free
    alignas(T) unsigned char bytes[sizeof(T)];
  };
  struct Chunk {
    Chunk* prev = nullptr;  // in the list of chunks with a free slot
    Chunk* next = nullptr;
    Slot* free = nullptr;  // freed slots of this chunk
    uint32_t fresh = 0;    // slots never used start here
    uint32_t live = 0;
    Slot* slots() {
      return reinterpret_cast<Slot*>(reinterpret_cast<unsigned char*>(this) +
                                     kHeader);
    }
  };
  static constexpr size_t kHeader =
      (sizeof(Chunk) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
  static constexpr size_t kPerChunk =
      (slab_internal::kChunkBytes - kHeader) / sizeof(Slot);
  static_assert(kPerChunk >= 16, "objects too large for a chunk");
  static_assert(alignof(Slot) <= 4096, "over-aligned objects");

  static Chunk* ChunkOf(Slot* slot) {
    return reinterpret_cast<Chunk*>(
        reinterpret_cast<uintptr_t>(slot) &
        ~(uintptr_t{slab_internal::kChunkBytes} - 1));
  }
  void Open() {
    void* memory = slab_internal::MapChunk();
    if (!memory) throw std::bad_alloc();
    Reopen(new (memory) Chunk);
    ++chunks_;
  }
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
  void Release(Chunk* chunk) {
    Close(chunk);
    chunk->~Chunk();
    slab_internal::UnmapChunk(chunk);
    --chunks_;
  }

  Chunk* open_ = nullptr;  // chunks with a free slot
  size_t size_ = 0;
  size_t chunks_ = 0;
};

}  // namespace server

#endif  // SERVER_SLAB_H_
