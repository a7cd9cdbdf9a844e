#include "protocol/byte_string.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

#include "common/escape.h"

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

std::string Base64Key(std::string_view key) {
  return std::string(key) + "_base64";
}

}  // namespace

bool IsValidUtf8(std::string_view bytes) { return common::IsValidUtf8(bytes); }

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

std::string Printable(std::string_view bytes) { return common::Escape(bytes); }

}  // namespace protocol
