#include "server/huge_page_allocator.h"

#include <gtest/gtest.h>

#include <boost/unordered/unordered_flat_set.hpp>
#include <cstdint>
#include <cstring>

namespace server {
namespace {

// Small blocks come from the heap, big ones are mapped on 2 MiB: each is
// whole (written to its last byte) and aligned as asked.
TEST(HugePageAllocatorTest, BlocksOfEverySizeAreWholeAndAligned) {
  for (size_t bytes : {size_t{1}, size_t{4096}, huge_pages::kHugePageBytes - 1,
                       huge_pages::kHugePageBytes,
                       huge_pages::kHugePageBytes + 1, size_t{9} << 20}) {
    for (size_t align : {size_t{8}, size_t{64}}) {
      void* block = huge_pages::Allocate(bytes, align);
      ASSERT_NE(block, nullptr);
      const auto address = reinterpret_cast<uintptr_t>(block);
      EXPECT_EQ(address % align, 0u) << bytes;
      if (huge_pages::Mapped(bytes)) {
        EXPECT_EQ(address % huge_pages::kHugePageBytes, 0u) << bytes;
      }
      std::memset(block, 0xa5, bytes);
      EXPECT_EQ(static_cast<unsigned char*>(block)[bytes - 1], 0xa5);
      huge_pages::Free(block, bytes, align);
    }
  }
  EXPECT_FALSE(huge_pages::Mapped(huge_pages::kHugePageBytes - 1));
  EXPECT_TRUE(huge_pages::Mapped(huge_pages::kHugePageBytes));
}

// A table that grows from heap blocks to mapped ones, and shrinks back,
// keeps every element.
TEST(HugePageAllocatorTest, ATableGrowsAndShrinksThroughIt) {
  boost::unordered_flat_set<uint32_t, boost::hash<uint32_t>,
                            std::equal_to<uint32_t>,
                            HugePageAllocator<uint32_t>>
      set;
  constexpr uint32_t kCount = 1'000'000;  // several MiB of slots
  for (uint32_t i = 0; i < kCount; ++i) set.insert(i * 7);
  ASSERT_EQ(set.size(), kCount);
  for (uint32_t i = 0; i < kCount; ++i) ASSERT_TRUE(set.contains(i * 7)) << i;
  EXPECT_FALSE(set.contains(3));
  for (uint32_t i = 0; i < kCount; i += 2) set.erase(i * 7);
  set.rehash(0);
  EXPECT_EQ(set.size(), kCount / 2);
  for (uint32_t i = 1; i < kCount; i += 2)
    ASSERT_TRUE(set.contains(i * 7)) << i;
  set.clear();
  set.rehash(0);
  set.insert(5);
  EXPECT_TRUE(set.contains(5));
}

}  // namespace
}  // namespace server
