#include "common/escape.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace common {

namespace {

// Length of the well-formed UTF-8 sequence at bytes[pos], or 0.
size_t SequenceLength(std::string_view bytes, size_t pos) {
  auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const unsigned char c = at(pos);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, overlong lead, or 0xf5..0xff
  }
  if (pos + n > bytes.size()) return 0;
  if (at(pos + 1) < lo || at(pos + 1) > hi) return 0;
  for (size_t i = 2; i < n; ++i)
    if ((at(pos + i) & 0xc0) != 0x80) return 0;
  return n;
}

// The length of the printable sequence at bytes[pos] kept as it is, or 0
// when that byte must be escaped.
size_t KeptLength(std::string_view bytes, size_t pos) {
  const auto c = static_cast<unsigned char>(bytes[pos]);
  const size_t n = SequenceLength(bytes, pos);
  if (n > 1) {
    // C1 controls (U+0080..U+009F, encoded C2 80..C2 9F) act as terminal
    // escapes too.
    if (c == 0xc2 && static_cast<unsigned char>(bytes[pos + 1]) < 0xa0)
      return 0;
    return n;
  }
  return n == 1 && c >= 0x20 && c != 0x7f && c != '\\' ? 1 : 0;
}

// True if the 8 bytes at `p` are all printable ASCII other than the
// backslash (0x20..0x7e): what every log line is made of. One word at a
// time, not one compare per byte: a request line is checked at each of
// the four events of every request.
bool EightPlainAscii(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  // A byte's high bit set in each term means: below 0x20 (the byte minus
  // 0x20 borrows), 0x7f or above (the byte plus 1 reaches 0x80, or the byte
  // had its high bit already), equal to '\\' (its xor is zero). No byte
  // has its high bit set here, so no borrow or carry crosses bytes.
  if (w & kHigh) return false;
  const uint64_t below = w + (kHigh - 0x20 * kOnes);  // high bit: >= 0x20
  const uint64_t above = w + kOnes;                   // high bit: >= 0x7f
  const uint64_t x = w ^ ('\\' * kOnes);
  const uint64_t backslash = x + (kHigh - kOnes);  // high bit: x >= 1
  return ((below & ~above & backslash) & kHigh) == kHigh;
}

}  // namespace

bool IsValidUtf8(std::string_view bytes) {
  for (size_t pos = 0; pos < bytes.size();) {
    // ASCII, the usual case, one compare per byte.
    if (static_cast<unsigned char>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    size_t n = SequenceLength(bytes, pos);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

bool IsPrintable(std::string_view bytes) {
  for (size_t pos = 0; pos < bytes.size();) {
    // Printable ASCII, the usual case (every log line), a word at a time,
    // then one compare per byte; anything else the whole check.
    if (pos + 8 <= bytes.size() && EightPlainAscii(bytes.data() + pos)) {
      pos += 8;
      continue;
    }
    const auto c = static_cast<unsigned char>(bytes[pos]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      ++pos;
      continue;
    }
    size_t n = KeptLength(bytes, pos);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

std::string Escape(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t pos = 0; pos < bytes.size();) {
    if (size_t n = KeptLength(bytes, pos); n > 0) {
      out.append(bytes.substr(pos, n));
      pos += n;
      continue;
    }
    const auto c = static_cast<unsigned char>(bytes[pos]);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char hex[5];
        std::snprintf(hex, sizeof(hex), "\\x%02x", c);
        out += hex;
      }
    }
    ++pos;
  }
  return out;
}

}  // namespace common
