// Crc32c: the standard check value, and the processor's instruction against
// the table on every length and alignment around its 8-byte steps.
#include "store/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace store {
namespace {

TEST(Crc32cTest, CheckValue) {
  // The CRC-32C of "123456789" (RFC 3720's catalogue value).
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32cPortable("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
}

TEST(Crc32cTest, InstructionMatchesTable) {
  std::mt19937 random(18);
  std::string bytes(1100, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  for (size_t offset = 0; offset < 9; ++offset)
    for (size_t size = 0; size + offset <= bytes.size();
         size += size < 40 ? 1 : 37)
      ASSERT_EQ(Crc32c(bytes.data() + offset, size),
                Crc32cPortable(bytes.data() + offset, size))
          << "offset " << offset << " size " << size;
}

}  // namespace
}  // namespace store
