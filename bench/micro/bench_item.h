// Benchmark helper: the hsm_action_item of the micro benchmarks' items.
#ifndef BENCH_MICRO_BENCH_ITEM_H_
#define BENCH_MICRO_BENCH_ITEM_H_

#include <cstdint>

#include "protocol/action_item.h"

namespace bench {

// Sets wire->item.hai for item number `n`: `action` on the whole of a file
// whose FID is unique to n (2^20 per sequence), cookie n, and the hai_len of
// the data already in wire->item.data.
inline void SetActionItem(uint64_t n, uint32_t action,
                          protocol::WireItem* wire) {
  hsm_action_item& hai = wire->item.hai;
  hai.hai_len = static_cast<uint32_t>(72 + wire->item.data.size());
  hai.hai_action = action;
  hai.hai_fid = {0x200000400ULL + (n >> 20),
                 static_cast<uint32_t>(n & 0xfffff) + 1, 0};
  hai.hai_dfid = hai.hai_fid;
  hai.hai_extent = {0, ~0ULL};
  hai.hai_cookie = n;
}

}  // namespace bench

#endif  // BENCH_MICRO_BENCH_ITEM_H_
