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

uint32_t ChunkTable::Add(unsigned char* base) {
  if (!free_.empty()) {
    const uint32_t number = free_.back();
    free_.pop_back();
    bases_[number] = base;
    return number;
  }
  if (bases_.size() > kMaxNumber) throw std::bad_alloc();
  bases_.push_back(base);
  return static_cast<uint32_t>(bases_.size() - 1);
}

SlabPool::SlabPool(size_t slot_bytes, size_t align, ChunkTable* table)
    : slot_bytes_(SlotBytes(slot_bytes, align)),
      header_(HeaderBytes(align)),
      per_chunk_(static_cast<uint32_t>(PerChunk(slot_bytes, align))),
      table_(table) {}

void SlabPool::Open() {
  void* memory = slab_internal::MapChunk();
  if (!memory) throw std::bad_alloc();
  uint32_t number = 0;
  if (table_) {
    try {
      number = table_->Add(static_cast<unsigned char*>(memory));
    } catch (...) {
      slab_internal::UnmapChunk(memory);
      throw;
    }
  }
  Chunk* chunk = new (memory) Chunk;
  chunk->number = number;
  Reopen(chunk);
  ++chunks_;
}

void SlabPool::Release(Chunk* chunk) {
  Close(chunk);
  if (table_) table_->Remove(chunk->number);
  chunk->~Chunk();
  slab_internal::UnmapChunk(chunk);
  --chunks_;
}

void* SizedSlab::AllocateLarge(size_t bytes) {
  auto* raw = static_cast<unsigned char*>(::operator new(kLargeHeader + bytes));
  unsigned char* block = raw + kLargeHeader;
  uint32_t number;
  try {
    number = table_.Add(block);
  } catch (...) {
    ::operator delete(raw);
    throw;
  }
  std::memcpy(raw, &number, sizeof(number));
  ++heap_blocks_;
  return block;
}

void SizedSlab::FreeLarge(void* p) {
  table_.Remove(LargeNumberOf(p));
  --heap_blocks_;
  ::operator delete(static_cast<unsigned char*>(p) - kLargeHeader);
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
