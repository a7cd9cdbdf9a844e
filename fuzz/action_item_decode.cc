// Fuzz target: protocol::ItemFromJson and FidFromJson over any JSON a peer
// may send (the input is JSON text; what does not parse is dropped).
// Properties: no crash or undefined behaviour; a decoded item encodes
// (ItemToJson) to valid JSON that decodes to the same item again.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz/fuzz_util.h"
#include "protocol/action_item.h"

namespace {

bool SameItem(const protocol::WireItem& a, const protocol::WireItem& b) {
  const hsm_action_item& x = a.item.hai;
  const hsm_action_item& y = b.item.hai;
  return a.archive_id == b.archive_id && a.hal_flags == b.hal_flags &&
         a.timestamp_ns == b.timestamp_ns && a.item.data == b.item.data &&
         x.hai_len == y.hai_len && x.hai_action == y.hai_action &&
         memcmp(&x.hai_fid, &y.hai_fid, sizeof(lu_fid)) == 0 &&
         memcmp(&x.hai_dfid, &y.hai_dfid, sizeof(lu_fid)) == 0 &&
         x.hai_extent.offset == y.hai_extent.offset &&
         x.hai_extent.length == y.hai_extent.length &&
         x.hai_cookie == y.hai_cookie && x.hai_gid == y.hai_gid;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(
      std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;

  lu_fid fid{};
  std::string error;
  if (protocol::FidFromJson(value, &fid, &error)) {
    lu_fid again{};
    FUZZ_CHECK(protocol::FidFromJson(protocol::FidToJson(fid), &again, &error));
    FUZZ_CHECK(memcmp(&fid, &again, sizeof(fid)) == 0);
  } else {
    FUZZ_CHECK(!error.empty());
  }

  const boost::json::object* object = value.if_object();
  if (!object) return 0;
  protocol::WireItem item;
  error.clear();
  if (!protocol::ItemFromJson(*object, &item, &error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(item.item.hai.hai_len == 72 + item.item.data.size());
  std::string text = boost::json::serialize(protocol::ItemToJson(item));
  boost::json::value reparsed = boost::json::parse(text, ec);
  FUZZ_CHECK(!ec && reparsed.is_object());
  protocol::WireItem again;
  FUZZ_CHECK(protocol::ItemFromJson(reparsed.as_object(), &again, &error));
  FUZZ_CHECK(SameItem(item, again));
  return 0;
}
