// Reconcile: the rule of the `reconcile` command (docs/protocol.md,
// reconcile; docs/operations.md, the reconciler), which brings the server's
// queues back in line with the requests Lustre holds.
//
// A reconciler on the MDS reads Lustre's active requests and sends them with
// the token of the previous reply. The server takes the items it does not
// know (as `queue` does) and drops the waiting items that are not listed,
// but only those it already held when it answered the pass the token names.
// Why that is safe: Lustre records a request as active before it sends it
// to the agent, and the reconciler reads Lustre's list only after it got
// the previous reply. An item the server held when it answered that pass was
// active at Lustre then; missing from a list read later, it has ended at
// Lustre (timed out, cancelled at the MDT) and must never be handed out. An
// item that arrived after that answer may be missing only because the list
// was read before Lustre sent it: it is kept. A token of another instance
// of the server (a restart) or none (a reconciler that only adds, as on a
// site with several MDS nodes each seeing its own MDTs) drops nothing.
//
// Items are told apart by their arrival number (Item::seq, increasing for
// the server's life): the token names a pass, the pass the arrival number
// the next item had when that pass was answered.
//
// Items running on a mover are never dropped here: their end will be
// refused by Lustre. They are reported once (Fate::kRunningGone), until they
// are listed again or gone.
//
// Socket-free and clock-free; the server makes the scheduler's and the
// store's changes.
//
// Thread-safety: none; the event loop's.
#ifndef SERVER_RECONCILE_H_
#define SERVER_RECONCILE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "protocol/item_id.h"
#include "protocol/messages.h"

namespace server {

class Scheduler;

// A new instance id: 16 hex digits from the system's random source, new at
// every start of the server (announced in ehlo replies and status).
std::string NewInstanceId();

using ListedIds = std::unordered_set<protocol::ItemId, protocol::ItemIdHash>;

// The identities Lustre's list names. A restore is named twice: Lustre
// lists a started restore under its volatile data FID, while the server
// knows it by the dfid it was handed, the file's own (its FID). *whole is
// false when an entry could not be read.
ListedIds ListedIdsOf(const std::vector<protocol::ListEntry>& entries,
                      bool* whole);

// One item the server holds, as the rule sees it.
struct HeldItem {
  protocol::ItemId id;
  uint64_t seq = 0;  // arrival number (Item::seq)
  bool running = false;
};

enum class Fate {
  kKeep,
  kDrop,              // waiting, held at the token's pass, not listed
  kRunningGone,       // running, not listed: report it (first time)
  kRunningGoneQuiet,  // running, not listed, reported at an earlier pass
};

class Reconcile {
 public:
  // `remembered` passes of this instance are known by their token; an
  // older token drops nothing.
  explicit Reconcile(std::string instance, size_t remembered = 16);

  const std::string& instance() const { return instance_; }

  // One pass in progress.
  struct Pass {
    // Items whose arrival number is below it may be dropped; none: the
    // pass only adds.
    std::optional<uint64_t> mark;
    // Why nothing is dropped (mark empty): "no token", "a token of
    // another server instance"...
    std::string add_only_reason;
    std::unordered_set<protocol::ItemId, protocol::ItemIdHash> gone_running;
  };

  // Starts a pass. `token`: the one the reconciler sent (none: add only).
  // `list_whole`: every item of the list was read (one undecodable entry
  // might be an item the server holds: then nothing is dropped).
  Pass Begin(const std::optional<std::string>& token, bool list_whole) const;

  // What becomes of `item`, `listed` or not in Lustre's list.
  Fate Judge(Pass& pass, const HeldItem& item, bool listed) const;

  // Judges every item `scheduler` holds against `listed` (Lustre's list).
  struct Verdict {
    std::vector<protocol::ItemId> drop;
    std::vector<protocol::ItemId> report;  // running, gone, first time
    size_t running_gone = 0;               // running, gone, in all
  };
  Verdict Decide(Pass& pass, const Scheduler& scheduler,
                 const ListedIds& listed) const;

  // Ends the pass, answered when the next arrival number is `next_seq`.
  // Returns the token of this pass for the reconciler's next one.
  std::string End(Pass& pass, uint64_t next_seq);

 private:
  std::string instance_;
  size_t remembered_;
  uint64_t passes_ = 0;
  // (pass number, mark), the latest last.
  std::deque<std::pair<uint64_t, uint64_t>> marks_;
  // Running items reported at the last pass.
  std::unordered_set<protocol::ItemId, protocol::ItemIdHash> reported_;
};

}  // namespace server

#endif  // SERVER_RECONCILE_H_
