// Fuzz target: hsm::DecodeHal, the bounds-checked reader of an
// hsm_action_list (HAL) as the kernel, or the simulated MDT, sends it.
// Properties: no crash, no read outside the input (ASan); a HAL that decodes
// walks with Lustre's own hai_first()/hai_next() inside the message for
// hal_count items (what every copytool does after llapi_hsm_copytool_recv);
// rebuilding it with HalBuilder gives a HAL that decodes to the same header
// fields and items.
#include "hsm/hal.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"

namespace {

bool SameItems(const std::vector<hsm::ActionItem>& a,
               const std::vector<hsm::ActionItem>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].data != b[i].data) return false;
    if (memcmp(&a[i].hai, &b[i].hai, sizeof(hsm_action_item)) != 0)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, 8-aligned as the kernel's buffer is, so
  // ASan sees any read past the end.
  std::vector<uint64_t> aligned((size + 7) / 8 + 1);
  char* base = reinterpret_cast<char*>(aligned.data());
  if (size) memcpy(base, data, size);
  // Only the first `size` bytes are the message: poison-free, but the walk
  // below is checked against `size` explicitly.

  hsm::DecodedHal hal;
  std::string error;
  if (!hsm::DecodeHal(base, size, &hal, &error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  auto* list = reinterpret_cast<hsm_action_list*>(base);
  FUZZ_CHECK(list->hal_count == hal.items.size());
  FUZZ_CHECK(hal.fsname.size() <= LUSTRE_MAXFSNAME);
  hsm_action_item* hai = hai_first(list);
  for (uint32_t i = 0; i < list->hal_count; ++i) {
    size_t at = reinterpret_cast<char*>(hai) - base;
    FUZZ_CHECK(at + hsm::kHaiFixedSize <= size);
    FUZZ_CHECK(hai->hai_len >= hsm::kHaiFixedSize);
    FUZZ_CHECK(at + hai->hai_len <= size);
    FUZZ_CHECK(hal.items[i].data.size() == hai->hai_len - hsm::kHaiFixedSize);
    hai = hai_next(hai);
  }

  hsm::HalBuilder builder(hal.fsname, hal.archive_id, hal.flags);
  for (const hsm::ActionItem& item : hal.items)
    FUZZ_CHECK(builder.Add(item, std::numeric_limits<size_t>::max()));
  FUZZ_CHECK(builder.count() == hal.items.size());
  hsm::DecodedHal again;
  FUZZ_CHECK(
      hsm::DecodeHal(builder.bytes().data(), builder.size(), &again, &error));
  FUZZ_CHECK(again.fsname == hal.fsname);
  FUZZ_CHECK(again.archive_id == hal.archive_id);
  FUZZ_CHECK(again.flags == hal.flags);
  FUZZ_CHECK(SameItems(again.items, hal.items));
  if (builder.size() + sizeof(kuc_hdr) <= 65535) {
    std::string kuc = builder.KucMessage();
    kuc_hdr hdr;
    memcpy(&hdr, kuc.data(), sizeof(hdr));
    FUZZ_CHECK(hdr.kuc_msglen == kuc.size());
    FUZZ_CHECK(kuc.compare(sizeof(hdr), std::string::npos, builder.bytes()) ==
               0);
  }
  return 0;
}
