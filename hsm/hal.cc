#include "hsm/hal.h"

#include <fmt/format.h>

#include <cstring>

namespace hsm {

HalBuilder::HalBuilder(std::string_view fsname, uint32_t archive_id,
                       uint64_t flags) {
  hsm_action_list hal{};
  hal.hal_version = HAL_VERSION;
  hal.hal_count = 0;
  hal.hal_compound_id = 0;
  hal.hal_flags = flags;
  hal.hal_archive_id = archive_id;
  bytes_.assign(reinterpret_cast<const char*>(&hal), sizeof(hal));
  bytes_.append(fsname);
  bytes_.resize(kHalHeaderSize + Align8(fsname.size() + 1), '\0');
}

bool HalBuilder::Add(const hsm_action_item& hai, std::string_view data,
                     size_t max_bytes) {
  if (count_ > 0 && SizeWith(data.size()) > max_bytes) return false;
  hsm_action_item fixed;
  memcpy(&fixed, &hai, sizeof(fixed));
  fixed.hai_len = static_cast<uint32_t>(kHaiFixedSize + data.size());
  size_t at = bytes_.size();
  bytes_.append(reinterpret_cast<const char*>(&fixed), sizeof(fixed));
  bytes_.append(data);
  bytes_.resize(at + HaiSpace(data.size()), '\0');
  ++count_;
  uint32_t count = count_;
  memcpy(bytes_.data() + offsetof(hsm_action_list, hal_count), &count,
         sizeof(count));
  return true;
}

std::string HalBuilder::KucMessage() const {
  kuc_hdr hdr{};
  hdr.kuc_magic = KUC_MAGIC;
  hdr.kuc_transport = KUC_TRANSPORT_HSM;
  hdr.kuc_flags = 0;
  hdr.kuc_msgtype = HMT_ACTION_LIST;
  hdr.kuc_msglen = static_cast<uint16_t>(sizeof(hdr) + bytes_.size());
  std::string msg(reinterpret_cast<const char*>(&hdr), sizeof(hdr));
  msg += bytes_;
  return msg;
}

bool DecodeHal(const void* data, size_t size, DecodedHal* out,
               std::string* error) {
  const char* base = static_cast<const char*>(data);
  if (size < kHalHeaderSize) {
    *error =
        fmt::format("message of {} bytes is shorter than a HAL header", size);
    return false;
  }
  hsm_action_list hal;
  memcpy(&hal, base, sizeof(hal));
  const char* fsname = base + kHalHeaderSize;
  size_t fsname_max = size - kHalHeaderSize;
  size_t fsname_len = strnlen(fsname, fsname_max);
  if (fsname_len == fsname_max) {
    *error = "hal_fsname is not NUL-terminated";
    return false;
  }
  if (fsname_len > LUSTRE_MAXFSNAME) {
    *error = fmt::format("hal_fsname of {} characters exceeds {}", fsname_len,
                         LUSTRE_MAXFSNAME);
    return false;
  }
  out->version = hal.hal_version;
  out->compound_id = hal.hal_compound_id;
  out->flags = hal.hal_flags;
  out->archive_id = hal.hal_archive_id;
  out->fsname.assign(fsname, fsname_len);
  out->items.clear();
  size_t pos = kHalHeaderSize + Align8(fsname_len + 1);
  for (uint32_t i = 0; i < hal.hal_count; ++i) {
    if (pos > size || size - pos < kHaiFixedSize) {
      *error = fmt::format("item {} of {} lies beyond the {} bytes received", i,
                           uint32_t{hal.hal_count}, size);
      return false;
    }
    ActionItem item;
    memcpy(&item.hai, base + pos, kHaiFixedSize);
    const uint32_t hai_len = item.hai.hai_len;
    if (hai_len < kHaiFixedSize) {
      *error = fmt::format("item {}: hai_len {} is shorter than {}", i, hai_len,
                           kHaiFixedSize);
      return false;
    }
    if (hai_len > size - pos) {
      *error = fmt::format("item {}: hai_len {} runs past the message end", i,
                           hai_len);
      return false;
    }
    item.data.assign(base + pos + kHaiFixedSize,
                     item.hai.hai_len - kHaiFixedSize);
    pos += Align8(item.hai.hai_len);
    out->items.push_back(std::move(item));
  }
  return true;
}

std::string KucShutdownMessage() {
  kuc_hdr hdr{};
  hdr.kuc_magic = KUC_MAGIC;
  hdr.kuc_transport = KUC_TRANSPORT_GENERIC;
  hdr.kuc_msgtype = KUC_MSG_SHUTDOWN;
  hdr.kuc_msglen = sizeof(hdr);
  return std::string(reinterpret_cast<const char*>(&hdr), sizeof(hdr));
}

uint32_t UserActionOf(uint32_t hsma_action) {
  switch (hsma_action) {
    case HSMA_ARCHIVE:
      return HUA_ARCHIVE;
    case HSMA_RESTORE:
      return HUA_RESTORE;
    case HSMA_REMOVE:
      return HUA_REMOVE;
    case HSMA_CANCEL:
      return HUA_CANCEL;
    default:
      return HUA_NONE;
  }
}

}  // namespace hsm
