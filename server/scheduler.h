// Scheduler: the server's queues of waiting items and which mover runs what,
// and the dispatch decision for one mover asking for work.
//
// Waiting items sit in FIFO queues keyed by (owner, type, group, archive id,
// hal flags) — owner: a mover's own queue or the global one; group: the
// fair-share owner of a restore or the batch hint of an archive — so a
// dispatch looks at the heads of the eligible queues only: its cost grows
// with the number of keys it looks at, never with the number of queued
// items, and items a mover cannot take never hide the ones it can (the
// original's starvation behind the 100 items it examines cannot happen:
// docs/policies.md, how a dispatch decides). Free batch slots find the oldest
// unheld hint through an index of batch queue heads.
// docs/policies.md describes every policy.
//
// Pure logic: no I/O, no clock (time is the caller's `now_ns`). Thread-safety:
// none; the server's event loop owns it.
#ifndef SERVER_SCHEDULER_H_
#define SERVER_SCHEDULER_H_

#include <linux/lustre/lustre_user.h>

#include <array>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "config/config_file.h"
#include "hsm/hal.h"
#include "server/huge_page_allocator.h"
#include "server/item.h"
#include "server/slab.h"
#include "server/tape_media.h"

namespace server {

// A limit that never binds (a negative `max_*` in `recv`): the value the
// client settings give "-1".
using config::kUnlimited;

// What a mover said in its last `recv`.
struct MoverLimits {
  std::array<uint32_t, kItemTypeCount> max_running{kUnlimited, kUnlimited,
                                                   kUnlimited};
  uint32_t max_bytes = hsm::kHalMaxSize;  // a mover's default receive buffer
};

// The byte cost of one item in a reply, as the original counts it (an
// over-estimate of the binary list the mover builds): two fixed item sizes
// plus the data (docs/protocol.md, recv).
inline size_t ReplyCost(const protocol::WireItem& wire) {
  return 2 * hsm::kHaiFixedSize + wire.item.data.size();
}
inline size_t ReplyCost(const Item& item) {
  return 2 * hsm::kHaiFixedSize + item.data_size;
}

// An item set aside by a dispatch: it needs `cost` bytes, more than the
// buffer of the mover that asked.
struct ParkedNote {
  ItemId id;
  size_t cost = 0;
  uint32_t max_bytes = 0;
};

struct DispatchReply {
  uint32_t archive_id = 0;
  uint64_t hal_flags = 0;
  std::vector<protocol::WireItem> cancels;  // sent first
  // The items sent, running on the mover now. They are the Scheduler's
  // own, not copies (a copy of each one's hsm data cost an allocation per
  // item): valid until the Scheduler next changes (a done, a requeue, a
  // drop), so read them before anything else reaches the Scheduler.
  std::vector<const Item*> items;
  std::vector<ParkedNote> parked;  // for the log; not part of the reply
  bool empty() const { return cancels.empty() && items.empty(); }
};

// Restores shared between owners (users, groups, projects named by a tag of
// the request's data) in proportion to their weights, by stride scheduling
// over the owners that have restores waiting: one owner's bulk recall
// cannot starve the others, and an idle owner saves no credit.
struct FairShareOptions {
  std::string tag;  // e.g. "user="; empty: off unless `by_caller`
  std::map<std::string, uint32_t> weights;  // absent owners weigh 1
  // The owner of each restore is given to Enqueue() (the server looked the
  // file's uid, gid or project up) instead of read from the tag.
  bool by_caller = false;
};

// Archive batching (docs/policies.md, archive batching): each mover has `slots`
// batch slots. A slot holds a hint (an archive's whole data) for a time slice
// and only archives with that hint are sent from it, so files meant to be read
// together land on one mover (and its tapes). The slice ends `idle` after
// the last item joined or left the slot while none waits for it, or `max`
// after the slot took the hint. A slot never runs more than
// ceil(max_archive / slots) items, so one batch cannot take all of a mover's
// archive capacity. A hint belongs to at most one slot at a time; a free slot
// takes the hint whose oldest archive waited longest. Archives without data
// are not batched: any mover takes them, within its max_archive.
struct BatchOptions {
  std::chrono::nanoseconds idle{0};  // 0: batching off
  std::chrono::nanoseconds max{0};   // 0: no maximum
  uint32_t slots = 1;
};

// One batch slot as status reports it.
struct BatchSlotView {
  std::string hint;      // empty: free
  uint32_t running = 0;  // items sent from the slot and not done
  int64_t idle_deadline_ns = 0;
  int64_t max_deadline_ns = 0;  // 0: none
  size_t waiting = 0;           // archives with this hint it may take
};

// The owner of restores waiting for their medium (recalls in tape order):
// no mover can have this id, only the tape stage sends them.
extern const MoverId kOnMedium;

struct SchedulerCounters {
  std::array<uint64_t, kItemTypeCount> pending{};
  std::array<uint64_t, kItemTypeCount> running{};
  std::array<uint64_t, kItemTypeCount> done{};    // failed ones included
  std::array<uint64_t, kItemTypeCount> failed{};  // done with a status != 0
  uint64_t pending_cancel = 0;
  uint64_t done_cancel = 0;
  uint64_t oversized = 0;  // waiting items set aside (in pending too)
  // Items waiting behind an earlier request of the same file (one action
  // per file at a time), by type: not in `pending`, which counts the items
  // a dispatch may take.
  std::array<uint64_t, kItemTypeCount> held_same_fid{};
  // Restores sent by the blocking stage (HSM_REQ_BLOCKING, served first).
  uint64_t blocking_restores_sent = 0;
  // Requests ended with HP_FLAG_RETRY whose return is awaited: each keeps
  // its file busy (Scheduler::Done, await_retry).
  uint64_t awaiting_retry = 0;
};

// Whether the Lustre headers have HSM_REQ_BLOCKING (a restore a process
// waits on): without it blocking restores cannot be told apart and the
// blocking stage is inert.
#if COORDINATOOL_HAVE_HSM_REQ_BLOCKING
inline constexpr uint64_t kBlockingRestoreFlag = HSM_REQ_BLOCKING;
#else
inline constexpr uint64_t kBlockingRestoreFlag = 0;
#endif

class Scheduler {
 public:
  Scheduler();
  ~Scheduler();

  // REQUIRES: nothing queued yet.
  void SetFairShare(FairShareOptions options);
  // Archives that waited longer than this go before restores (aging), so a
  // stream of restores never starves them forever. 0: off.
  void SetArchiveMaxWait(std::chrono::nanoseconds wait) {
    archive_max_wait_ns_ = wait.count();
  }
  // REQUIRES: nothing queued yet. slots == 0 or idle == 0 turn batching off.
  void SetBatching(BatchOptions options);
  // New slice times (a reload), batching staying on: slices taken from now
  // on, and idle deadlines renewed from now on, use them; a slice already
  // running keeps the deadlines it has. REQUIRES: batching() and idle > 0.
  void SetBatchTimes(std::chrono::nanoseconds idle,
                     std::chrono::nanoseconds max) {
    batch_.idle = idle;
    batch_.max = max;
  }
  // New fair share weights (a reload): they count from the next restore
  // sent on; passes already earned stay. Absent owners weigh 1.
  void SetFairShareWeights(std::map<std::string, uint32_t> weights) {
    fair_share_.weights = std::move(weights);
  }
  bool batching() const { return batch_.idle.count() > 0 && batch_.slots > 0; }
  // Blocking restores first (docs/policies.md): restores whose hal_flags
  // carry HSM_REQ_BLOCKING (a process waits on the file) go before the
  // other restores, but while both wait at most `percent` of the restores
  // sent are blocking ones (stride scheduling between the two classes;
  // a class that waits nothing saves no credit). 0: off (blocking restores
  // are restores as the others); at most 99, so bulk restores always move.
  // Takes effect at once (a reload). Inert without kBlockingRestoreFlag.
  void SetRestoreBlockingShare(uint32_t percent);
  uint32_t restore_blocking_share() const { return blocking_share_; }
  // Per-owner limit (docs/policies.md): at most `max_running` restores of
  // one owner (the fair-share owner: Item::group, as fair_share_by or
  // fair_share_tag names it; "" for all restores without fair share) run
  // at once, whichever stage sends them; 0: no limit. A full owner's
  // queues are taken out of the fair-share index and of the blocking
  // index when first met, and put back when one of its restores ends: no
  // dispatch looks at them meanwhile. Takes effect at once (a reload).
  void SetRestoreOwnerLimit(uint32_t max_running);
  uint32_t restore_owner_limit() const { return owner_limit_; }
  // Per-owner cap of queued restores (docs/policies.md): a new restore of
  // an owner that has `max_queued` restores queued already (known and not
  // running: waiting, held, set aside, being located) is refused by the
  // caller (Lustre fails it with EDQUOT), so one user's recall cannot fill
  // the queues. 0: off. Takes effect at once (a reload).
  void SetRestoreQueueCap(uint32_t max_queued) { queue_cap_ = max_queued; }
  uint32_t restore_queue_cap() const { return queue_cap_; }
  // Restores of `owner` queued now (as above).
  uint32_t OwnerQueued(const std::string& owner) const;
  // The owner a new restore counts against (its fair-share group: the tag's
  // value, or `share_owner` when the caller looks owners up).
  std::string RestoreOwnerOf(const protocol::WireItem& wire,
                             const std::string& share_owner) const {
    return sources_[static_cast<size_t>(ItemType::kRestore)]->GroupOf(
        wire, share_owner);
  }
  // Whether a new restore of `owner` is over the cap.
  bool OwnerQueueFull(const std::string& owner) const {
    return queue_cap_ > 0 && OwnerQueued(owner) >= queue_cap_;
  }
  // Restores of `owner` running now.
  uint32_t OwnerRunning(const std::string& owner) const;
  // Whether `owner` may start no more restore now (every restore stage
  // asks before it offers a queue of that owner).
  bool OwnerFull(const std::string& owner) const {
    return owner_limit_ > 0 && OwnerRunning(owner) >= owner_limit_;
  }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  // Room for `items` items in all, held at once: the indexes are sized
  // once (recovery knows how many requests follow) instead of doubling and
  // rehashing every item on the way.
  void Reserve(size_t items);

  // Queues a new item. Returns false (and changes nothing) if an item with
  // that identity is already known, queued or running. With an `affinity`
  // (a host rule chose the mover) it waits in that mover's own queue, also
  // while that mover is away, and whenever it is placed again.
  // One action per file at a time (docs/policies.md): when another item of
  // the same hai_fid is waiting, set aside or running, the new one is held
  // (Item::behind_fid, counters().held_same_fid) in no queue, and enters
  // its queue at its arrival place once no earlier item of that file is
  // left (done, dropped, cancelled, expired). Held items are found by
  // Find and ForEachOfFid, cancelled and reassigned as waiting ones.
  // REQUIRES: TypeOfAction(wire.item.hai.hai_action) has a value.
  // `share_owner` names the fair-share owner of a restore when the options
  // say the caller looks it up.
  bool Enqueue(const protocol::WireItem& wire, const MoverId& affinity = "",
               const std::string& share_owner = "");

  // Moves a waiting item to `affinity`'s own queue ("" for the global
  // ones), keeping its arrival place. False if it is unknown or running.
  bool Reassign(const ItemId& id, const MoverId& affinity);
  // Moves every waiting item of `type` from `mover`'s own queues to the
  // global ones (that mover is gone for good). Returns how many.
  size_t Unpin(const MoverId& mover, ItemType type);

  // Makes the item run on `mover` (a mover re-announcing its work after a
  // reconnect). An unknown item is created first. Returns false if the
  // action has no type. A held item (behind_fid) runs too: what a mover
  // runs is a fact, not a choice.
  bool Claim(const MoverId& mover, const protocol::WireItem& wire);

  enum class CancelOutcome {
    kUnknown,    // nothing to do
    kDequeued,   // was waiting: forgotten; the caller answers Lustre
    kForwarded,  // running: a cancel is queued for its mover
  };
  // `cancel` is the CANCEL item from Lustre; its identity names the target.
  CancelOutcome Cancel(const protocol::WireItem& cancel,
                       protocol::WireItem* target, MoverId* mover);

  // Puts one running item back in the queues at its arrival place. Returns
  // false if it is unknown or not running.
  bool Requeue(const ItemId& id);

  // Forgets a finished item (`failed`: its mover reported a status other
  // than 0). Returns false for an unknown identity.
  // `await_retry`: it ended with HP_FLAG_RETRY and Lustre put it back to
  // WAITING; it comes back with the same cookie and file FID. Its file
  // stays busy meanwhile (one action per file at a time): later requests
  // of the file stay held until it comes back (Enqueue of that cookie and
  // hai_fid, which then runs first) or EndAwaitRetry says it never will.
  bool Done(const ItemId& id, bool failed = false, bool await_retry = false);
  // The same for `item` as Find gave it: not looked up again (a `done`
  // found it already; one lookup fewer per request).
  void Done(const Item& item, bool failed, bool await_retry);
  // Retry awaits, by RetryMemory::KeyOf (cookie and file FID, not the data
  // FID a restore changes). The request will not come back (given up,
  // cancelled, forgotten by the retry memory): the file's earliest held
  // request starts. False if it was not awaited.
  bool EndAwaitRetry(const ItemId& key);
  bool AwaitingRetry(const ItemId& key) const;
  // Forgets an item that will never run nor be done (Lustre ended it:
  // server/reconcile.h), counted nowhere. False for an unknown identity.
  bool Drop(const ItemId& id);

  // Puts every item running on `mover` back in the queues (at their original
  // place in FIFO order) and drops its pending cancels, which are returned so
  // that the caller answers Lustre for their targets. Returns the number of
  // items requeued.
  size_t Release(const MoverId& mover,
                 std::vector<protocol::WireItem>* orphan_cancels);

  // Oversized items: a queue head whose cost (ReplyCost) exceeds the
  // max_bytes of the mover that reached it can never go to that mover, and
  // left at the head it would hold back everything behind it and every
  // queue it is older than. Dispatch sets it aside instead (still pending,
  // reported in the reply's `parked` and in counters().oversized), indexed
  // by cost, and offers it to every later dispatch whose free budget fits
  // it: a look at a few entries of that index, whatever the queue lengths.
  // The items set aside before `older_than_ns` (Unix ns) are forgotten and
  // returned, for the caller to fail them at Lustre.
  std::vector<protocol::WireItem> ExpireOversized(int64_t older_than_ns);
  // Visits the items set aside, smallest first.
  void ForEachOversized(const std::function<void(const Item&)>& visit) const;

  // Chooses work for `mover`: its pending cancels first, then restores,
  // removes and archives, FIFO within each type, all of one archive id and
  // one set of hal flags, within its limits and byte budget. At most
  // ceil(pending of a type / share_divisor) items of each type are taken, so
  // that several waiting movers share a burst. Marks what it returns as
  // running on `mover`. `archive_ids` empty means every archive.
  // `now_ns` (Unix ns, as item timestamps) drives aging and batch slices;
  // 0 disables aging.
  DispatchReply Dispatch(const MoverId& mover,
                         const std::vector<uint32_t>& archive_ids,
                         const MoverLimits& limits, size_t share_divisor = 1,
                         int64_t now_ns = 0);

  // Only `mover`'s pending cancels (as Dispatch sends them first), no new
  // items: what a drained mover still gets.
  DispatchReply TakeCancels(const MoverId& mover, uint32_t max_bytes);
  // Frees every batch slot `mover` holds (it was drained): their hints may
  // go to other movers at once; what runs from them finishes as it is.
  void FreeSlots(const MoverId& mover);

  // The earliest batch deadline after `now_ns` (when a slot may free up and
  // a waiting mover get new work), or nullopt.
  std::optional<int64_t> NextBatchDeadline(int64_t now_ns) const;
  // A mover's batch slots (empty when batching is off or it is unknown).
  std::vector<BatchSlotView> Batches(const MoverId& mover,
                                     int64_t now_ns) const;
  // Batch slots of `mover` holding a hint: how busy it is with batches.
  size_t HeldSlots(const MoverId& mover) const;

  // Recalls in tape order (docs/policies.md; server/tape_media.h and
  // scheduler_tape.cc): the first stage of every restore turn. REQUIRES:
  // nothing queued yet, and SetFairShare() called before if at all.
  void SetTapeOrder(TapeMediaOptions options);
  bool tape_order() const { return tape_ != nullptr; }
  // New slice times (a reload). REQUIRES: tape_order().
  void SetTapeTimes(std::chrono::nanoseconds idle,
                    std::chrono::nanoseconds max);
  // Waiting restore `id` waits for `medium`, at `position` on it (its
  // locality answer): only the tape stage sends it from now on. False (and
  // nothing changed) if tape order is off, or `id` is unknown or running.
  bool PlaceOnMedium(const ItemId& id, const std::string& medium,
                     uint64_t position);
  // The medium and position of a restore placed on one, if it is.
  std::optional<std::pair<std::string, uint64_t>> MediumOf(
      const Item& item) const;
  // The media `mover` holds (empty when tape order is off), and the state
  // of the tape stage (nullptr when off).
  std::vector<HeldMediumView> Media(const MoverId& mover, int64_t now_ns) const;
  const TapeMedia* tape_media() const;

  const Item* Find(const ItemId& id) const;
  // Visits the items of file `fid` (hai_fid, the file's FID: what
  // llapi_path2fid gives; a restore Lustre lists under its volatile data
  // FID is found by its file's FID too), newest first. One lookup.
  void ForEachOfFid(const lu_fid& fid,
                    const std::function<void(const Item&)>& visit) const;
  uint32_t Running(const MoverId& mover, ItemType type) const;
  const SchedulerCounters& counters() const { return counters_; }
  // Waiting items (parked included) by archive id, then by type, as
  // counters().pending: kept as items come and go, so reading it costs the
  // number of archive ids with items waiting. No entry for an archive id
  // with nothing waiting.
  const std::map<uint32_t, std::array<uint64_t, kItemTypeCount>>&
  pending_by_archive() const {
    return pending_by_archive_;
  }
  // The arrival time (WireItem::timestamp_ns) of the oldest waiting item of
  // `type` among the queue heads, or nullopt when none waits. Looks at heads
  // only (each queue is FIFO by arrival): its cost grows with the number of
  // queues of that type without a group, never with the queued items.
  // Items set aside for their size (oversized), and heads without an
  // arrival time (0), are not seen. Status and metrics show ages from it.
  std::optional<int64_t> OldestArrival(ItemType type) const;
  // The same over `owner`'s own queues ("" for the global ones).
  std::optional<int64_t> OldestArrivalIn(const MoverId& owner,
                                         ItemType type) const;
  // Visits every mover the Scheduler knows (it ran something since it was
  // last released) with its running counts by type.
  void ForEachMoverRunning(
      const std::function<void(const MoverId&,
                               const std::array<uint32_t, kItemTypeCount>&)>&
          visit) const;
  size_t size() const { return items_.size(); }

  // The identities of the waiting items of one type, in FIFO order: a merge
  // of the queues, which are each in that order already (a status dump's
  // snapshot of a million items, without a sort that stalled the loop).
  // Items set aside for their size are not included.
  std::vector<ItemId> WaitingIds(ItemType type) const;
  // The `n` oldest waiting items of one type (arrival order): at most `n`
  // from the head of each queue, whatever the queues' lengths (the
  // dashboard's oldest requests). Items set aside for their size are not
  // included.
  std::vector<const Item*> OldestWaiting(ItemType type, size_t n) const;
  // Visits waiting items of one type in FIFO order (status dumps).
  void ForEachWaiting(ItemType type,
                      const std::function<void(const Item&)>& visit) const;
  // Visits the waiting items of one type in `owner`'s own queues ("" for
  // the global ones), in the order they would be taken (arrival).
  void ForEachWaitingIn(const MoverId& owner, ItemType type,
                        const std::function<void(const Item&)>& visit) const;
  // Visits the waiting archives of batch hint `hint` that `mover` may take
  // (global queues and its own), in arrival order.
  void ForEachWaitingOfHint(
      const MoverId& mover, const std::string& hint,
      const std::function<void(const Item&)>& visit) const;
  // Visits the items held behind an earlier request of their file, in the
  // order they were held.
  void ForEachHeldSameFid(const std::function<void(const Item&)>& visit) const;
  // Visits the items running on `mover`.
  void ForEachRunning(const MoverId& mover,
                      const std::function<void(const Item&)>& visit) const;
  // Visits every item, waiting or running, in no particular order.
  void ForEachItem(const std::function<void(const Item&)>& visit) const;
  // The number of items ahead of waiting `item` in its queue, counted
  // from the item towards the head, at most `bound` of them: nullopt when
  // there are more, or when it is in no queue (running, set aside).
  std::optional<size_t> PositionInQueue(const Item& item, size_t bound) const;
  // The mover and slot index holding batch hint `hint`, if any.
  std::optional<std::pair<MoverId, uint32_t>> HolderOf(
      const std::string& hint) const;
  // Visits the items, waiting or running, in arrival order from the first
  // whose seq is greater than `after`, at most `max_examined` of them, until
  // `visit` returns false. Returns the seq of the last item visited (a
  // cursor for the next call), or 0 once the end was reached. Items added
  // or removed between calls neither shift nor repeat the others.
  // REQUIRES: max_examined > 0.
  uint64_t VisitFrom(uint64_t after, size_t max_examined,
                     const std::function<bool(const Item&)>& visit) const;
  // The arrival number (Item::seq) the next new item will get: every item
  // held now has a smaller one (server/reconcile.h).
  uint64_t next_seq() const { return next_seq_; }

 private:
  // (mover whose own queue it is, "" for the global ones; type; fair-share
  // owner; archive id; hal flags). A mover takes from the global queues and
  // its own.
  using QueueKey =
      std::tuple<MoverId, ItemType, std::string, uint32_t, uint64_t>;
  struct Share {
    uint64_t pass = 0;
    uint64_t waiting = 0;
  };
  static constexpr uint64_t kStride = 1u << 20;
  struct Slot {
    std::string hint;
    bool held = false;
    int64_t idle_deadline = 0;
    int64_t max_deadline = 0;  // 0: none
    uint32_t running = 0;
  };
  struct MoverQueues {
    std::vector<Slot> slots;
    ItemList running;
    std::array<uint32_t, kItemTypeCount> running_count{};
    std::vector<protocol::WireItem> cancels;
  };

  using QueueMap = std::map<QueueKey, ItemList>;
  using ReplyKey = std::optional<std::pair<uint32_t, uint64_t>>;

  // One type's share of a mover's reply being built.
  struct Turn {
    const MoverId& mover;
    MoverQueues& m;
    const std::vector<uint32_t>& archive_ids;
    const ReplyKey& key;  // archive id and flags the reply is bound to
    const MoverLimits& limits;
    int64_t now;
    uint32_t slot = 0;  // BatchSource: the slot being served
    // RestoreChain: the stage serving this reply (kStage*), and whether
    // the base source must leave blocking restore queues alone.
    int stage = 0;
    bool skip_blocking = false;
  };
  // The policy of one type: which group a new item joins, and which queue a
  // mover takes the next item from (see scheduler.cc for the sources).
  class Source {
   public:
    explicit Source(Scheduler& s) : s_(s) {}
    virtual ~Source() = default;
    // The group (queue key part) a new item of this type joins.
    virtual std::string GroupOf(const protocol::WireItem&,
                                const std::string& /*share_owner*/) const {
      return "";
    }
    // A new item was created (before it is queued).
    virtual void Joined(Item&) {}
    // An item entered a waiting queue, or left it (sent or forgotten).
    virtual void Queued(const Item&) {}
    virtual void Left(const Item&) {}
    // The head of `queue` changed (`old_head`: the seq of the former head,
    // 0 if it was empty; the queue may be empty now, and is then erased
    // right after if it has a group). Seen for every queue when
    // WatchesAllHeads(), else for queues with a group only.
    virtual void HeadChanged(QueueMap::iterator /*queue*/,
                             uint64_t /*old_head*/) {}
    virtual bool WatchesAllHeads() const { return false; }
    // The queue whose head goes next, or nullptr: nothing more of this type
    // for this reply.
    virtual ItemList* Next(Turn& turn) = 0;
    // That head was sent (it runs on turn.mover now).
    virtual void Sent(Item&, Turn&) {}
    // Restore owner `owner` went under its running limit (SetRestoreOwner-
    // Limit): queues set aside as full may be offered again.
    virtual void Freed(const std::string& /*owner*/) {}
    // A stage of the restore chain that keeps the queues of `owner` to
    // itself (the tape stage's media): the stages after it never see them.
    virtual bool Holds(const MoverId& /*owner*/) const { return false; }

   protected:
    Scheduler& s_;
  };
  class FifoSource;
  class FairShareSource;
  class BatchSource;
  // The restore turn, a chain of stages (docs/policies.md, restore order):
  // (a) `first`, the tape stage when set (restores whose locality answer
  // named a medium); (b) blocking restores, within their share; (c) the
  // base source (fair share or arrival order). It is sources_[kRestore].
  class RestoreChain;
  RestoreChain& restore_chain();
  // Plugs `stage` in as the chain's first stage (the tape stage).
  void SetFirstRestoreStage(std::unique_ptr<Source> stage);
  class TapeSource;  // scheduler_tape.cc

  // Calls f(queue) for each queue of `owner` and `type` (of `group` only,
  // if given): one contiguous range of queues_.
  template <class F>
  void ForEachQueue(const MoverId& owner, ItemType type,
                    const std::string* group, F f) const;
  // Visits `items` in arrival order.
  static void VisitInArrivalOrder(
      std::vector<const Item*> items,
      const std::function<void(const Item&)>& visit);

  // Makes the item of `wire` and enters it in the identity index, with
  // its slab handle in *handle; nullptr (nothing changed) if an item of
  // that identity is known. One probe of the index: the insert is the
  // check. Link() then puts it in the other indexes.
  Item* Create(const protocol::WireItem& wire, ItemType type,
               SizedSlab::Handle* handle);
  // Enters a created item in the arrival index (the youngest) and its
  // file's chain. Returns FidActive() of its file as it was before (an
  // item of the file active, or a retry of one awaited): the insert into
  // the file index finds the chain, no lookup apart.
  bool Link(Item* item, SizedSlab::Handle handle);
  // One action per file: whether an item of `fid` other than `except` is
  // waiting in a queue, set aside or running (not held). Walks the file's
  // chain of items (by_fid_): a file rarely has more than two.
  bool FidActive(const lu_fid& fid, const Item* except = nullptr) const;
  void HoldBehindFid(Item* item);
  void Unhold(Item* item);
  // No item of `fid` is active any more: the earliest held one enters its
  // queue at its arrival place.
  void StartNextOfFid(const lu_fid& fid);
  // Moves `m`'s pending cancels that fit the budget into `reply` (the
  // first fixes its archive id and flags in *key).
  void TakeCancelsInto(MoverQueues& m, uint32_t max_bytes,
                       std::optional<std::pair<uint32_t, uint64_t>>* key,
                       size_t* used, DispatchReply* reply);
  // Oversized items (see ExpireOversized): set `item`, a queue head, aside;
  // take one out of the index (it stays pending).
  void Park(Item* item, int64_t now);
  void Unpark(Item* item);
  // Moves to `reply` the items set aside that fit the rest of the budget.
  void TakeOversized(ItemType type, const MoverName& name, MoverQueues& m,
                     const std::vector<uint32_t>& archive_ids,
                     const MoverLimits& limits, size_t share, int64_t now,
                     std::optional<std::pair<uint32_t, uint64_t>>* key,
                     size_t* used, DispatchReply* reply);
  // Takes a waiting item out of its queue (keeping the batch index and
  // dropping queues of a group that empty).
  void Unqueue(Item* item);
  void LeftSlot(const Item& item);
  // Arrival time of the oldest archive `mover` could take, for aging.
  std::optional<int64_t> OldestArchive(
      const MoverId& mover, const std::vector<uint32_t>& archive_ids,
      const std::optional<std::pair<uint32_t, uint64_t>>& key);
  bool Reserved(const MoverId& mover, const Slot& slot, int64_t now) const;
  bool HasWaiting(const MoverId& mover, const std::string& hint) const;
  void FreeSlot(Slot& slot);
  // Gives free slot `index` of `mover` the hint whose oldest archive waited
  // longest among those nobody holds. False if there is none.
  bool TakeHint(const MoverId& mover, uint32_t index,
                const std::vector<uint32_t>& archive_ids,
                const std::optional<std::pair<uint32_t, uint64_t>>& key,
                int64_t now);
  void PushWaiting(Item* item);
  // Tape stage hooks (scheduler_tape.cc), called when tape_ is set: a
  // running restore stopped running; an item is forgotten; `mover` frees
  // its media (drained, or gone: then `running` lists what it ran).
  void TapeEnded(const Item& item);
  void TapeForgot(const Item& item);
  void TapeFreed(const MoverId& mover, const ItemList* running);
  void MakeRunning(Item* item, const MoverId& mover);
  // The same, with the mover's name and record at hand (Dispatch).
  // `since`: when it was sent (Item::since), 0 if unknown.
  void MakeRunning(Item* item, const MoverName& name, MoverQueues& m,
                   int64_t since);
  // An item entered (`add`) or left the waiting items: counters_.pending
  // and pending_by_archive_.
  void CountPending(const Item& item, bool add);
  void Forget(Item* item);
  // An item left the waiting queues: its source's bookkeeping.
  void LeftWaiting(const Item& item);
  MoverQueues& MoverOf(const MoverId& mover);
  // The eligible queue whose head arrived first, or nullptr. With `group`,
  // only the queues of that group.
  // `skip_flags`: queues whose hal flags have any of them are passed over.
  ItemList* BestQueue(ItemType type, const MoverId& mover,
                      const std::vector<uint32_t>& archive_ids,
                      const std::optional<std::pair<uint32_t, uint64_t>>& key,
                      const std::string* group = nullptr,
                      uint64_t skip_flags = 0);

  // Where the items live (server/slab.h): chunks, not a heap block each,
  // by size class, as each item keeps its hsm data at its end. The indexes
  // below name an item by its 4-byte slab handle, not an 8-byte pointer:
  // half the bytes per slot of a table a million items long.
  // Before every index of them: the indexes go first.
  SizedSlab slab_;
  using ItemHandle = SizedSlab::Handle;
  Item* ItemAt(ItemHandle handle) const {
    return static_cast<Item*>(slab_.At(handle));
  }
  ItemHandle HandleOf(const Item* item) const {
    return slab_.HandleOf(item, Item::BytesFor(item->data_size));
  }
  // Ends `item` and gives its block back (it is in no index any more).
  void Destroy(Item* item);

  // Open addressing: a lookup costs one cache miss, not a bucket and a node,
  // which matters once a million items are no longer in cache.
  // Every item, found by identity through the item itself (the key is not
  // stored twice): 4 bytes per slot.
  struct ItemHash {
    using is_transparent = void;
    const Scheduler* s;
    size_t operator()(const ItemId& id) const { return ItemIdHash()(id); }
    size_t operator()(ItemHandle item) const {
      return ItemIdHash()(s->ItemAt(item)->id());
    }
  };
  struct ItemEq {
    using is_transparent = void;
    const Scheduler* s;
    const ItemId& Id(const ItemId& id) const { return id; }
    ItemId Id(ItemHandle item) const { return s->ItemAt(item)->id(); }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return Id(a) == Id(b);
    }
  };
  Item* FindItem(const ItemId& id) const {
    auto it = items_.find(id);
    return it == items_.end() ? nullptr : ItemAt(*it);
  }
  // Both big tables on huge pages (server/huge_page_allocator.h): each
  // `done` reads a random slot of each.
  boost::unordered_flat_set<ItemHandle, ItemHash, ItemEq,
                            HugePageAllocator<ItemHandle>>
      items_{0, ItemHash{this}, ItemEq{this}};
  // The same items by arrival, in buckets of kSeqBucket consecutive arrival
  // numbers (none empty): a new item goes at the end of the last bucket, a
  // forgotten one leaves a hole at its place (Item::seq_pos), and a bucket
  // is packed again once half holes; a cursor finds its place through the
  // small map of buckets, then at most a bucket's items. A pointer per
  // item: 8 bytes instead of a list hook's 16.
  static constexpr uint64_t kSeqBucket = 1024;
  static_assert(kSeqBucket <= 65536, "Item::seq_pos is 16 bits");
  struct SeqBucket {
    std::vector<ItemHandle> items;  // by seq; kNoHandle: forgotten
    uint32_t live = 0;
  };
  std::map<uint64_t, SeqBucket> by_seq_;
  // Takes `item` out of by_seq_.
  void LeaveSeqIndex(const Item& item);
  // The same items by hai_fid: the newest, chained to the older ones
  // through older_of_fid_ (a file rarely has more than one request, so the
  // link is not a pointer in every item). The FID is read through the
  // item, not stored again: 4 bytes per slot instead of 24.
  struct FidEq {
    bool operator()(const lu_fid& a, const lu_fid& b) const {
      return hsm::operator==(a, b);
    }
  };
  struct FidChain {
    // Replaced by another item of the same file only, so the set's hash of
    // the entry never changes.
    mutable ItemHandle newest;
  };
  struct FidChainHash {
    using is_transparent = void;
    const Scheduler* s;
    size_t operator()(const lu_fid& fid) const { return hsm::FidHash()(fid); }
    size_t operator()(const FidChain& c) const {
      return (*this)(s->ItemAt(c.newest)->hai.hai_fid);
    }
  };
  struct FidChainEq {
    using is_transparent = void;
    const Scheduler* s;
    const lu_fid& Fid(const lu_fid& fid) const { return fid; }
    const lu_fid& Fid(const FidChain& c) const {
      return s->ItemAt(c.newest)->hai.hai_fid;
    }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return hsm::operator==(Fid(a), Fid(b));
    }
  };
  boost::unordered_flat_set<FidChain, FidChainHash, FidChainEq,
                            HugePageAllocator<FidChain>>
      by_fid_{0, FidChainHash{this}, FidChainEq{this}};
  // Item -> the next older item of its hai_fid, for the items that have
  // one (Item::has_older_of_fid).
  boost::unordered_flat_map<const Item*, Item*> older_of_fid_;
  Item* OlderOfFid(const Item* item) const;
  // Whether an item of the chain from `newest` down, other than `except`,
  // is active (not held): FidActive's walk, for a chain already found.
  bool ChainActive(const Item* newest, const Item* except = nullptr) const;
  // `older` nullptr: none.
  void SetOlderOfFid(Item* item, Item* older);
  QueueMap queues_;
  // Items held behind an earlier request of their file, in hold order.
  ItemList behind_fid_;
  // Retry awaits: the cookies of each file's requests ended with
  // HP_FLAG_RETRY and not back yet (rarely more than one).
  boost::unordered_flat_map<lu_fid, std::vector<uint64_t>, hsm::FidHash, FidEq>
      awaiting_retry_;
  // Takes `key` out of the awaits; true if it was there.
  bool TakeAwaited(const ItemId& key);
  // Oversized items by type, by (cost, arrival).
  std::array<std::map<std::pair<size_t, uint64_t>, Item*>, kItemTypeCount>
      oversized_;
  std::array<std::unique_ptr<Source>, kItemTypeCount> sources_;
  TapeSource* tape_ = nullptr;  // the restore source when tape order is on
  BatchOptions batch_{.idle = {}, .max = {}, .slots = 0};  // off
  // Batched archive queues by owner ("" global), ordered by head arrival:
  // a free slot finds the oldest unheld hint without scanning the queues.
  std::map<MoverId, std::set<std::pair<uint64_t, const QueueKey*>>>
      batch_heads_;
  // Hint -> the (mover, slot index) holding it.
  std::unordered_map<std::string, std::pair<MoverId, uint32_t>> holders_;
  FairShareOptions fair_share_;
  std::unordered_map<std::string, Share> shares_;
  uint64_t share_pass_ = 0;  // the pass of the last owner served
  int64_t archive_max_wait_ns_ = 0;
  uint32_t blocking_share_ = 0;  // percent; 0: off
  uint32_t owner_limit_ = 0;     // running restores per owner; 0: none
  std::unordered_map<std::string, uint32_t> owner_running_;
  uint32_t queue_cap_ = 0;  // queued restores per owner; 0: none
  // Restores known (queued or running) by owner: queued = known - running.
  std::unordered_map<std::string, uint32_t> owner_known_;
  // A restore started or stopped running: owner_running_, and the owner's
  // queues back in the indexes when it goes under its limit.
  void OwnerStarted(const Item& item);
  void OwnerStopped(const Item& item);
  // Blocking restore queues by owner ("" global), ordered by head arrival:
  // the blocking stage finds the oldest one without a scan.
  std::map<MoverId, std::set<std::pair<uint64_t, const QueueKey*>>>
      blocking_heads_;
  std::unordered_map<MoverId, MoverQueues> movers_;
  SchedulerCounters counters_;
  std::map<uint32_t, std::array<uint64_t, kItemTypeCount>> pending_by_archive_;
  uint64_t next_seq_ = 1;
};

}  // namespace server

#endif  // SERVER_SCHEDULER_H_
