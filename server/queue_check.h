// QueueCheck: whether an item a client sends with `queue` is a live request
// at Lustre, before the server takes it (docs/protocol.md, queue).
//
// `queue` exists to give the server back requests it lost (a crash before
// its store write): Lustre still has them, STARTED, and will not send them
// again. Anything else queued is work Lustre never asked for: a REMOVE of a
// made-up request deletes the archive copy of a file whose MDT record still
// says "archived", and the next restore fails. So each new item must name a
// file Lustre knows, with an action of the same type waiting or running on
// it (llapi_hsm_current_action), and, for an archive or a remove, a data
// FID equal to its FID, as Lustre sends them (movers read or delete what
// the FIDs name).
//
// The cookie is not checked: Lustre shows a request's cookie only on the
// MDS (hsm/active_requests), never to a client node, and
// llapi_hsm_current_action answers with the action and its state only. A
// made-up cookie on a live request's file runs that same action on that
// same file; its end is refused by Lustre (unknown cookie) and the real
// request still runs.
//
// Pure: the server makes the llapi call and hands its answer here.
//
// Thread-safety: pure functions.
#ifndef SERVER_QUEUE_CHECK_H_
#define SERVER_QUEUE_CHECK_H_

#include <optional>
#include <string>

#include "hsm/lustreapi.h"

namespace server {

struct QueueRefused {
  std::string reason;
  // Lustre holds no such request: the file is gone, or has no live action
  // of that type. In a recovery (`coordinatool-client -Q` of Lustre's
  // active requests) that is a request that ended since the list was
  // read: nothing to do. Otherwise (a malformed item, Lustre not
  // answering) false.
  bool not_live = false;
};

// Why `hai` cannot be queued, given the answer of llapi_hsm_current_action
// on its FID (`rc` its return, `hca` its result); nullopt when Lustre has
// that action live on that file.
std::optional<QueueRefused> QueueRefusal(const hsm_action_item& hai, int rc,
                                         const hsm_current_action& hca);

}  // namespace server

#endif  // SERVER_QUEUE_CHECK_H_
