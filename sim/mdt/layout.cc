#include "sim/mdt/layout.h"

#include <cerrno>
#include <cstring>

namespace sim::mdt {

namespace {

uint32_t ReadU32(const void* value, size_t offset) {
  uint32_t v;
  memcpy(&v, static_cast<const char*>(value) + offset, sizeof(v));
  return v;
}

// lod_verify_striping's checks of a plain layout the MDT is given: a pattern
// it can create, a stripe size in 64 KiB units.
int VerifyPlain(const lov_user_md_v1& lum) {
  uint32_t base = lum.lmm_pattern & ~uint32_t{LOV_PATTERN_F_MASK};
  if (base != LOV_PATTERN_RAID0 &&
      base != (LOV_PATTERN_RAID0 | LOV_PATTERN_OVERSTRIPING) &&
      base != LOV_PATTERN_MDT)
    return -EINVAL;
  if (lum.lmm_stripe_size % LOV_MIN_STRIPE_SIZE != 0) return -EINVAL;
  return 0;
}

}  // namespace

std::string LayoutXattr(const lu_fid& fid, bool released) {
  lov_user_md_v1 lum{};
  lum.lmm_magic = LOV_USER_MAGIC_V1;
  lum.lmm_pattern = LOV_PATTERN_RAID0;
  // The MDT keeps the file's own FID as the layout's object id.
  lum.lmm_oi.oi_fid = fid;
  lum.lmm_stripe_size = kDefaultStripeSize;
  lum.lmm_stripe_count = kDefaultStripeCount;
  lum.lmm_stripe_offset = LOV_OFFSET_DEFAULT;
  if (released) {
    // The client sees no stripes in a released layout (lov_ea.c).
    lum.lmm_pattern |= LOV_PATTERN_F_RELEASED;
    lum.lmm_stripe_count = 0;
    return std::string(reinterpret_cast<const char*>(&lum), sizeof(lum));
  }
  lov_user_ost_data_v1 stripe{};
  // An object of OST 0 in the MDT0 sequence, numbered like the file.
  stripe.l_ost_oi.oi.oi_id = fid.f_oid;
  stripe.l_ost_oi.oi.oi_seq = 0;
  stripe.l_ost_gen = 0;
  stripe.l_ost_idx = 0;
  std::string bytes(reinterpret_cast<const char*>(&lum), sizeof(lum));
  bytes.append(reinterpret_cast<const char*>(&stripe), sizeof(stripe));
  return bytes;
}

ssize_t GetLayoutXattr(const lu_fid& fid, bool released, void* buf,
                       size_t size) {
  std::string value = LayoutXattr(fid, released);
  if (size == 0) return static_cast<ssize_t>(value.size());
  if (size < value.size()) return -ERANGE;
  memcpy(buf, value.data(), value.size());
  return static_cast<ssize_t>(value.size());
}

int CheckLayoutXattr(const void* value, size_t size) {
  // ll_setstripe_ea: an empty value is a removal, a no-op on a file.
  if (size == 0) return 0;
  if (value == nullptr || size < sizeof(lov_user_md_v1)) return -ERANGE;
  lov_user_md_v1 lum;
  memcpy(&lum, value, sizeof(lum));
  switch (lum.lmm_magic) {
    case LOV_USER_MAGIC_V1:
      return VerifyPlain(lum);
    case LOV_USER_MAGIC_V3:
      if (size < sizeof(lov_user_md_v3)) return -ERANGE;
      return VerifyPlain(lum);
    case LOV_USER_MAGIC_SPECIFIC:
      if (size <
          lov_user_md_size(lum.lmm_stripe_count, LOV_USER_MAGIC_SPECIFIC))
        return -ERANGE;
      return VerifyPlain(lum);
    case LOV_USER_MAGIC_COMP_V1: {
      // lov_comp_md_v1.lcm_size, the whole composite layout's size.
      uint32_t total = ReadU32(value, 4);
      return total == 0 || size < total ? -ERANGE : 0;
    }
    case LOV_USER_MAGIC_FOREIGN: {
      // lov_foreign_md: magic, length, type, flags, then length bytes.
      uint32_t length = ReadU32(value, 4);
      return size < size_t{16} + length ? -ERANGE : 0;
    }
    default:
      return -ERANGE;
  }
}

}  // namespace sim::mdt
