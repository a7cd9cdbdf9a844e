#include "server/huge_page_allocator.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace server::huge_pages {

namespace {

size_t Rounded(size_t bytes) {
  return (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
}

}  // namespace

void* Allocate(size_t bytes, size_t align) {
  if (!Mapped(bytes)) return ::operator new(bytes, std::align_val_t(align));
  const size_t size = Rounded(bytes);
  if (size < bytes) throw std::bad_alloc();  // overflow
  // One huge page more, then the unaligned ends are given back: the kernel
  // can back only whole aligned 2 MiB ranges with a huge page.
  const size_t mapped_size = size + kHugePageBytes;
  void* mapped = mmap(nullptr, mapped_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned =
      (start + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  if (aligned > start) munmap(mapped, aligned - start);
  const uintptr_t end = start + mapped_size, block_end = aligned + size;
  if (end > block_end)
    munmap(reinterpret_cast<void*>(block_end), end - block_end);
  // Advice only: refused (no transparent huge pages), the block still works.
  madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void Free(void* block, size_t bytes, size_t align) noexcept {
  if (block == nullptr) return;
  if (!Mapped(bytes)) return ::operator delete(block, std::align_val_t(align));
  munmap(block, Rounded(bytes));
}

}  // namespace server::huge_pages
