// The setup the Scheduler's policy tests share (blocking restores first,
// one action per file at a time, per-owner limits): a fixture holding a
// fresh Scheduler, with the steps those tests repeat, and the items they
// make. Built on server/test_items.h.
#ifndef SERVER_SCHEDULER_FIXTURE_H_
#define SERVER_SCHEDULER_FIXTURE_H_

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "server/scheduler.h"
#include "server/test_items.h"

namespace server::test {

// The identity the Scheduler knows `wire` by.
inline ItemId IdOf(const protocol::WireItem& wire) {
  return ItemId::Of(wire.item.hai);
}
inline ItemId IdOf(const Item* item) { return item->id(); }

// A mover's limits: at most `restores` restores at once, and nothing else.
inline MoverLimits OnlyRestores(uint32_t restores) {
  MoverLimits limits;
  limits.max_running = {restores, 0, 0};
  return limits;
}

// A per-type counter summed over the types.
inline uint64_t Total(const std::array<uint64_t, kItemTypeCount>& by_type) {
  uint64_t total = 0;
  for (uint64_t n : by_type) total += n;
  return total;
}

// The file several requests share: [0x200000401:7:0].
constexpr uint32_t kSharedFile = 7;

// An item of `action` with `cookie` for file `file` (not the file the
// cookie names, as MakeItem's).
inline protocol::WireItem OfFile(uint32_t action, uint64_t cookie,
                                 uint32_t file = kSharedFile,
                                 std::string data = "") {
  protocol::WireItem wire = MakeItem(action, cookie, 1, std::move(data));
  wire.item.hai.hai_fid.f_oid = file;
  wire.item.hai.hai_dfid = wire.item.hai.hai_fid;
  return wire;
}

// A restore of `user` (fair share by the tag "user="), with hal `flags`.
inline protocol::WireItem OwnedRestore(uint64_t cookie, const std::string& user,
                                       uint64_t flags = 0) {
  return MakeItem(HSMA_RESTORE, cookie, 1, "user=" + user, flags);
}

class SchedulerFixture : public ::testing::Test {
 protected:
  // The cookies a dispatch to `mover` sends (every archive id).
  std::vector<uint64_t> Send(const MoverId& mover,
                             const MoverLimits& limits = MoverLimits{}) {
    return Cookies(s_.Dispatch(mover, {}, limits));
  }
  // Fair share by the tag "user=", at most `running` restores of one user
  // running at once (0: no limit).
  void ShareByUser(uint32_t running = 0) {
    s_.SetFairShare({.tag = "user=", .weights = {}, .by_caller = false});
    s_.SetRestoreOwnerLimit(running);
  }
  // Requests held behind an earlier one of their file; waiting ones.
  uint64_t Held() const { return Total(s_.counters().held_same_fid); }
  uint64_t Pending() const { return Total(s_.counters().pending); }

  Scheduler s_;
};

}  // namespace server::test

#endif  // SERVER_SCHEDULER_FIXTURE_H_
