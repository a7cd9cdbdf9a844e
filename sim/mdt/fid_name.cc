#include "sim/mdt/fid_name.h"

#include <cinttypes>
#include <cstdio>
#include <string>

#include "sim/mdt/file_table.h"

namespace sim::mdt {

namespace {

// Lustre's first sequence of normal (client-visible) FIDs.
constexpr uint64_t kFirstNormalSeq = 0x200000400ULL;

}  // namespace

std::optional<lu_fid> ParseDotLustreFidName(std::string_view name) {
  while (!name.empty() && name.front() == '[') name.remove_prefix(1);
  std::string text(name);  // sscanf needs a terminated string
  uint64_t seq = 0;
  uint32_t oid = 0, ver = 0;
  if (sscanf(text.c_str(), "0x%" SCNx64 ":0x%" SCNx32 ":0x%" SCNx32, &seq, &oid,
             &ver) != 3)
    return std::nullopt;
  lu_fid fid{seq, oid, ver};
  if (fid == kRootFid) return fid;
  if (seq < kFirstNormalSeq || ver != 0) return std::nullopt;
  return fid;
}

}  // namespace sim::mdt
