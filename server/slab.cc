#include "server/slab.h"

#include <sys/mman.h>

#include <cstdint>

namespace server::slab_internal {

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

}  // namespace server::slab_internal
