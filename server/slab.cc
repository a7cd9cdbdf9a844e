#include "server/slab.h"

#include <sys/mman.h>

#include <cstdint>

namespace server {
namespace slab_internal {

void* MapChunk() {
  // Twice the size, then the unaligned ends are given back: an aligned
  // chunk with no waste kept.
  const size_t size = 2 * kChunkBytes;
  void* mapped = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned = (start + kChunkBytes - 1) & ~(kChunkBytes - 1);
  if (aligned > start) munmap(mapped, aligned - start);
  const uintptr_t end = start + size, chunk_end = aligned + kChunkBytes;
  if (end > chunk_end)
    munmap(reinterpret_cast<void*>(chunk_end), end - chunk_end);
  return reinterpret_cast<void*>(aligned);
}

void UnmapChunk(void* chunk) { munmap(chunk, kChunkBytes); }

}  // namespace slab_internal

SlabPool::SlabPool(size_t slot_bytes, size_t align)
    : slot_bytes_(SlotBytes(slot_bytes, align)),
      header_(HeaderBytes(align)),
      per_chunk_(static_cast<uint32_t>(PerChunk(slot_bytes, align))) {}

void SlabPool::Open() {
  void* memory = slab_internal::MapChunk();
  if (!memory) throw std::bad_alloc();
  Reopen(new (memory) Chunk);
  ++chunks_;
}

void SlabPool::Release(Chunk* chunk) {
  Close(chunk);
  chunk->~Chunk();
  slab_internal::UnmapChunk(chunk);
  --chunks_;
}

size_t SizedSlab::size() const {
  size_t n = heap_blocks_;
  for (const auto& pool : pools_)
    if (pool) n += pool->size();
  return n;
}

size_t SizedSlab::chunks() const {
  size_t n = 0;
  for (const auto& pool : pools_)
    if (pool) n += pool->chunks();
  return n;
}

}  // namespace server
