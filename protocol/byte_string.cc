#include "protocol/byte_string.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

namespace protocol {

namespace json = boost::json;

namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> DecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}

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

std::string Base64Key(std::string_view key) {
  return std::string(key) + "_base64";
}

}  // namespace

bool IsValidUtf8(std::string_view bytes) {
  for (size_t pos = 0; pos < bytes.size();) {
    size_t n = SequenceLength(bytes, pos);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift : {18, 12, 6, 0})
      out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* bytes) {
  static constexpr std::array<int8_t, 256> kTable = DecodeTable();
  if (text.size() % 4 != 0) return false;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int pad = 0;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      int8_t d = kTable[static_cast<unsigned char>(c)];
      if (c == '=' && last && k >= 2) {
        ++pad;
        d = 0;
      } else if (d < 0 || pad > 0) {
        return false;  // not base64, or data after padding
      }
      v = v << 6 | static_cast<uint32_t>(d);
    }
    // The bits padding hides must be zero: one text per byte string.
    if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
      return false;
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>(v >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  *bytes = std::move(out);
  return true;
}

void PutBytes(json::object& object, std::string_view key,
              std::string_view bytes) {
  if (IsValidUtf8(bytes)) {
    object.erase(Base64Key(key));
    object[key] = json::string(bytes);
  } else {
    object.erase(key);
    object[Base64Key(key)] = Base64Encode(bytes);
  }
}

bool GetBytes(const json::object& object, std::string_view key,
              std::string* bytes, std::string* error) {
  const std::string key64 = Base64Key(key);
  const json::value* plain = object.if_contains(key);
  const json::value* encoded = object.if_contains(key64);
  if (plain && encoded) {
    *error = fmt::format("'{}' and '{}' are both present", key, key64);
    return false;
  }
  if (!plain && !encoded) {
    *error = fmt::format("'{}' is missing", key);
    return false;
  }
  if (plain) {
    if (!plain->is_string()) {
      *error = fmt::format("'{}' must be a string", key);
      return false;
    }
    bytes->assign(plain->get_string().data(), plain->get_string().size());
    return true;
  }
  if (!encoded->is_string() ||
      !Base64Decode(std::string_view(encoded->get_string()), bytes)) {
    *error = fmt::format("'{}' must be a base64 string", key64);
    return false;
  }
  return true;
}

std::string Printable(std::string_view bytes) {
  std::string out;
  for (size_t pos = 0; pos < bytes.size();) {
    const unsigned char c = static_cast<unsigned char>(bytes[pos]);
    size_t n = SequenceLength(bytes, pos);
    if (n > 1 || (n == 1 && c >= 0x20 && c != 0x7f && c != '\\')) {
      out.append(bytes.substr(pos, n));
      pos += n;
      continue;
    }
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
      default:
        out += fmt::format("\\x{:02x}", c);
    }
    ++pos;
  }
  return out;
}

}  // namespace protocol
