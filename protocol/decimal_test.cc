#include "protocol/decimal.h"

#include <gtest/gtest.h>

#include <string_view>

namespace protocol {
namespace {

struct Read {
  bool ok;
  uint64_t value;
  size_t consumed;
};

Read ReadOf(std::string_view text) {
  const char* p = text.data();
  uint64_t value = 12345;
  const bool ok = ReadDecimalDigits(&p, text.data() + text.size(), &value);
  return {ok, value, static_cast<size_t>(p - text.data())};
}

TEST(ReadDecimalDigits, ReadsTheDigitsUpToTheFirstOtherByte) {
  const Read r = ReadOf("1234,5");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.value, 1234u);
  EXPECT_EQ(r.consumed, 4u);
}

TEST(ReadDecimalDigits, NoDigitsIsZeroAndConsumesNothing) {
  for (std::string_view text : {"", "-1", "x", " 1"}) {
    const Read r = ReadOf(text);
    EXPECT_TRUE(r.ok) << text;
    EXPECT_EQ(r.value, 0u) << text;
    EXPECT_EQ(r.consumed, 0u) << text;
  }
}

TEST(ReadDecimalDigits, StopsAtTheEndGiven) {
  const std::string_view text = "987654";
  const char* p = text.data();
  uint64_t value = 0;
  ASSERT_TRUE(ReadDecimalDigits(&p, text.data() + 3, &value));
  EXPECT_EQ(value, 987u);
  EXPECT_EQ(p, text.data() + 3);
}

TEST(ReadDecimalDigits, TakesUint64MaxAndRefusesOneMore) {
  const Read max = ReadOf("18446744073709551615");
  EXPECT_TRUE(max.ok);
  EXPECT_EQ(max.value, UINT64_MAX);
  EXPECT_EQ(max.consumed, 20u);
  EXPECT_FALSE(ReadOf("18446744073709551616").ok);
  EXPECT_FALSE(ReadOf("18446744073709551620").ok);
  EXPECT_FALSE(ReadOf("99999999999999999999").ok);
  EXPECT_FALSE(ReadOf("184467440737095516150").ok);
}

TEST(ReadDecimalDigits, KeepsLeadingZerosForTheCallerToJudge) {
  const Read r = ReadOf("007");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.value, 7u);
  EXPECT_EQ(r.consumed, 3u);
}

}  // namespace
}  // namespace protocol
