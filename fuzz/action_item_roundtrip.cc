// Fuzz target: the action item codec on any item, binary hai_data included.
// Input: the fixed fields of an item (taken from the input bytes, zero
// filled when short), then its hai_data: every remaining byte, whatever it
// is (Lustre's hai_data is bytes; `lfs hsm_archive --data` takes any).
// Property: decode(encode(x)) == x through the real wire path: ItemToJson,
// serialize, JsonStreamReader, ItemFromJson. An item the server cannot send
// losslessly is a lost request.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz/fuzz_util.h"
#include "protocol/action_item.h"
#include "protocol/json_stream.h"

namespace {

struct Fixed {
  uint32_t action;
  lu_fid fid;
  lu_fid dfid;
  uint64_t offset;
  uint64_t length;
  uint64_t cookie;
  uint64_t gid;
  uint32_t archive_id;
  uint64_t hal_flags;
  int64_t timestamp_ns;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixed fixed{};
  size_t head = size < sizeof(fixed) ? size : sizeof(fixed);
  memcpy(&fixed, data, head);

  protocol::WireItem item;
  hsm_action_item& hai = item.item.hai;
  hai.hai_action = fixed.action;
  hai.hai_fid = fixed.fid;
  hai.hai_dfid = fixed.dfid;
  hai.hai_extent.offset = fixed.offset;
  hai.hai_extent.length = fixed.length;
  hai.hai_cookie = fixed.cookie;
  hai.hai_gid = fixed.gid;
  item.archive_id = fixed.archive_id;
  item.hal_flags = fixed.hal_flags;
  item.timestamp_ns = fixed.timestamp_ns;
  item.item.data.assign(reinterpret_cast<const char*>(data) + head,
                        size - head);
  hai.hai_len = static_cast<uint32_t>(72 + item.item.data.size());

  std::string wire = boost::json::serialize(protocol::ItemToJson(item));
  protocol::JsonStreamReader reader;
  if (!reader.Feed(wire)) {
    fprintf(stderr, "encoded item is not JSON: %s\n", reader.error().c_str());
    abort();
  }
  boost::json::object object;
  FUZZ_CHECK(reader.Next(&object));
  FUZZ_CHECK(!reader.Next(&object));
  protocol::WireItem back;
  std::string error;
  if (!protocol::ItemFromJson(object, &back, &error)) {
    fprintf(stderr, "encoded item does not decode: %s\n", error.c_str());
    abort();
  }
  const hsm_action_item& b = back.item.hai;
  FUZZ_CHECK(back.item.data == item.item.data);
  FUZZ_CHECK(b.hai_len == hai.hai_len);
  FUZZ_CHECK(b.hai_action == hai.hai_action);
  FUZZ_CHECK(memcmp(&b.hai_fid, &hai.hai_fid, sizeof(lu_fid)) == 0);
  FUZZ_CHECK(memcmp(&b.hai_dfid, &hai.hai_dfid, sizeof(lu_fid)) == 0);
  FUZZ_CHECK(b.hai_extent.offset == hai.hai_extent.offset);
  FUZZ_CHECK(b.hai_extent.length == hai.hai_extent.length);
  FUZZ_CHECK(b.hai_cookie == hai.hai_cookie);
  FUZZ_CHECK(b.hai_gid == hai.hai_gid);
  FUZZ_CHECK(back.archive_id == item.archive_id);
  FUZZ_CHECK(back.hal_flags == item.hal_flags);
  FUZZ_CHECK(back.timestamp_ns == item.timestamp_ns);
  return 0;
}
