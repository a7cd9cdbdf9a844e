// The digit loop both DOM-free readers of JSON integers share
// (protocol/hot_command.h, protocol/item_scan.h): a run of decimal digits
// read as an unsigned 64-bit value, refused when it does not fit. What
// surrounds the digits (blanks, a sign, leading zeros, "-0", what may
// follow) is each reader's own rule and stays with it.
//
// Thread-safety: pure function.
#ifndef PROTOCOL_DECIMAL_H_
#define PROTOCOL_DECIMAL_H_

#include <cstdint>
#include <limits>

namespace protocol {

// Reads the digits from *p up to the first non-digit or `end` into
// *value, advancing *p past them (none: *value is 0, *p unmoved). False
// when the digits denote more than UINT64_MAX (*p is then somewhere among
// them, *value undefined).
inline bool ReadDecimalDigits(const char** p, const char* end,
                              uint64_t* value) {
  uint64_t v = 0;
  const char* q = *p;
  while (q < end && *q >= '0' && *q <= '9') {
    const auto digit = static_cast<uint64_t>(*q - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      *p = q;
      return false;
    }
    v = v * 10 + digit;
    ++q;
  }
  *p = q;
  *value = v;
  return true;
}

}  // namespace protocol

#endif  // PROTOCOL_DECIMAL_H_
