#include "common/escape.h"

#include <gtest/gtest.h>

#include <string>

namespace common {
namespace {

TEST(EscapeTest, PrintableTextIsKeptAsItIs) {
  EXPECT_EQ(Escape("mover-1.example:5123"), "mover-1.example:5123");
  EXPECT_EQ(Escape("user=bob,path=/été/x y"), "user=bob,path=/été/x y");
  EXPECT_TRUE(IsPrintable("tag=é"));
  EXPECT_EQ(Escape(""), "");
}

// A newline in a mover id or an error text would start a line of its own
// in a log or report file: the forged line must stay inside the real one.
TEST(EscapeTest, ALineBreakCannotForgeALine) {
  const std::string forged =
      "m1\ndone [0x200000401:0x2a:0x0] 0\r\n2026-01-01 info locked";
  const std::string escaped = Escape(forged);
  EXPECT_EQ(escaped.find('\n'), std::string::npos);
  EXPECT_EQ(escaped.find('\r'), std::string::npos);
  EXPECT_EQ(escaped,
            "m1\\ndone [0x200000401:0x2a:0x0] 0\\r\\n2026-01-01 info locked");
  EXPECT_FALSE(IsPrintable(forged));
}

TEST(EscapeTest, ControlAndInvalidBytesAreEscaped) {
  EXPECT_EQ(Escape(std::string("a\0b\tc\x7f", 6)), "a\\x00b\\tc\\x7f");
  // A terminal escape sequence (ESC [ 2 J clears the screen).
  EXPECT_EQ(Escape("\x1b[2J"), "\\x1b[2J");
  // Not UTF-8: a lone continuation byte, 0xff, a truncated sequence.
  EXPECT_EQ(Escape("\x80\xff\xc3"), "\\x80\\xff\\xc3");
  // C1 controls (U+0085 NEL, U+009B CSI) are valid UTF-8 but act as line
  // breaks or terminal escapes.
  EXPECT_EQ(Escape("a\xc2\x85"
                   "b\xc2\x9b"),
            "a\\xc2\\x85b\\xc2\\x9b");
  EXPECT_EQ(Escape("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is not a control
}

TEST(EscapeTest, ABackslashIsDoubledSoEscapesAreUnambiguous) {
  // The peer's four characters "\n" and a real newline differ once escaped.
  EXPECT_EQ(Escape("a\\nb"), "a\\\\nb");
  EXPECT_NE(Escape("a\\nb"), Escape("a\nb"));
  EXPECT_FALSE(IsPrintable("a\\b"));
}

TEST(EscapeTest, Utf8Validity) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));   // U+1F600
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

// IsPrintable reads plain text a word at a time: every byte value, at
// every place of a word and of the tail after the last whole word, must
// give what Escape says.
TEST(EscapeTest, IsPrintableAgreesWithEscapeForEveryByteAnywhere) {
  const std::string plain = "request sent [0x200000401:0x2a:0x0] m";  // 37
  for (int byte = 0; byte < 256; ++byte) {
    for (size_t at = 0; at < plain.size(); ++at) {
      std::string text = plain;
      text[at] = static_cast<char>(byte);
      EXPECT_EQ(IsPrintable(text), Escape(text) == text)
          << "byte " << byte << " at " << at;
    }
  }
}

}  // namespace
}  // namespace common
