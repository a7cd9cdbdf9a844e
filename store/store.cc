#include "store/store.h"

#include <cstring>

namespace store {

namespace {

constexpr size_t kRequestKeySize = 48;

// `digits` lowercase hex digits of `value`, zero-padded ("{:0<digits>x}").
char* AppendHex(char* out, uint64_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kDigits[value & 15];
    value >>= 4;
  }
  return out + digits;
}

void FormatRequestKey(char* out, uint64_t cookie, const lu_fid& dfid) {
  out = AppendHex(out, cookie, 16);
  out = AppendHex(out, dfid.f_seq, 16);
  out = AppendHex(out, dfid.f_oid, 8);
  AppendHex(out, dfid.f_ver, 8);
}

}  // namespace

std::string RequestKey(uint64_t cookie, const lu_fid& dfid) {
  std::string key(kRequestKeySize, '0');
  FormatRequestKey(key.data(), cookie, dfid);
  return key;
}

RequestKeyText::RequestKeyText(uint64_t cookie, const lu_fid& dfid) {
  static_assert(sizeof(digits_) == kRequestKeySize);
  FormatRequestKey(digits_, cookie, dfid);
}

bool IsRequestKey(std::string_view key, uint64_t cookie, const lu_fid& dfid) {
  if (key.size() != kRequestKeySize) return false;
  char expected[kRequestKeySize];
  FormatRequestKey(expected, cookie, dfid);
  return std::memcmp(key.data(), expected, kRequestKeySize) == 0;
}

}  // namespace store
