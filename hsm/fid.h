// FID helpers for C++ code: formatting as Lustre prints FIDs, strict
// parsing, and hashing/ordering so a lu_fid can key a container.
//
// Thread-safety: all functions are pure.
#ifndef HSM_FID_H_
#define HSM_FID_H_

#include <linux/lustre/lustre_user.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace hsm {

// "[0x200000401:0x1:0x0]", as userspace printf(DFID) prints it: glibc's %#llx
// prints a zero sequence as "0", not "0x0".
std::string FormatFid(const lu_fid& fid);
// Same without the brackets (DFID_NOBRACE): the name under .lustre/fid/.
std::string FormatFidNoBrace(const lu_fid& fid);
// The kernel's %#llx prints zero as "0x0"; debugfs files use this form.
std::string FormatFidKernel(const lu_fid& fid);

// Accepts "[seq:oid:ver]" or "seq:oid:ver", each field in C notation (base 0,
// so "0x" for hex). Rejects trailing garbage and oid/ver beyond 32 bits.
std::optional<lu_fid> ParseFid(std::string_view text);

inline bool operator==(const lu_fid& a, const lu_fid& b) {
  return a.f_seq == b.f_seq && a.f_oid == b.f_oid && a.f_ver == b.f_ver;
}

struct FidHash {
  size_t operator()(const lu_fid& fid) const {
    uint64_t h = fid.f_seq * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t(fid.f_oid) << 32 | fid.f_ver) + 0x7F4A7C159E3779B9ULL +
         (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

struct FidLess {
  bool operator()(const lu_fid& a, const lu_fid& b) const {
    if (a.f_seq != b.f_seq) return a.f_seq < b.f_seq;
    if (a.f_oid != b.f_oid) return a.f_oid < b.f_oid;
    return a.f_ver < b.f_ver;
  }
};

}  // namespace hsm

#endif  // HSM_FID_H_
