// The item of a `queue` command the store and takeover benchmarks inject:
// an ARCHIVE of a made-up FID, numbered i (FID oid and cookie i + 1), as
// the original's wire form writes a request.
#ifndef BENCH_SUPPORT_QUEUE_ITEM_H_
#define BENCH_SUPPORT_QUEUE_ITEM_H_

#include <boost/json.hpp>

namespace bench {

boost::json::object ArchiveQueueItem(int i);

}  // namespace bench

#endif  // BENCH_SUPPORT_QUEUE_ITEM_H_
