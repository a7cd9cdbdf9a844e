// Fuzz target: client::ParseActiveRequests, the parser of Lustre's
// hsm/active_requests text that `coordinatool-client -Q` reads after a crash.
// Input: byte 0 selects the mode.
//  - even: the rest is the text. Properties: no crash or undefined
//    behaviour; a text that parses gives one item per request line, each
//    line parsing alone to the same item; a refused text names the line.
//  - odd: the rest fills a request that is printed in the MDT's line format
//    (as Lustre's mdt_hsm_cdt_requests.c and the simulator's debugfs print
//    it) and parsed back. Property: every field the line carries comes back
//    (data: the first 5 bytes, all the line shows).
#include "client/active_requests.h"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "hsm/fid.h"

namespace {

bool SameItem(const protocol::WireItem& a, const protocol::WireItem& b) {
  const hsm_action_item& x = a.item.hai;
  const hsm_action_item& y = b.item.hai;
  return a.archive_id == b.archive_id && a.hal_flags == b.hal_flags &&
         a.item.data == b.item.data && x.hai_len == y.hai_len &&
         x.hai_action == y.hai_action &&
         memcmp(&x.hai_fid, &y.hai_fid, sizeof(lu_fid)) == 0 &&
         memcmp(&x.hai_dfid, &y.hai_dfid, sizeof(lu_fid)) == 0 &&
         x.hai_extent.offset == y.hai_extent.offset &&
         x.hai_extent.length == y.hai_extent.length &&
         x.hai_cookie == y.hai_cookie && x.hai_gid == y.hai_gid;
}

void ParseText(std::string_view text) {
  std::vector<protocol::WireItem> items;
  std::vector<std::string> warnings;
  std::string error;
  if (!client::ParseActiveRequests(text, &items, &warnings, &error)) {
    FUZZ_CHECK(error.starts_with("line "));
    FUZZ_CHECK(items.empty());
    return;
  }
  size_t next = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    FUZZ_CHECK(eol != std::string_view::npos);
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    if (line.starts_with("mdt.") && line.back() == '=') continue;
    FUZZ_CHECK(next < items.size());
    protocol::WireItem alone;
    std::string why, warning;
    FUZZ_CHECK(client::ParseActiveRequestLine(line, &alone, &why, &warning));
    FUZZ_CHECK(SameItem(alone, items[next]));
    FUZZ_CHECK(items[next].item.hai.hai_len ==
               72 + items[next].item.data.size());
    ++next;
  }
  FUZZ_CHECK(next == items.size());
}

struct Fields {
  uint32_t action;
  lu_fid fid;
  lu_fid dfid;
  uint64_t compound;
  uint64_t cookie;
  uint32_t archive_id;
  uint64_t flags;
  uint64_t offset;
  uint64_t length;
  uint64_t gid;
  uint8_t data_len;
};

std::string KHex(uint64_t v) { return fmt::format("{:#x}", v); }

void RoundTrip(const uint8_t* data, size_t size) {
  Fields f{};
  size_t head = size < sizeof(f) ? size : sizeof(f);
  memcpy(&f, data, head);
  std::string bytes(reinterpret_cast<const char*>(data) + head, size - head);
  static const char* const kActions[] = {"ARCHIVE", "RESTORE", "REMOVE"};
  static const uint32_t kCodes[] = {HSMA_ARCHIVE, HSMA_RESTORE, HSMA_REMOVE};
  const uint32_t which = f.action % 3;
  std::string hex;
  for (size_t i = 0; i < bytes.size() && i < 5; ++i)
    hex += fmt::format("{:02X}", static_cast<unsigned char>(bytes[i]));
  std::string line = fmt::format(
      "fid={} dfid={} compound/cookie={}/{} action={} archive#={} "
      "flags={} extent={}-{} gid={} data=[{}] canceled=0 "
      "uuid=0b1c2d3e-0000-4000-8000-000000000001 done=0",
      hsm::FormatFidKernel(f.fid), hsm::FormatFidKernel(f.dfid),
      KHex(f.compound), KHex(f.cookie), kActions[which], f.archive_id,
      KHex(f.flags), KHex(f.offset), KHex(f.length), KHex(f.gid), hex);
  protocol::WireItem item;
  std::string error, warning;
  if (!client::ParseActiveRequestLine(line, &item, &error, &warning)) {
    fprintf(stderr, "%s\n  refused: %s\n", line.c_str(), error.c_str());
    abort();
  }
  if (!warning.empty()) {
    fprintf(stderr, "%s\n  warning: %s\n", line.c_str(), warning.c_str());
    abort();
  }
  const hsm_action_item& hai = item.item.hai;
  FUZZ_CHECK(hai.hai_action == kCodes[which]);
  FUZZ_CHECK(memcmp(&hai.hai_fid, &f.fid, sizeof(lu_fid)) == 0);
  FUZZ_CHECK(memcmp(&hai.hai_dfid, &f.dfid, sizeof(lu_fid)) == 0);
  FUZZ_CHECK(hai.hai_cookie == f.cookie);
  FUZZ_CHECK(item.archive_id == f.archive_id);
  FUZZ_CHECK(item.hal_flags == f.flags);
  FUZZ_CHECK(hai.hai_extent.offset == f.offset);
  FUZZ_CHECK(hai.hai_extent.length == f.length);
  FUZZ_CHECK(hai.hai_gid == f.gid);
  FUZZ_CHECK(item.item.data == bytes.substr(0, 5));
  ParseText(line + "\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1)
    RoundTrip(data + 1, size - 1);
  else
    ParseText(
        std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
