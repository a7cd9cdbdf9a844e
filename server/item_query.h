// ItemQuery: the answers of `show` (where the requests of one file are) and
// `list` (a filtered page of requests), docs/protocol.md.
//
// Bounded work per call whatever the queue lengths, so that a question
// about a file or a page through a million requests never stalls the
// event loop: `show` finds a file's requests through the Scheduler's index
// by FID and counts its position from its place towards its queue's head,
// at most kPositionBound items ("beyond" past that); `list` walks the
// arrival index from its cursor and examines at most kMaxExamined items
// per call, the reply saying where to go on.
//
// Socket-free; time comes from the injected clock. Thread-safety: none;
// the server's event loop owns it.
#ifndef SERVER_ITEM_QUERY_H_
#define SERVER_ITEM_QUERY_H_

#include <boost/json.hpp>
#include <cstddef>

#include "common/clock.h"
#include "protocol/messages.h"
#include "server/dispatch_rate.h"
#include "server/movers.h"
#include "server/recent_done.h"
#include "server/retry_memory.h"
#include "server/scheduler.h"

namespace server {

class ItemQuery {
 public:
  static constexpr size_t kPositionBound = 100'000;
  static constexpr size_t kMaxExamined = 10'000;

  ItemQuery(const Scheduler& scheduler, const MoverTable& movers,
            const RecentDone& recent, const DispatchRate& rate,
            const common::Clock& clock, const RetryMemory* retries = nullptr)
      : scheduler_(scheduler),
        movers_(movers),
        recent_(recent),
        rate_(rate),
        clock_(clock),
        retries_(retries) {}

  // {"fid": "[...]", "requests": [...]}: the file's requests held now
  // (newest first), then those that ended lately (newest first).
  boost::json::object Show(const lu_fid& fid) const;
  // {"requests": [...], "examined": N, "cursor": C}: `cursor` absent once
  // the end was reached.
  boost::json::object List(const protocol::ListRequest& request) const;

  // The state name of a held item: waiting, locating, held, oversized,
  // running.
  static const char* StateOf(const Item& item);

 private:
  // What `list` says of an item (`show` adds position and estimate).
  boost::json::object Describe(const Item& item) const;

  const Scheduler& scheduler_;
  const MoverTable& movers_;
  const RecentDone& recent_;
  const DispatchRate& rate_;
  const common::Clock& clock_;
  const RetryMemory* retries_;  // attempts of retried requests; may be null
};

}  // namespace server

#endif  // SERVER_ITEM_QUERY_H_
