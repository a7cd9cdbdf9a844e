// Test helpers of the Scheduler tests: wire items, stepped time, replies.
#ifndef SERVER_TEST_ITEMS_H_
#define SERVER_TEST_ITEMS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "protocol/action_item.h"
#include "server/scheduler.h"

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

// Stepped time of the Scheduler tests: one second in nanoseconds, and any
// epoch time to start from.
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'700'000'000 * kSec;

// The cookies of a reply's items, in the reply's order.
inline std::vector<uint64_t> Cookies(const DispatchReply& reply) {
  std::vector<uint64_t> cookies;
  for (const Item* item : reply.items) cookies.push_back(item->hai.hai_cookie);
  return cookies;
}

}  // namespace server::test

#endif  // SERVER_TEST_ITEMS_H_
