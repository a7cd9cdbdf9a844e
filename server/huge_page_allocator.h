// HugePageAllocator: the allocator of the scheduler's big hash tables (its
// identity and file indexes). At a million queued requests each table is
// several MiB, and every `done` reads one random slot of each: with 4 KiB
// pages nearly every such read also misses the TLB, which under a
// hypervisor costs a second, nested page walk. A block of 2 MiB or more is
// mapped on its own, aligned on 2 MiB and marked MADV_HUGEPAGE, so that
// the kernel backs it with transparent huge pages where it has them
// (`enabled` set to madvise or always): a table of 8 MiB is then four TLB
// entries. Smaller blocks come from the heap as with std::allocator.
//
// Where the kernel has no transparent huge pages, or none free, the block
// is ordinary memory: only slower, never wrong. The rounding up to 2 MiB
// wastes less than one huge page per table.
//
// Thread-safety: stateless; as the heap.
#ifndef SERVER_HUGE_PAGE_ALLOCATOR_H_
#define SERVER_HUGE_PAGE_ALLOCATOR_H_

#include <cstddef>

namespace server {

namespace huge_pages {
inline constexpr size_t kHugePageBytes = size_t{2} << 20;
// `bytes` aligned on `align` (at most kHugePageBytes). Throws
// std::bad_alloc as new does.
void* Allocate(size_t bytes, size_t align);
// A block from Allocate, with the same `bytes` and `align`.
void Free(void* block, size_t bytes, size_t align) noexcept;
// Whether a block of `bytes` is mapped on its own (huge pages asked).
inline bool Mapped(size_t bytes) { return bytes >= kHugePageBytes; }
}  // namespace huge_pages

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    return static_cast<T*>(huge_pages::Allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    huge_pages::Free(p, n * sizeof(T), alignof(T));
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace server

#endif  // SERVER_HUGE_PAGE_ALLOCATOR_H_
