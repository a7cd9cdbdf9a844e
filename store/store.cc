#include "store/store.h"

#include <string>

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

}  // namespace

RequestKeyText::RequestKeyText(uint64_t cookie, const lu_fid& dfid) {
  static_assert(sizeof(digits_) == kRequestKeySize);
  char* out = AppendHex(digits_, cookie, 16);
  out = AppendHex(out, dfid.f_seq, 16);
  out = AppendHex(out, dfid.f_oid, 8);
  AppendHex(out, dfid.f_ver, 8);
}

// Both through RequestKeyText: one place formats the key.
std::string RequestKey(uint64_t cookie, const lu_fid& dfid) {
  return std::string(std::string_view(RequestKeyText(cookie, dfid)));
}

bool IsRequestKey(std::string_view key, uint64_t cookie, const lu_fid& dfid) {
  return key == std::string_view(RequestKeyText(cookie, dfid));
}

Handle Store::PutWritten(std::string_view key, const ValueWriter& write,
                         Handle handle) {
  std::string value;
  write(&value);
  return Put(key, value, handle);
}

}  // namespace store
