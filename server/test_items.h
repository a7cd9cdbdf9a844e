// Test helper: wire items for the Scheduler tests.
#ifndef SERVER_TEST_ITEMS_H_
#define SERVER_TEST_ITEMS_H_

#include <cstdint>
#include <string>
#include <utility>

#include "protocol/action_item.h"

namespace server::test {

// An item of `action` for the whole of file [0x200000401:cookie:0], with
// `cookie`, `data` as its hsm data, `archive_id` and `flags`; no timestamp.
inline protocol::WireItem MakeItem(uint32_t action, uint64_t cookie,
                                   uint32_t archive_id = 1,
                                   std::string data = "", uint64_t flags = 0) {
  protocol::WireItem wire;
  wire.item.hai.hai_action = action;
  wire.item.hai.hai_fid = {0x200000401, static_cast<uint32_t>(cookie), 0};
  wire.item.hai.hai_dfid = wire.item.hai.hai_fid;
  wire.item.hai.hai_extent = {0, LUSTRE_EOF};
  wire.item.hai.hai_cookie = cookie;
  wire.item.data = std::move(data);
  wire.item.hai.hai_len = 72 + wire.item.data.size();
  wire.archive_id = archive_id;
  wire.hal_flags = flags;
  return wire;
}

}  // namespace server::test

#endif  // SERVER_TEST_ITEMS_H_
