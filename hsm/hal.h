// Building and reading hsm_action_lists (HAL) and their KUC framing, with
// Lustre's exact layout: a 32-byte header, the fsname padded to 8 bytes, then
// items of 72 bytes + data, each padded to 8.
//
// Every length read from a message is checked against the message size
// before use: a HAL comes from another process and may be malformed.
//
// Thread-safety: HalBuilder is a value type with no shared state.
#ifndef HSM_HAL_H_
#define HSM_HAL_H_

#include <linux/lustre/lustre_kernelcomm.h>
#include <linux/lustre/lustre_user.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hsm {

inline constexpr size_t kHalHeaderSize = 32;  // sizeof(hsm_action_list)
inline constexpr size_t kHaiFixedSize = 72;   // sizeof(hsm_action_item)
// The coordinator keeps each HAL it builds within LDLM_MAXREQSIZE.
inline constexpr size_t kLustreMaxHalBytes = 5120;
// Lustre's HAL_MAXSIZE, the largest HAL a copytool's receive buffer holds
// (1 MiB). Lustre defines it as LNET_MTU, from <linux/lnet/lnet-types.h>,
// which lustre_user.h does not include and which is not valid C++ (the
// abi test checks the value from C).
inline constexpr uint32_t kHalMaxSize = uint32_t{1} << 20;
// The buffer given to llapi_search_fsname: a name has at most
// LUSTRE_MAXFSNAME characters and a NUL; the rest is room to spare, as
// lhsmtool_posix gives (docs/lustre.md, limits and names).
inline constexpr size_t kFsnameBufferSize = LUSTRE_MAXFSNAME + 1 + 120;

inline constexpr size_t Align8(size_t n) { return (n + 7) & ~size_t{7}; }

// Bytes an item takes in a HAL: ALIGN8(72 + data length).
inline constexpr size_t HaiSpace(size_t data_len) {
  return Align8(kHaiFixedSize + data_len);
}

// One action item: the fixed part (hai_len is recomputed on encode) and its
// opaque data.
struct ActionItem {
  std::string data;
  // Last: hsm_action_item ends with a flexible array member.
  hsm_action_item hai{};
};

// Appends items to a HAL in its final encoding.
class HalBuilder {
 public:
  // `fsname` must be at most LUSTRE_MAXFSNAME characters.
  HalBuilder(std::string_view fsname, uint32_t archive_id, uint64_t flags);

  // Appends `item` unless the HAL would then exceed `max_bytes` (header
  // included); returns whether it was appended. The first item is always
  // appended, so one oversized item still makes a HAL.
  bool Add(const hsm_action_item& hai, std::string_view data,
           size_t max_bytes = kLustreMaxHalBytes);
  bool Add(const ActionItem& item, size_t max_bytes = kLustreMaxHalBytes) {
    return Add(item.hai, item.data, max_bytes);
  }
  // Bytes the HAL would take with one more item of `data_len` data bytes.
  size_t SizeWith(size_t data_len) const {
    return bytes_.size() + HaiSpace(data_len);
  }

  uint32_t count() const { return count_; }
  size_t size() const { return bytes_.size(); }
  // The encoded hsm_action_list.
  const std::string& bytes() const { return bytes_; }
  // The HAL framed as one KUC message (kuc_hdr + HAL), as the kernel sends
  // it to a copytool. REQUIRES: size() + 8 <= 65535.
  std::string KucMessage() const;

 private:
  std::string bytes_;
  uint32_t count_ = 0;
};

struct DecodedHal {
  uint32_t version = 0;
  uint64_t compound_id = 0;
  uint64_t flags = 0;
  uint32_t archive_id = 0;
  std::string fsname;
  std::vector<ActionItem> items;
};

// Decodes a HAL of `size` bytes. On failure returns false and describes the
// first problem in *error (e.g. "item 3: hai_len 40 is shorter than 72").
bool DecodeHal(const void* hal, size_t size, DecodedHal* out,
               std::string* error);

// The user action (enum hsm_user_action: what `lfs hsm_*` asks and what
// llapi_hsm_current_action reports) that a copy action (enum
// hsm_copytool_action) carries out; HUA_NONE for anything else.
uint32_t UserActionOf(uint32_t hsma_action);

// The shutdown message a copytool receives when the filesystem goes away.
std::string KucShutdownMessage();

}  // namespace hsm

#endif  // HSM_HAL_H_
