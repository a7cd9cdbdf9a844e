// Recalls in tape order: the tape stage of the Scheduler's restore turn
// (docs/policies.md, recalls in tape order). The policy itself is TapeMedia
// (server/tape_media.h); this file fits it to the Scheduler's queues.
//
// A restore whose locality answer named a medium waits in the queues of
// kOnMedium, which no mover takes from, so it stays counted, found,
// cancelled and listed as every waiting item; TapeMedia indexes it by
// medium and position. When TapeMedia picks it for a mover, it moves to that
// mover's staging queue (an owner of its own, "\0tape>" + mover id) and is
// sent from there: the dispatch loop takes a queue's head, and the staging
// queue's head is that restore. Once sent, its owner is kOnMedium again, so
// a restore placed again (requeued, its mover gone) goes back to its medium.
// A restore staged but not sent (the reply was full) is sent first on the
// mover's next turn, or goes back to its medium when the mover goes.
//
// The stage is the first of the restore chain (scheduler.cc, RestoreChain):
// restores without a medium are the blocking stage's and the base source's
// (arrival order or fair share), as before.
#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "server/scheduler.h"
#include "server/tape_media.h"

namespace server {

const MoverId kOnMedium("\0tape", 5);

namespace {

MoverId StagingOf(const MoverId& mover) {
  return MoverId("\0tape>", 6) + mover;
}

bool IsBlocking([[maybe_unused]] uint64_t hal_flags) {
#if COORDINATOOL_HAVE_HSM_REQ_BLOCKING
  return (hal_flags & HSM_REQ_BLOCKING) != 0;
#else
  return false;  // Lustre without the flag: no restore is known to block
#endif
}

}  // namespace

class Scheduler::TapeSource : public Scheduler::Source {
 public:
  TapeSource(Scheduler& s, TapeMediaOptions options)
      : Source(s), media_(options) {}

  struct Location {
    Item* item;
    std::string medium;
    uint64_t position;
  };

  TapeMedia& media() { return media_; }
  const TapeMedia& media() const { return media_; }
  const Location* Find(uint64_t seq) const {
    auto it = locations_.find(seq);
    return it == locations_.end() ? nullptr : &it->second;
  }
  void Locate(Item& item, std::string medium, uint64_t position) {
    locations_[item.seq] = {&item, std::move(medium), position};
  }
  void Forgot(const Item& item) { locations_.erase(item.seq); }

  // The stage's hooks (RestoreChain calls them, and the base source's for
  // restores of no medium): restores on a medium and staged ones are the
  // stage's alone.
  bool Holds(const MoverId& owner) const override {
    return owner == kOnMedium || IsStaging(owner);
  }
  void Queued(const Item& item) override {
    if (item.affinity == kOnMedium) {
      const Location& at = locations_.at(item.seq);
      media_.Add(at.medium,
                 {.id = item.seq,
                  .position = at.position,
                  .archive_id = item.archive_id,
                  .hal_flags = item.hal_flags,
                  .blocking = IsBlocking(item.hal_flags)},
                 std::max(now_, item.timestamp_ns));
      return;
    }
  }
  void Left(const Item& item) override {
    if (item.affinity == kOnMedium) {
      media_.Remove(item.seq);
      return;
    }
  }

  ItemList* Next(Turn& turn) override {
    now_ = turn.now;
    if (ItemList* staged = Staging(turn)) return staged;
    const size_t t = static_cast<size_t>(ItemType::kRestore);
    auto accepts = [&turn](uint32_t archive_id, uint64_t flags) {
      return turn.key
                 ? turn.key->first == archive_id && turn.key->second == flags
                 : turn.archive_ids.empty() ||
                       std::find(turn.archive_ids.begin(),
                                 turn.archive_ids.end(),
                                 archive_id) != turn.archive_ids.end();
    };
    if (auto seq = media_.Next(turn.mover, turn.limits.max_running[t], accepts,
                               turn.now)) {
      Item* item = locations_.at(*seq).item;
      media_.Sent(turn.mover, *seq, turn.now);
      s_.Reassign(item->id(), StagingOf(turn.mover));
      if (ItemList* staged = Staging(turn)) return staged;
    }
    return nullptr;  // the blocking stage and the base go on
  }
  void Sent(Item& item, Turn&) override {
    // Placed again later (requeued, its mover gone): back to its medium.
    if (Staged(item)) item.affinity = kOnMedium;
  }

  // `mover` frees its media; its staged restore goes back to its medium.
  void ReleaseMover(const MoverId& mover) {
    std::vector<ItemId> staged;
    ForEachStaging(mover, [&](ItemList& queue) {
      for (const Item& item : queue) staged.push_back(item.id());
    });
    for (const ItemId& id : staged) Unstage(id);
    media_.Release(mover);
  }

 private:
  static bool IsStaging(const std::string& owner) {
    return owner.size() > 6 && owner.compare(0, 6, "\0tape>", 6) == 0;
  }
  static bool Staged(const Item& item) { return IsStaging(item.affinity); }
  // Calls f(queue) for each of `mover`'s staging queues (one per fair-share
  // owner, archive id and flags: few).
  template <class F>
  void ForEachStaging(const MoverId& mover, F f) {
    const MoverId owner = StagingOf(mover);
    for (auto q = s_.queues_.lower_bound({owner, ItemType::kRestore, "", 0, 0});
         q != s_.queues_.end() && std::get<0>(q->first) == owner &&
         std::get<1>(q->first) == ItemType::kRestore;
         ++q)
      f(q->second);
  }
  // Undoes a staging: counted sent by TapeMedia, but it was not.
  void Unstage(const ItemId& id) {
    Item* item = s_.FindItem(id);
    if (!item) return;
    media_.Ended(item->seq);
    s_.Reassign(id, kOnMedium);
  }
  // The mover's staging queue if a restore waits there that this reply
  // may take; a staged restore it may not take goes back to its medium.
  ItemList* Staging(Turn& turn) {
    ItemList* found = nullptr;
    std::vector<ItemId> back;
    ForEachStaging(turn.mover, [&](ItemList& queue) {
      if (queue.empty() || found) return;
      const Item& head = queue.front();
      if (!turn.key || (turn.key->first == head.archive_id &&
                        turn.key->second == head.hal_flags))
        found = &queue;
      else
        back.push_back(head.id());
    });
    for (const ItemId& id : back) Unstage(id);
    return found;
  }

  TapeMedia media_;
  // Every restore placed on a medium, waiting or running, by arrival
  // number.
  std::unordered_map<uint64_t, Location> locations_;
  int64_t now_ = 0;  // of the last turn: when a restore joins its medium
};

void Scheduler::SetTapeOrder(TapeMediaOptions options) {
  auto tape = std::make_unique<TapeSource>(*this, options);
  tape_ = tape.get();
  SetFirstRestoreStage(std::move(tape));
}

void Scheduler::SetTapeTimes(std::chrono::nanoseconds idle,
                             std::chrono::nanoseconds max) {
  tape_->media().SetTimes(idle, max);
}

bool Scheduler::PlaceOnMedium(const ItemId& id, const std::string& medium,
                              uint64_t position) {
  Item* item = FindItem(id);
  if (!tape_ || !item || item->running() || item->parked || medium.empty() ||
      item->type != ItemType::kRestore)
    return false;
  if (item->affinity == kOnMedium) Reassign(id, "");  // placed anew
  tape_->Locate(*item, medium, position);
  return Reassign(id, kOnMedium);
}

std::optional<std::pair<std::string, uint64_t>> Scheduler::MediumOf(
    const Item& item) const {
  if (!tape_) return std::nullopt;
  const TapeSource::Location* at = tape_->Find(item.seq);
  if (!at) return std::nullopt;
  return std::make_pair(at->medium, at->position);
}

std::vector<HeldMediumView> Scheduler::Media(const MoverId& mover,
                                             int64_t now_ns) const {
  if (!tape_) return {};
  return tape_->media().Held(mover, now_ns);
}

const TapeMedia* Scheduler::tape_media() const {
  return tape_ ? &tape_->media() : nullptr;
}

void Scheduler::TapeEnded(const Item& item) { tape_->media().Ended(item.seq); }

void Scheduler::TapeForgot(const Item& item) { tape_->Forgot(item); }

void Scheduler::TapeFreed(const MoverId& mover, const ItemList* running) {
  if (running)
    for (const Item& item : *running)
      if (item.type == ItemType::kRestore) tape_->media().Ended(item.seq);
  tape_->ReleaseMover(mover);
}

}  // namespace server
