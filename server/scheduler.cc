#include "server/scheduler.h"

#include <algorithm>

#include "policy/tag.h"
#include "protocol/upcall.h"

namespace server {

namespace {

const MoverId kGlobal;

bool Accepts(const std::vector<uint32_t>& archive_ids, uint32_t archive_id) {
  // Upcalled items wait under archive ids of their own space
  // (protocol/upcall.h): only a mover naming that space, an upcall worker,
  // takes them (kUpcallArchiveBit alone: of any archive), and such a mover
  // names nothing else.
  if (protocol::IsUpcallArchive(archive_id))
    return std::find_if(archive_ids.begin(), archive_ids.end(),
                        [archive_id](uint32_t id) {
                          return id == archive_id ||
                                 id == protocol::kUpcallArchiveBit;
                        }) != archive_ids.end();
  return archive_ids.empty() ||
         std::find(archive_ids.begin(), archive_ids.end(), archive_id) !=
             archive_ids.end();
}

size_t Index(ItemType type) { return static_cast<size_t>(type); }

}  // namespace

// The sources: one per type, the policy that picks which queue a mover
// takes that type from. Adding a policy is adding a source (or a group
// rule), not editing the dispatch loop.

// Arrival order over the global queues and the mover's own.
class Scheduler::FifoSource : public Scheduler::Source {
 public:
  FifoSource(Scheduler& s, ItemType type) : Source(s), type_(type) {}
  ItemList* Next(Turn& turn) override {
    return s_.BestQueue(type_, turn.mover, turn.archive_ids, turn.key, nullptr,
                        turn.skip_blocking ? kBlockingRestoreFlag : 0);
  }

 private:
  const ItemType type_;
};

// Fair share of restores (stride scheduling): each owner's queues are a
// group; the owner with the lowest pass goes first, and its pass advances
// by kStride / weight for each restore sent.
class Scheduler::FairShareSource : public Scheduler::Source {
 public:
  using Source::Source;
  std::string GroupOf(const protocol::WireItem& wire,
                      const std::string& share_owner) const override {
    const FairShareOptions& options = s_.fair_share_;
    if (options.by_caller) return share_owner;
    return std::string(
        policy::TagValue(wire.item.data, options.tag).value_or(""));
  }
  bool WatchesAllHeads() const override { return true; }
  void HeadChanged(QueueMap::iterator queue, uint64_t) override {
    Unindex(queue);
    if (queue->second.empty()) return;
    const QueueKey& key = queue->first;
    Entry entry{0, queue->second.front().seq, queue,
                &s_.shares_[std::get<2>(key)]};
    entry.pass = entry.share->pass;
    index_[{std::get<0>(key), std::get<3>(key), std::get<4>(key)}].insert(
        entry);
    entries_.emplace(&key, entry);
  }
  ItemList* Next(Turn& turn) override {
    // The lowest (pass, head arrival) among the global queues and the
    // mover's own, of the reply's archive id and flags, or of any archive
    // id the mover accepts before the first item.
    const Entry* best = nullptr;
    auto consider = [&](Set& set) {
      const Entry* first = Valid(set);
      if (first && (!best || *first < *best)) best = first;
    };
    const uint64_t skip = turn.skip_blocking ? kBlockingRestoreFlag : 0;
    for (const MoverId* owner : {&kGlobal, &turn.mover}) {
      if (turn.key) {
        auto it = index_.find({*owner, turn.key->first, turn.key->second});
        if (it != index_.end() && !(turn.key->second & skip))
          consider(it->second);
      } else {
        for (auto it = index_.lower_bound({*owner, 0, 0});
             it != index_.end() && std::get<0>(it->first) == *owner; ++it)
          if (Accepts(turn.archive_ids, std::get<1>(it->first)) &&
              !(std::get<2>(it->first) & skip))
            consider(it->second);
      }
      if (turn.mover.empty()) break;
    }
    return best ? &best->queue->second : nullptr;
  }
  void Queued(const Item& item) override {
    Share& share = s_.shares_[item.group];
    // Back from idle: start at the current pass, with no saved credit.
    if (share.waiting++ == 0) share.pass = std::max(share.pass, s_.share_pass_);
  }
  void Left(const Item& item) override {
    auto it = s_.shares_.find(item.group);
    if (it != s_.shares_.end() && it->second.waiting > 0) --it->second.waiting;
  }
  void Sent(Item& item, Turn&) override {
    Share& share = s_.shares_[item.group];
    s_.share_pass_ = share.pass;
    auto weight = s_.fair_share_.weights.find(item.group);
    uint32_t w = weight == s_.fair_share_.weights.end()
                     ? 1
                     : std::max<uint32_t>(1, weight->second);
    share.pass += kStride / w;
    // That owner's index entries are stale now: Valid() fixes them when
    // they come first (a pass only grows).
  }
  void Freed(const std::string& owner) override {
    auto it = parked_.find(owner);
    if (it == parked_.end()) return;
    for (QueueMap::iterator queue : it->second) {
      Entry& entry = entries_[&queue->first];
      entry.parked = false;
      entry.pass = entry.share->pass;
      const QueueKey& key = queue->first;
      index_[{std::get<0>(key), std::get<3>(key), std::get<4>(key)}].insert(
          entry);
    }
    parked_.erase(it);
  }

 private:
  struct Entry {
    uint64_t pass;  // the owner's pass when indexed
    uint64_t seq;   // head arrival
    QueueMap::iterator queue;
    Share* share;         // shares_ nodes are stable
    bool parked = false;  // out of the index: its owner is full
    bool operator<(const Entry& other) const {
      return std::tie(pass, seq) < std::tie(other.pass, other.seq);
    }
  };
  using Set = std::set<Entry>;

  // The first entry of `set` whose pass is current, or nullptr.
  const Entry* Valid(Set& set) {
    while (!set.empty()) {
      Entry first = *set.begin();
      const std::string& owner = std::get<2>(first.queue->first);
      if (s_.OwnerFull(owner)) {
        // Out of the index until one of its restores ends (Freed): met
        // once per queue, not at every dispatch.
        set.erase(set.begin());
        entries_[&first.queue->first].parked = true;
        parked_[owner].push_back(first.queue);
        continue;
      }
      if (first.pass == first.share->pass) return &*set.begin();
      set.erase(set.begin());
      first.pass = first.share->pass;
      set.insert(first);
      entries_[&first.queue->first] = first;
    }
    return nullptr;
  }
  void Unindex(QueueMap::iterator queue) {
    auto it = entries_.find(&queue->first);
    if (it == entries_.end()) return;
    const QueueKey& key = queue->first;
    if (it->second.parked) {
      auto parked = parked_.find(std::get<2>(key));
      auto& queues = parked->second;
      queues.erase(std::find(queues.begin(), queues.end(), queue));
      if (queues.empty()) parked_.erase(parked);
      entries_.erase(it);
      return;
    }
    auto set =
        index_.find({std::get<0>(key), std::get<3>(key), std::get<4>(key)});
    set->second.erase(it->second);
    if (set->second.empty()) index_.erase(set);
    entries_.erase(it);
  }

  // Non-empty restore queues by (queue owner, archive id, flags).
  std::map<std::tuple<MoverId, uint32_t, uint64_t>, Set> index_;
  // Queues taken out of index_ as their owner is full, by owner.
  std::unordered_map<std::string, std::vector<QueueMap::iterator>> parked_;
  std::unordered_map<const QueueKey*, Entry> entries_;
};

// Archive batching: slot by slot, each sends only archives of its hint (the
// group), up to its share of the mover's archive capacity; then archives
// without data, which are not batched.
class Scheduler::BatchSource : public Scheduler::Source {
 public:
  using Source::Source;
  std::string GroupOf(const protocol::WireItem& wire,
                      const std::string&) const override {
    // The whole data, without the NUL padding the original client's queue
    // mode adds (docs/protocol.md, queue).
    std::string_view data = wire.item.data;
    while (!data.empty() && data.back() == '\0') data.remove_suffix(1);
    return std::string(data);
  }
  void HeadChanged(QueueMap::iterator q, uint64_t old_head) override {
    // The index of batch queue heads by owner, for TakeHint(). Archives
    // without data are not batched: their queues stay out of it.
    if (std::get<2>(q->first).empty()) return;
    const uint64_t new_head = q->second.empty() ? 0 : q->second.front().seq;
    auto& heads = s_.batch_heads_[std::get<0>(q->first)];
    if (old_head) heads.erase({old_head, &q->first});
    if (new_head) heads.insert({new_head, &q->first});
  }
  void Joined(Item& item) override {
    // An archive joining a held slot renews its idle deadline.
    auto holder = s_.holders_.find(item.group);
    if (holder == s_.holders_.end()) return;
    Slot& slot = s_.MoverOf(holder->second.first).slots[holder->second.second];
    slot.idle_deadline = std::max(slot.idle_deadline,
                                  item.timestamp_ns + s_.batch_.idle.count());
  }
  ItemList* Next(Turn& turn) override {
    static const std::string kNoHint;
    const uint32_t slots = s_.batch_.slots;
    const uint32_t max = turn.limits.max_running[Index(ItemType::kArchive)];
    const uint32_t cap =
        max == kUnlimited ? kUnlimited : (max + slots - 1) / slots;
    for (; turn.slot < slots; ++turn.slot) {
      Slot& slot = turn.m.slots[turn.slot];
      if (slot.held && !s_.Reserved(turn.mover, slot, turn.now))
        s_.FreeSlot(slot);
      if (slot.running >= cap) continue;
      if (!slot.held && !s_.TakeHint(turn.mover, turn.slot, turn.archive_ids,
                                     turn.key, turn.now))
        continue;
      if (ItemList* queue =
              s_.BestQueue(ItemType::kArchive, turn.mover, turn.archive_ids,
                           turn.key, &slot.hint))
        return queue;
    }
    return s_.BestQueue(ItemType::kArchive, turn.mover, turn.archive_ids,
                        turn.key, &kNoHint);
  }
  void Sent(Item& item, Turn& turn) override {
    if (item.group.empty()) return;  // not batched
    Slot& slot = turn.m.slots[turn.slot];
    item.slot = static_cast<int32_t>(turn.slot);
    ++slot.running;
    slot.idle_deadline = turn.now + s_.batch_.idle.count();
  }
};

// The restore turn as a chain of stages; see scheduler.h. Every hook of a
// restore goes to the base source (its group, its share bookkeeping) and
// to the first stage when there is one; the chain itself keeps the index
// of blocking queue heads and the two classes' passes.
class Scheduler::RestoreChain : public Scheduler::Source {
 public:
  // Turn::stage values.
  static constexpr int kStageFirst = 0;     // the first stage (tape), if any
  static constexpr int kStageBlocking = 1;  // blocking restores
  static constexpr int kStageBase = 2;      // the base source

  RestoreChain(Scheduler& s, std::unique_ptr<Source> base)
      : Source(s), base_(std::move(base)) {}
  void set_base(std::unique_ptr<Source> base) { base_ = std::move(base); }
  // THE HOOK for the tape stage: the source set here is asked first on
  // every restore turn (its Next(), then Sent() for what it gave), and
  // sees every restore's Joined/Queued/Left/HeadChanged as the base does.
  // When its Next() gives nothing, the turn goes on with the blocking
  // stage and the base. Per-owner limits apply to what it sends too.
  void set_first(std::unique_ptr<Source> first) { first_ = std::move(first); }

  std::string GroupOf(const protocol::WireItem& wire,
                      const std::string& share_owner) const override {
    return base_->GroupOf(wire, share_owner);
  }
  void Joined(Item& item) override {
    if (first_) first_->Joined(item);
    base_->Joined(item);
  }
  void Queued(const Item& item) override {
    if (first_) first_->Queued(item);
    if (!FirstHolds(item.affinity)) base_->Queued(item);
  }
  void Left(const Item& item) override {
    if (first_) first_->Left(item);
    if (!FirstHolds(item.affinity)) base_->Left(item);
  }
  // Blocking queues are indexed by head whatever the base watches.
  bool WatchesAllHeads() const override {
    return kBlockingRestoreFlag != 0 || base_->WatchesAllHeads() ||
           (first_ && first_->WatchesAllHeads());
  }
  void HeadChanged(QueueMap::iterator q, uint64_t old_head) override {
    if (FirstHolds(std::get<0>(q->first))) {
      first_->HeadChanged(q, old_head);
      return;
    }
    if (std::get<4>(q->first) & kBlockingRestoreFlag) {
      const uint64_t new_head = q->second.empty() ? 0 : q->second.front().seq;
      auto& heads = s_.blocking_heads_[std::get<0>(q->first)];
      if (old_head && !heads.erase({old_head, &q->first}))
        Unpark(std::get<2>(q->first), &q->first);
      if (new_head) heads.insert({new_head, &q->first});
      if (heads.empty()) s_.blocking_heads_.erase(std::get<0>(q->first));
    }
    if (first_) first_->HeadChanged(q, old_head);
    base_->HeadChanged(q, old_head);
  }

  ItemList* Next(Turn& turn) override {
    if (turn.stage == kStageFirst) {
      if (first_)
        if (ItemList* queue = first_->Next(turn)) return queue;
      // Which class this reply serves (one reply has one set of flags, so
      // blocking and bulk restores never share one).
      if (!Active()) {
        turn.stage = kStageBase;
        return base_->Next(turn);
      }
      ItemList* blocking = NextBlocking(turn);
      turn.skip_blocking = true;
      ItemList* bulk = base_->Next(turn);
      if (!blocking && !bulk) {
        turn.stage = kStageBase;
        return nullptr;
      }
      // Stride scheduling between the two classes: the one whose next
      // send would end first goes (blocking on a tie). A class with nothing
      // for this mover saves no credit: what the other sends meanwhile
      // keeps it level (Sent), so it does not come back with a burst.
      alone_ = !blocking || !bulk;
      const bool take_blocking =
          blocking && (!bulk || blocking_pass_ + BlockingStride() <=
                                    bulk_pass_ + BulkStride());
      turn.stage = take_blocking ? kStageBlocking : kStageBase;
      return take_blocking ? blocking : bulk;
    }
    if (turn.stage == kStageBlocking) {
      if (ItemList* queue = NextBlocking(turn)) return queue;
      turn.stage = kStageBase;  // the reply's flags let no bulk one in
      turn.skip_blocking = true;
    }
    return base_->Next(turn);
  }
  void Freed(const std::string& owner) override {
    auto it = parked_.find(owner);
    if (it != parked_.end()) {
      for (const QueueKey* key : it->second) {
        const ItemList& queue = s_.queues_.find(*key)->second;
        s_.blocking_heads_[std::get<0>(*key)].insert({queue.front().seq, key});
      }
      parked_.erase(it);
    }
    if (first_) first_->Freed(owner);
    base_->Freed(owner);
  }
  void Sent(Item& item, Turn& turn) override {
    if (turn.stage == kStageFirst) {
      first_->Sent(item, turn);
      return;
    }
    if (turn.stage == kStageBlocking) {
      ++s_.counters_.blocking_restores_sent;
      blocking_pass_ += BlockingStride();
      if (alone_) bulk_pass_ = std::max(bulk_pass_, blocking_pass_);
    } else if (Active()) {
      bulk_pass_ += BulkStride();
      if (alone_) blocking_pass_ = std::max(blocking_pass_, bulk_pass_);
    }
    // The base's bookkeeping of the owner (fair share passes), blocking
    // restores included.
    base_->Sent(item, turn);
  }

 private:
  static constexpr uint64_t kShareScale = uint64_t{100} << 20;
  bool FirstHolds(const MoverId& owner) const {
    return first_ && first_->Holds(owner);
  }
  uint64_t BlockingStride() const { return kShareScale / s_.blocking_share_; }
  uint64_t BulkStride() const {
    return kShareScale / (100 - s_.blocking_share_);
  }

  bool Active() const {
    return kBlockingRestoreFlag != 0 && s_.blocking_share_ > 0;
  }
  // The blocking queue whose head arrived first among the global ones and
  // the mover's own, of the reply's archive id and flags (or one the mover
  // accepts): a merge of two ordered indexes.
  ItemList* NextBlocking(Turn& turn) {
    using Heads = std::set<std::pair<uint64_t, const QueueKey*>>;
    Heads none;
    auto find = [&](const MoverId& owner) -> Heads& {
      auto it = s_.blocking_heads_.find(owner);
      return it == s_.blocking_heads_.end() ? none : it->second;
    };
    Heads& global = find(kGlobal);
    Heads& own = turn.mover.empty() ? none : find(turn.mover);
    auto g = global.begin(), o = own.begin();
    while (g != global.end() || o != own.end()) {
      const bool from_global =
          o == own.end() || (g != global.end() && g->first < o->first);
      auto& next = from_global ? g : o;
      const QueueKey& key = *next->second;
      const uint32_t archive_id = std::get<3>(key);
      const uint64_t flags = std::get<4>(key);
      if (turn.key
              ? (archive_id != turn.key->first || flags != turn.key->second)
              : !Accepts(turn.archive_ids, archive_id)) {
        ++next;
        continue;
      }
      const std::string& owner = std::get<2>(key);
      if (s_.OwnerFull(owner)) {
        // Out of the index until one of its restores ends (Freed).
        parked_[owner].push_back(&key);
        next = (from_global ? global : own).erase(next);
        continue;
      }
      return &s_.queues_.find(key)->second;
    }
    // Sets emptied by parking stay (a few owners); HeadChanged drops them.
    return nullptr;
  }
  // A parked blocking queue's head changed or it emptied: out of parked_
  // (HeadChanged puts its new head, if any, back in the index).
  void Unpark(const std::string& owner, const QueueKey* key) {
    auto it = parked_.find(owner);
    if (it == parked_.end()) return;
    auto& keys = it->second;
    auto at = std::find(keys.begin(), keys.end(), key);
    if (at != keys.end()) keys.erase(at);
    if (keys.empty()) parked_.erase(it);
  }

  std::unique_ptr<Source> base_;
  std::unique_ptr<Source> first_;
  uint64_t blocking_pass_ = 0;
  uint64_t bulk_pass_ = 0;
  bool alone_ = false;  // this reply's class had the mover to itself
  // Blocking queues taken out of blocking_heads_ as their owner is full.
  std::unordered_map<std::string, std::vector<const QueueKey*>> parked_;
};

Scheduler::Scheduler() {
  for (ItemType type : kDispatchOrder)
    sources_[Index(type)] = std::make_unique<FifoSource>(*this, type);
  sources_[Index(ItemType::kRestore)] = std::make_unique<RestoreChain>(
      *this, std::make_unique<FifoSource>(*this, ItemType::kRestore));
}

Scheduler::RestoreChain& Scheduler::restore_chain() {
  return static_cast<RestoreChain&>(*sources_[Index(ItemType::kRestore)]);
}

void Scheduler::SetFirstRestoreStage(std::unique_ptr<Source> stage) {
  restore_chain().set_first(std::move(stage));
}

void Scheduler::SetFairShare(FairShareOptions options) {
  fair_share_ = std::move(options);
  if (!fair_share_.tag.empty() || fair_share_.by_caller)
    restore_chain().set_base(std::make_unique<FairShareSource>(*this));
}

void Scheduler::SetRestoreBlockingShare(uint32_t percent) {
  blocking_share_ = std::min<uint32_t>(percent, 99);
}

void Scheduler::SetRestoreOwnerLimit(uint32_t max_running) {
  owner_limit_ = max_running;
  // Whatever was set aside may go again; the still full are set aside
  // again when met.
  std::vector<std::string> owners;
  for (const auto& [owner, running] : owner_running_) owners.push_back(owner);
  for (const std::string& owner : owners) restore_chain().Freed(owner);
}

uint32_t Scheduler::OwnerQueued(const std::string& owner) const {
  auto it = owner_known_.find(owner);
  if (it == owner_known_.end()) return 0;
  return it->second - std::min(it->second, OwnerRunning(owner));
}

uint32_t Scheduler::OwnerRunning(const std::string& owner) const {
  auto it = owner_running_.find(owner);
  return it == owner_running_.end() ? 0 : it->second;
}

void Scheduler::OwnerStarted(const Item& item) {
  if (item.type == ItemType::kRestore) ++owner_running_[item.group];
}

void Scheduler::OwnerStopped(const Item& item) {
  if (item.type != ItemType::kRestore) return;
  auto it = owner_running_.find(item.group);
  if (it == owner_running_.end() || it->second == 0) return;
  const uint32_t now = --it->second;
  if (now == 0) owner_running_.erase(it);
  if (owner_limit_ > 0 && now + 1 == owner_limit_)
    restore_chain().Freed(item.group);
}

Scheduler::~Scheduler() {
  // Unlink every item before the lists go, so no hook outlives its list.
  for (auto& [key, queue] : queues_) queue.clear();
  behind_fid_.clear();
  for (auto& [id, mover] : movers_) mover.running.clear();
  for (ItemHandle item : items_) Destroy(ItemAt(item));
}

void Scheduler::Reserve(size_t items) {
  items_.reserve(items);
  by_fid_.reserve(items);
}

void Scheduler::Destroy(Item* item) {
  const size_t bytes = Item::BytesFor(item->data_size);
  item->~Item();
  slab_.Free(item, bytes);
}

template <class F>
void Scheduler::ForEachQueue(const MoverId& owner, ItemType type,
                             const std::string* group, F f) const {
  static const std::string kNoGroup;
  for (auto q =
           queues_.lower_bound({owner, type, group ? *group : kNoGroup, 0, 0});
       q != queues_.end() && std::get<0>(q->first) == owner &&
       std::get<1>(q->first) == type &&
       (!group || std::get<2>(q->first) == *group);
       ++q)
    f(q->second);
}

void Scheduler::VisitInArrivalOrder(
    std::vector<const Item*> items,
    const std::function<void(const Item&)>& visit) {
  std::sort(items.begin(), items.end(),
            [](const Item* a, const Item* b) { return a->seq < b->seq; });
  for (const Item* item : items) visit(*item);
}

Item* Scheduler::Create(const protocol::WireItem& wire, ItemType type,
                        ItemHandle* handle) {
  const size_t bytes = Item::BytesFor(wire.item.data.size());
  void* block = slab_.Allocate(bytes);
  *handle = slab_.HandleOf(block, bytes);
  Item* raw = new (block) Item(wire, type);
  if (!items_.insert(*handle).second) {
    Destroy(raw);
    return nullptr;
  }
  return raw;
}

bool Scheduler::Link(Item* item, ItemHandle handle) {
  item->seq = next_seq_++;
  // The youngest: at the end of the last bucket.
  SeqBucket& bucket = by_seq_[item->seq / kSeqBucket];
  item->seq_pos = static_cast<uint16_t>(bucket.items.size());
  bucket.items.push_back(handle);
  ++bucket.live;
  // What FidActive(fid) says before the item joins the chain.
  bool active = awaiting_retry_.contains(item->hai.hai_fid);
  auto [chain, first] = by_fid_.insert(FidChain{handle});
  if (!first) {
    Item* newest = ItemAt(chain->newest);
    active = active || ChainActive(newest);
    SetOlderOfFid(item, newest);
    chain->newest = handle;
  }
  return active;
}

void Scheduler::SetBatching(BatchOptions options) {
  batch_ = options;
  if (!batching()) {
    batch_ = {.idle = {}, .max = {}, .slots = 0};
    return;
  }
  sources_[Index(ItemType::kArchive)] = std::make_unique<BatchSource>(*this);
}

void Scheduler::PushWaiting(Item* item) {
  auto [q, inserted] =
      queues_.try_emplace(QueueKey{item->affinity, item->type, item->group,
                                   item->archive_id, item->hal_flags});
  ItemList& queue = q->second;
  const uint64_t old_head = queue.empty() ? 0 : queue.front().seq;
  sources_[Index(item->type)]->Queued(*item);
  // Keep FIFO order by arrival: a requeued item goes back before younger
  // ones. New items are always the youngest, so this is a push_back for
  // them. Otherwise the place is searched from the end nearer in arrival
  // order: a requeued item was dispatched from near the head, an item moved
  // by Reassign() arrived recently.
  if (queue.empty() || queue.back().seq < item->seq) {
    queue.push_back(*item);
  } else if (item->seq < queue.front().seq) {
    queue.push_front(*item);
  } else if (item->seq - queue.front().seq <= queue.back().seq - item->seq) {
    auto pos = queue.begin();
    while (pos->seq < item->seq) ++pos;
    queue.insert(pos, *item);
  } else {
    auto pos = queue.end();
    while (std::prev(pos)->seq > item->seq) --pos;
    queue.insert(pos, *item);
  }
  if (queue.front().seq != old_head)
    sources_[Index(item->type)]->HeadChanged(q, old_head);
  item->owner.clear();
  CountPending(*item, true);
}

void Scheduler::Unqueue(Item* item) {
  Source& source = *sources_[Index(item->type)];
  if (item->group.empty() && !source.WatchesAllHeads()) {
    item->hook.unlink();  // few such queues: no index, and they stay
    return;
  }
  auto q = queues_.find({item->affinity, item->type, item->group,
                         item->archive_id, item->hal_flags});
  const uint64_t old_head = q->second.front().seq;
  item->hook.unlink();
  if (q->second.empty() || q->second.front().seq != old_head)
    source.HeadChanged(q, old_head);
  // One queue per owner or hint: drop it once empty, or a stream of
  // distinct hints would grow the map forever.
  if (q->second.empty() && !item->group.empty()) queues_.erase(q);
}

void Scheduler::LeftSlot(const Item& item) {
  if (tape_ && item.type == ItemType::kRestore) TapeEnded(item);
  if (item.slot < 0) return;
  auto m = movers_.find(item.owner);
  if (m != movers_.end() &&
      static_cast<size_t>(item.slot) < m->second.slots.size() &&
      m->second.slots[item.slot].running > 0)
    --m->second.slots[item.slot].running;
}

void Scheduler::MakeRunning(Item* item, const MoverId& mover) {
  MakeRunning(item, MoverName(mover), MoverOf(mover), 0);
}

void Scheduler::CountPending(const Item& item, bool add) {
  const size_t t = Index(item.type);
  if (add) {
    ++counters_.pending[t];
    ++pending_by_archive_[item.archive_id][t];
    return;
  }
  --counters_.pending[t];
  auto it = pending_by_archive_.find(item.archive_id);
  if (--it->second[t] == 0 &&
      it->second == std::array<uint64_t, kItemTypeCount>{})
    pending_by_archive_.erase(it);
}

void Scheduler::MakeRunning(Item* item, const MoverName& name, MoverQueues& m,
                            int64_t since) {
  if (item->parked) {
    Unpark(item);
    CountPending(*item, false);
  } else if (item->hook.is_linked()) {
    if (item->running()) {
      item->hook.unlink();
      LeftSlot(*item);
      --movers_[item->owner].running_count[Index(item->type)];
      --counters_.running[Index(item->type)];
      OwnerStopped(*item);
    } else {
      Unqueue(item);
      CountPending(*item, false);
      LeftWaiting(*item);
    }
  }
  item->slot = -1;
  item->since = since;
  m.running.push_back(*item);
  ++m.running_count[Index(item->type)];
  ++counters_.running[Index(item->type)];
  item->owner = name;
  OwnerStarted(*item);
}

void Scheduler::Forget(Item* item) {
  if (item->running()) {
    LeftSlot(*item);
    --movers_[item->owner].running_count[Index(item->type)];
    --counters_.running[Index(item->type)];
    item->hook.unlink();
    OwnerStopped(*item);
  } else if (item->behind_fid) {
    Unhold(item);
  } else if (item->parked) {
    CountPending(*item, false);
    Unpark(item);
  } else {
    CountPending(*item, false);
    LeftWaiting(*item);
    Unqueue(item);
  }
  if (item->type == ItemType::kRestore) {
    auto known = owner_known_.find(item->group);
    if (known != owner_known_.end() && --known->second == 0)
      owner_known_.erase(known);
  }
  const lu_fid fid = item->hai.hai_fid;
  auto of_fid = by_fid_.find(fid);
  bool others_of_fid = false;
  if (of_fid != by_fid_.end()) {
    bool was_last = false;
    Item* newer = nullptr;
    for (Item* other = ItemAt(of_fid->newest); other;
         newer = other, other = OlderOfFid(other))
      if (other == item) {
        Item* older = OlderOfFid(item);
        SetOlderOfFid(item, nullptr);
        if (newer)
          SetOlderOfFid(newer, older);
        else if (older)
          of_fid->newest = HandleOf(older);
        else
          was_last = true;  // `item` still alive: the entry's hash holds
        break;
      }
    if (was_last)
      by_fid_.erase(of_fid);
    else
      others_of_fid = true;
  }
  // Unlinked above: `item` no longer counts as active for its file. The
  // file's last request (the usual case): none left to start, no lookup.
  if (others_of_fid) StartNextOfFid(fid);
  LeaveSeqIndex(*item);
  if (tape_) TapeForgot(*item);
  items_.erase(items_.find(item->id()));
  Destroy(item);
}

void Scheduler::LeaveSeqIndex(const Item& item) {
  auto b = by_seq_.find(item.seq / kSeqBucket);
  SeqBucket& bucket = b->second;
  bucket.items[item.seq_pos] = SizedSlab::kNoHandle;
  if (--bucket.live == 0) {
    by_seq_.erase(b);
    return;
  }
  // Half holes: packed again (amortized: at least as many forgets as
  // items moved), still in arrival order.
  if (bucket.live * 2 > bucket.items.size()) return;
  std::vector<ItemHandle> packed;
  packed.reserve(bucket.live);
  for (ItemHandle kept : bucket.items)
    if (kept != SizedSlab::kNoHandle) {
      ItemAt(kept)->seq_pos = static_cast<uint16_t>(packed.size());
      packed.push_back(kept);
    }
  bucket.items = std::move(packed);
}

void Scheduler::LeftWaiting(const Item& item) {
  sources_[Index(item.type)]->Left(item);
}

Scheduler::MoverQueues& Scheduler::MoverOf(const MoverId& mover) {
  MoverQueues& m = movers_[mover];
  if (m.slots.size() != batch_.slots) m.slots.resize(batch_.slots);
  return m;
}

bool Scheduler::Enqueue(const protocol::WireItem& wire, const MoverId& affinity,
                        const std::string& share_owner) {
  auto type = TypeOfAction(wire.item.hai.hai_action);
  if (!type) return false;
  ItemHandle handle;
  Item* item = Create(wire, *type, &handle);
  if (!item) return false;  // known
  // A request ended with HP_FLAG_RETRY is back: no longer awaited, it is
  // the file's earlier request, so it waits only for what is active.
  TakeAwaited({wire.item.hai.hai_cookie, wire.item.hai.hai_fid});
  const bool behind = Link(item, handle);
  item->affinity = affinity;
  Source& source = *sources_[Index(*type)];
  item->group = source.GroupOf(wire, share_owner);
  if (*type == ItemType::kRestore) ++owner_known_[item->group];
  if (behind) {
    HoldBehindFid(item);  // joins its source when it starts waiting
    return true;
  }
  source.Joined(*item);
  PushWaiting(item);
  return true;
}

// One action per file at a time. Every pair of actions on one file
// conflicts (docs/policies.md, one action per file): two archives race on
// the copy in the archive (the later may fail and lose what the former
// wrote, while Lustre marks the file archived), a remove under an archive
// or a restore deletes what they write or read, a restore under an archive
// reads a copy being rewritten. Lustre lets some of these through (it looks
// for a duplicate only for cancels), so the server keeps them apart.
bool Scheduler::FidActive(const lu_fid& fid, const Item* except) const {
  // A request ended with HP_FLAG_RETRY comes back: the file is still busy
  // with it (Lustre runs it again before anything held behind it).
  if (awaiting_retry_.contains(fid)) return true;
  auto it = by_fid_.find(fid);
  return it != by_fid_.end() && ChainActive(ItemAt(it->newest), except);
}

bool Scheduler::ChainActive(const Item* newest, const Item* except) const {
  for (const Item* other = newest; other; other = OlderOfFid(other))
    if (other != except && !other->behind_fid) return true;
  return false;
}

Item* Scheduler::OlderOfFid(const Item* item) const {
  return item->has_older_of_fid ? older_of_fid_.find(item)->second : nullptr;
}

void Scheduler::SetOlderOfFid(Item* item, Item* older) {
  if (older) {
    older_of_fid_[item] = older;
    item->has_older_of_fid = true;
  } else if (item->has_older_of_fid) {
    older_of_fid_.erase(item);
    item->has_older_of_fid = false;
  }
}

void Scheduler::HoldBehindFid(Item* item) {
  item->behind_fid = true;
  behind_fid_.push_back(*item);
  ++counters_.held_same_fid[Index(item->type)];
}

void Scheduler::Unhold(Item* item) {
  item->behind_fid = false;
  item->hook.unlink();
  --counters_.held_same_fid[Index(item->type)];
}

void Scheduler::StartNextOfFid(const lu_fid& fid) {
  if (awaiting_retry_.contains(fid)) return;  // a retry comes back first
  auto it = by_fid_.find(fid);
  if (it == by_fid_.end()) return;
  Item* earliest = nullptr;
  for (Item* other = ItemAt(it->newest); other; other = OlderOfFid(other)) {
    if (!other->behind_fid) return;  // one still active: the rest wait
    if (!earliest || other->seq < earliest->seq) earliest = other;
  }
  Unhold(earliest);
  sources_[Index(earliest->type)]->Joined(*earliest);
  PushWaiting(earliest);  // by arrival: before younger items of its queue
}

bool Scheduler::Reassign(const ItemId& id, const MoverId& affinity) {
  Item* item = FindItem(id);
  if (!item || item->running()) return false;
  if (item->affinity == affinity) return true;
  if (item->behind_fid) {
    item->affinity = affinity;  // the queue it will enter
    return true;
  }
  if (item->parked) {
    Unpark(item);
  } else {
    Unqueue(item);
    LeftWaiting(*item);
  }
  CountPending(*item, false);
  item->affinity = affinity;
  PushWaiting(item);
  return true;
}

size_t Scheduler::Unpin(const MoverId& mover, ItemType type) {
  if (mover.empty()) return 0;
  std::vector<ItemId> ids;
  ForEachQueue(mover, type, nullptr, [&](const ItemList& queue) {
    for (const Item& item : queue) ids.push_back(item.id());
  });
  // Held ones would enter that mover's queue later: few, seen in a walk.
  for (const Item& item : behind_fid_)
    if (item.type == type && item.affinity == mover) ids.push_back(item.id());
  for (const ItemId& id : ids) Reassign(id, "");
  return ids.size();
}

bool Scheduler::Claim(const MoverId& mover, const protocol::WireItem& wire) {
  Item* item = FindItem(ItemId::Of(wire.item.hai));
  if (!item) {
    auto type = TypeOfAction(wire.item.hai.hai_action);
    if (!type) return false;
    ItemHandle handle;
    item = Create(wire, *type, &handle);  // not known: never nullptr
    Link(item, handle);
    if (*type == ItemType::kRestore) ++owner_known_[item->group];
  }
  if (item->behind_fid) Unhold(item);
  MakeRunning(item, mover);
  return true;
}

Scheduler::CancelOutcome Scheduler::Cancel(const protocol::WireItem& cancel,
                                           protocol::WireItem* target,
                                           MoverId* mover) {
  Item* item = FindItem(ItemId::Of(cancel.item.hai));
  if (!item) return CancelOutcome::kUnknown;
  *target = item->ToWire();
  if (!item->running()) {
    Forget(item);
    ++counters_.done_cancel;
    return CancelOutcome::kDequeued;
  }
  *mover = item->owner;
  MoverOf(item->owner).cancels.push_back(cancel);
  ++counters_.pending_cancel;
  return CancelOutcome::kForwarded;
}

bool Scheduler::Requeue(const ItemId& id) {
  Item* item = FindItem(id);
  if (!item || !item->running()) return false;
  LeftSlot(*item);
  item->slot = -1;
  --movers_[item->owner].running_count[Index(item->type)];
  --counters_.running[Index(item->type)];
  item->hook.unlink();
  OwnerStopped(*item);
  PushWaiting(item);
  return true;
}

bool Scheduler::Done(const ItemId& id, bool failed, bool await_retry) {
  const Item* item = FindItem(id);
  if (!item) return false;
  Done(*item, failed, await_retry);
  return true;
}

void Scheduler::Done(const Item& found, bool failed, bool await_retry) {
  // One of ours, handed out as const by Find.
  Item* item = const_cast<Item*>(&found);
  ++counters_.done[Index(item->type)];
  if (failed) ++counters_.failed[Index(item->type)];
  if (await_retry) {
    // Before Forget: it must not start the file's next held request.
    // Copies: the item's fields are packed.
    const lu_fid fid = item->hai.hai_fid;
    const uint64_t cookie = item->hai.hai_cookie;
    std::vector<uint64_t>& cookies = awaiting_retry_[fid];
    if (std::find(cookies.begin(), cookies.end(), cookie) == cookies.end()) {
      cookies.push_back(cookie);
      ++counters_.awaiting_retry;
    }
  }
  Forget(item);
}

bool Scheduler::TakeAwaited(const ItemId& key) {
  auto it = awaiting_retry_.find(key.dfid);
  if (it == awaiting_retry_.end()) return false;
  std::vector<uint64_t>& cookies = it->second;
  auto c = std::find(cookies.begin(), cookies.end(), key.cookie);
  if (c == cookies.end()) return false;
  cookies.erase(c);
  --counters_.awaiting_retry;
  if (cookies.empty()) awaiting_retry_.erase(it);
  return true;
}

bool Scheduler::EndAwaitRetry(const ItemId& key) {
  if (!TakeAwaited(key)) return false;
  if (!FidActive(key.dfid)) StartNextOfFid(key.dfid);
  return true;
}

bool Scheduler::AwaitingRetry(const ItemId& key) const {
  auto it = awaiting_retry_.find(key.dfid);
  return it != awaiting_retry_.end() &&
         std::find(it->second.begin(), it->second.end(), key.cookie) !=
             it->second.end();
}

bool Scheduler::Drop(const ItemId& id) {
  Item* item = FindItem(id);
  if (!item) return false;
  Forget(item);
  return true;
}

size_t Scheduler::Release(const MoverId& mover,
                          std::vector<protocol::WireItem>* orphan_cancels) {
  auto it = movers_.find(mover);
  if (it == movers_.end()) return 0;
  MoverQueues& m = it->second;
  for (Slot& slot : m.slots) FreeSlot(slot);
  if (tape_) TapeFreed(mover, &m.running);
  size_t count = 0;
  // Youngest first: each then goes in front of the ones placed before it,
  // found at once from the head of its queue.
  while (!m.running.empty()) {
    Item& item = m.running.back();
    m.running.pop_back();
    item.slot = -1;
    --counters_.running[Index(item.type)];
    OwnerStopped(item);
    PushWaiting(&item);
    ++count;
  }
  counters_.pending_cancel -= m.cancels.size();
  for (auto& cancel : m.cancels) orphan_cancels->push_back(std::move(cancel));
  movers_.erase(it);
  return count;
}

ItemList* Scheduler::BestQueue(
    ItemType type, const MoverId& mover,
    const std::vector<uint32_t>& archive_ids,
    const std::optional<std::pair<uint32_t, uint64_t>>& key,
    const std::string* group, uint64_t skip_flags) {
  // FIFO by arrival.
  ItemList* best = nullptr;
  uint64_t best_seq = UINT64_MAX;
  static const std::string kNoGroup;
  for (const MoverId* owner : {&kGlobal, &mover}) {
    for (auto it = queues_.lower_bound(
             {*owner, type, group ? *group : kNoGroup, 0, 0});
         it != queues_.end() && std::get<0>(it->first) == *owner &&
         std::get<1>(it->first) == type &&
         (!group || std::get<2>(it->first) == *group);
         ++it) {
      auto& [queue_key, queue] = *it;
      if (queue.empty()) continue;
      uint32_t archive_id = std::get<3>(queue_key);
      uint64_t flags = std::get<4>(queue_key);
      if (key ? (archive_id != key->first || flags != key->second)
              : !Accepts(archive_ids, archive_id))
        continue;
      if (flags & skip_flags) continue;
      if (queue.front().seq < best_seq) {
        best = &queue;
        best_seq = queue.front().seq;
      }
    }
    if (mover.empty()) break;  // the global queues were the mover's
  }
  return best;
}

void Scheduler::TakeCancelsInto(
    MoverQueues& m, uint32_t max_bytes,
    std::optional<std::pair<uint32_t, uint64_t>>* key, size_t* used,
    DispatchReply* reply) {
  auto cancel = m.cancels.begin();
  while (cancel != m.cancels.end()) {
    std::pair<uint32_t, uint64_t> cancel_key{cancel->archive_id,
                                             cancel->hal_flags};
    size_t cost = ReplyCost(*cancel);
    if ((*key && **key != cancel_key) || *used + cost > max_bytes) {
      ++cancel;
      continue;
    }
    *key = cancel_key;
    *used += cost;
    reply->cancels.push_back(std::move(*cancel));
    cancel = m.cancels.erase(cancel);
    --counters_.pending_cancel;
    ++counters_.done_cancel;
  }
}

DispatchReply Scheduler::TakeCancels(const MoverId& mover, uint32_t max_bytes) {
  DispatchReply reply;
  auto it = movers_.find(mover);
  if (it == movers_.end()) return reply;
  std::optional<std::pair<uint32_t, uint64_t>> key;
  size_t used = 0;
  TakeCancelsInto(it->second, max_bytes, &key, &used, &reply);
  if (key) {
    reply.archive_id = key->first;
    reply.hal_flags = key->second;
  }
  return reply;
}

void Scheduler::FreeSlots(const MoverId& mover) {
  auto it = movers_.find(mover);
  if (it == movers_.end()) return;
  for (Slot& slot : it->second.slots) FreeSlot(slot);
  if (tape_) TapeFreed(mover, nullptr);
}

DispatchReply Scheduler::Dispatch(const MoverId& mover,
                                  const std::vector<uint32_t>& archive_ids,
                                  const MoverLimits& limits,
                                  size_t share_divisor, int64_t now_ns) {
  DispatchReply reply;
  std::optional<std::pair<uint32_t, uint64_t>> key;
  size_t used = 0;
  MoverQueues& m = MoverOf(mover);
  const MoverName name(mover);  // interned once per reply

  // Cancels go first whatever their archive id; the first fixes the reply's.
  TakeCancelsInto(m, limits.max_bytes, &key, &used, &reply);

  if (share_divisor == 0) share_divisor = 1;
  // Aging: an archive that waited too long goes first.
  std::array<ItemType, kItemTypeCount> order = {
      ItemType::kRestore, ItemType::kRemove, ItemType::kArchive};
  if (archive_max_wait_ns_ > 0 && now_ns > 0) {
    auto oldest = OldestArchive(mover, archive_ids, key);
    if (oldest && now_ns - *oldest > archive_max_wait_ns_)
      order = {ItemType::kArchive, ItemType::kRestore, ItemType::kRemove};
  }
  for (ItemType type : order) {
    const size_t t = Index(type);
    const uint64_t share =
        (counters_.pending[t] + share_divisor - 1) / share_divisor;
    Source& source = *sources_[t];
    const size_t before = reply.items.size();
    if (!oversized_[t].empty())
      TakeOversized(type, name, m, archive_ids, limits, share, now_ns, &key,
                    &used, &reply);
    Turn turn{mover, m, archive_ids, key, limits, now_ns};
    // When the list is full, room for what this type may still add at
    // most, at once: grown item by item, a list of thousands was
    // reallocated a dozen times, and malloc of such blocks cost as much as
    // the rest of the dispatch. Only once an item is taken: a mover that
    // takes nothing costs no allocation.
    auto make_room = [&](size_t taken) {
      if (reply.items.size() < reply.items.capacity()) return;
      // `taken`, `used` and the running count include the item to add.
      const uint64_t more = std::min<uint64_t>(
          {share - taken, limits.max_running[t] - m.running_count[t],
           (limits.max_bytes - used) / (2 * hsm::kHaiFixedSize)});
      reply.items.reserve(reply.items.size() + 1 + more);
    };
    for (size_t taken = reply.items.size() - before;
         taken < share && m.running_count[t] < limits.max_running[t];) {
      ItemList* queue = source.Next(turn);
      if (!queue) break;
      Item& item = queue->front();
      // Per-owner limits bind every restore stage. The fair-share and
      // blocking stages never offer a full owner's queue; a stage that
      // does (or arrival order, where all restores are one owner) ends
      // the restore turn here.
      if (type == ItemType::kRestore && OwnerFull(item.group)) break;
      const size_t cost = ReplyCost(item);
      if (cost > limits.max_bytes) {
        // Never fits this mover: set aside, so it blocks nobody.
        reply.parked.push_back({item.id(), cost, limits.max_bytes});
        Park(&item, now_ns);
        continue;
      }
      if (used + cost > limits.max_bytes) break;
      ++taken;
      used += cost;
      key = std::make_pair(item.archive_id, item.hal_flags);
      MakeRunning(&item, name, m, now_ns);  // may drop `queue`, now empty
      make_room(taken);
      reply.items.push_back(&item);
      source.Sent(item, turn);
    }
  }
  if (key) {
    reply.archive_id = key->first;
    reply.hal_flags = key->second;
  }
  return reply;
}

void Scheduler::Park(Item* item, int64_t now) {
  Unqueue(item);
  LeftWaiting(*item);
  item->parked = true;
  item->since = now;
  oversized_[Index(item->type)].emplace(
      std::make_pair(ReplyCost(*item), item->seq), item);
  ++counters_.oversized;
}

void Scheduler::Unpark(Item* item) {
  oversized_[Index(item->type)].erase({ReplyCost(*item), item->seq});
  item->parked = false;
  --counters_.oversized;
}

void Scheduler::TakeOversized(ItemType type, const MoverName& name,
                              MoverQueues& m,
                              const std::vector<uint32_t>& archive_ids,
                              const MoverLimits& limits, size_t share,
                              int64_t now,
                              std::optional<std::pair<uint32_t, uint64_t>>* key,
                              size_t* used, DispatchReply* reply) {
  // Few entries are looked at (a dispatch never walks the index): those
  // another mover must take (affinity) or of other archive ids are skipped,
  // up to this many.
  constexpr size_t kLooks = 8;
  const size_t t = Index(type);
  auto& index = oversized_[t];
  size_t looked = 0, taken = 0;
  for (auto it = index.begin(); it != index.end() && looked < kLooks &&
                                taken < share &&
                                m.running_count[t] < limits.max_running[t];) {
    const size_t cost = it->first.first;
    if (*used + cost > limits.max_bytes) break;  // by cost: none further fits
    ++looked;
    Item* item = it->second;
    const uint32_t archive_id = item->archive_id;
    const uint64_t flags = item->hal_flags;
    if ((!item->affinity.empty() && item->affinity != name) ||
        (type == ItemType::kRestore && OwnerFull(item->group)) ||
        (*key ? (archive_id != (*key)->first || flags != (*key)->second)
              : !Accepts(archive_ids, archive_id))) {
      ++it;
      continue;
    }
    ++it;  // MakeRunning erases the entry
    *used += cost;
    *key = std::make_pair(archive_id, flags);
    MakeRunning(item, name, m, now);
    reply->items.push_back(item);
    ++taken;
  }
}

std::vector<protocol::WireItem> Scheduler::ExpireOversized(
    int64_t older_than_ns) {
  std::vector<Item*> expired;
  for (const auto& index : oversized_)
    for (const auto& [key, item] : index)
      if (item->since <= older_than_ns) expired.push_back(item);
  std::vector<protocol::WireItem> wires;
  for (Item* item : expired) {
    wires.push_back(item->ToWire());
    Forget(item);
  }
  return wires;
}

void Scheduler::ForEachOversized(
    const std::function<void(const Item&)>& visit) const {
  for (const auto& index : oversized_)
    for (const auto& [key, item] : index) visit(*item);
}

std::optional<int64_t> Scheduler::OldestArchive(
    const MoverId& mover, const std::vector<uint32_t>& archive_ids,
    const std::optional<std::pair<uint32_t, uint64_t>>& key) {
  static const std::string kNoHint;
  std::optional<int64_t> oldest;
  auto consider = [&](const Item& item) {
    if (!oldest || item.timestamp_ns < *oldest) oldest = item.timestamp_ns;
  };
  if (!batching()) {
    if (ItemList* q = BestQueue(ItemType::kArchive, mover, archive_ids, key))
      consider(q->front());
    return oldest;
  }
  if (ItemList* q =
          BestQueue(ItemType::kArchive, mover, archive_ids, key, &kNoHint))
    consider(q->front());
  // Batched archives: the oldest head of each owner's index (whatever its
  // archive id: aging is a hint, not a promise).
  for (const MoverId* owner : {&kGlobal, &mover}) {
    auto heads = batch_heads_.find(*owner);
    if (heads != batch_heads_.end() && !heads->second.empty())
      consider(queues_.find(*heads->second.begin()->second)->second.front());
    if (mover.empty()) break;
  }
  return oldest;
}

bool Scheduler::Reserved(const MoverId& mover, const Slot& slot,
                         int64_t now) const {
  if (!slot.held) return false;
  if (slot.max_deadline && now >= slot.max_deadline) return false;
  return now < slot.idle_deadline || HasWaiting(mover, slot.hint);
}

bool Scheduler::HasWaiting(const MoverId& mover,
                           const std::string& hint) const {
  bool waiting = false;
  for (const MoverId* owner : {&kGlobal, &mover}) {
    ForEachQueue(*owner, ItemType::kArchive, &hint,
                 [&](const ItemList& queue) { waiting |= !queue.empty(); });
    if (waiting || mover.empty()) break;
  }
  return waiting;
}

void Scheduler::FreeSlot(Slot& slot) {
  if (slot.held) holders_.erase(slot.hint);
  slot.hint.clear();
  slot.held = false;
  slot.idle_deadline = slot.max_deadline = 0;
}

bool Scheduler::TakeHint(
    const MoverId& mover, uint32_t index,
    const std::vector<uint32_t>& archive_ids,
    const std::optional<std::pair<uint32_t, uint64_t>>& key, int64_t now) {
  // Merge the global and the mover's own index by head arrival.
  using Heads = std::set<std::pair<uint64_t, const QueueKey*>>;
  static const Heads kNone;
  auto find = [&](const MoverId& owner) -> const Heads& {
    auto it = batch_heads_.find(owner);
    return it == batch_heads_.end() ? kNone : it->second;
  };
  const Heads& global = find(kGlobal);
  const Heads& own = find(mover);
  auto g = global.begin(), o = own.begin();
  while (g != global.end() || o != own.end()) {
    auto& next =
        (o == own.end() || (g != global.end() && g->first < o->first)) ? g : o;
    const QueueKey& queue_key = *next->second;
    ++next;
    const uint32_t archive_id = std::get<3>(queue_key);
    const uint64_t flags = std::get<4>(queue_key);
    if (key ? (archive_id != key->first || flags != key->second)
            : !Accepts(archive_ids, archive_id))
      continue;
    const std::string& hint = std::get<2>(queue_key);
    auto holder = holders_.find(hint);
    if (holder != holders_.end()) {
      auto [holder_id, holder_index] = holder->second;
      Slot& held = movers_[holder_id].slots[holder_index];
      if (Reserved(holder_id, held, now)) continue;
      FreeSlot(held);  // its slice is over: the hint is free again
    }
    Slot& slot = movers_[mover].slots[index];
    slot.hint = hint;
    slot.held = true;
    slot.idle_deadline = now + batch_.idle.count();
    slot.max_deadline = batch_.max.count() ? now + batch_.max.count() : 0;
    holders_[hint] = {mover, index};
    return true;
  }
  return false;
}

std::optional<int64_t> Scheduler::NextBatchDeadline(int64_t now_ns) const {
  std::optional<int64_t> next;
  auto consider = [&](int64_t deadline) {
    if (deadline > now_ns && (!next || deadline < *next)) next = deadline;
  };
  for (const auto& [id, mover] : movers_)
    for (const Slot& slot : mover.slots) {
      if (!slot.held) continue;
      consider(slot.idle_deadline);
      if (slot.max_deadline) consider(slot.max_deadline);
    }
  if (const TapeMedia* media = tape_media())
    if (auto deadline = media->NextDeadline(now_ns)) consider(*deadline);
  return next;
}

std::vector<BatchSlotView> Scheduler::Batches(const MoverId& mover,
                                              int64_t now_ns) const {
  std::vector<BatchSlotView> views;
  auto it = movers_.find(mover);
  if (it == movers_.end()) return views;
  for (const Slot& slot : it->second.slots) {
    BatchSlotView view;
    if (Reserved(mover, slot, now_ns)) {
      view.hint = slot.hint;
      view.idle_deadline_ns = slot.idle_deadline;
      view.max_deadline_ns = slot.max_deadline;
      for (const MoverId* owner : {&kGlobal, &mover})
        ForEachQueue(
            *owner, ItemType::kArchive, &slot.hint,
            [&](const ItemList& queue) { view.waiting += queue.size(); });
    }
    view.running = slot.running;
    views.push_back(std::move(view));
  }
  return views;
}

size_t Scheduler::HeldSlots(const MoverId& mover) const {
  auto it = movers_.find(mover);
  if (it == movers_.end()) return 0;
  return std::count_if(it->second.slots.begin(), it->second.slots.end(),
                       [](const Slot& slot) { return slot.held; });
}

const Item* Scheduler::Find(const ItemId& id) const { return FindItem(id); }

std::optional<int64_t> Scheduler::OldestArrivalIn(const MoverId& owner,
                                                  ItemType type) const {
  static const std::string kNoGroup;
  std::optional<int64_t> oldest;
  auto consider = [&](const ItemList& queue) {
    // 0: an arrival time unknown (never older than the others).
    if (!queue.empty() && queue.front().timestamp_ns > 0 &&
        (!oldest || queue.front().timestamp_ns < *oldest))
      oldest = queue.front().timestamp_ns;
  };
  // Batched archives: their queues (one per hint, possibly one per item)
  // are seen through the index of their heads, oldest first per owner;
  // the other queues of a type are few per owner (archive ids and flags,
  // fair-share owners).
  const bool batched = type == ItemType::kArchive && batching();
  ForEachQueue(owner, type, batched ? &kNoGroup : nullptr, consider);
  if (batched) {
    auto heads = batch_heads_.find(owner);
    if (heads != batch_heads_.end() && !heads->second.empty())
      consider(queues_.find(*heads->second.begin()->second)->second);
  }
  return oldest;
}

std::optional<int64_t> Scheduler::OldestArrival(ItemType type) const {
  std::optional<int64_t> oldest;
  for (auto q = queues_.begin(); q != queues_.end();) {
    const MoverId& owner = std::get<0>(q->first);
    std::optional<int64_t> of_owner = OldestArrivalIn(owner, type);
    if (of_owner && (!oldest || *of_owner < *oldest)) oldest = of_owner;
    // The next owner: the first key past every key of this one.
    q = queues_.lower_bound({owner + '\0', ItemType::kRestore, "", 0, 0});
  }
  return oldest;
}

void Scheduler::ForEachMoverRunning(
    const std::function<void(const MoverId&,
                             const std::array<uint32_t, kItemTypeCount>&)>&
        visit) const {
  for (const auto& [id, m] : movers_) visit(id, m.running_count);
}

void Scheduler::ForEachOfFid(
    const lu_fid& fid, const std::function<void(const Item&)>& visit) const {
  auto it = by_fid_.find(fid);
  if (it == by_fid_.end()) return;
  for (const Item* item = ItemAt(it->newest); item; item = OlderOfFid(item))
    visit(*item);
}

std::optional<size_t> Scheduler::PositionInQueue(const Item& item,
                                                 size_t bound) const {
  if (item.running() || item.parked || item.behind_fid ||
      !item.hook.is_linked())
    return std::nullopt;
  // Towards the head: the cost is the position (bounded), whatever the
  // queue's length. The list has no end marker reachable from an item, so
  // the queue's head is found through its key.
  auto q = queues_.find(
      {item.affinity, item.type, item.group, item.archive_id, item.hal_flags});
  if (q == queues_.end()) return std::nullopt;
  const ItemList& queue = q->second;
  size_t ahead = 0;
  for (auto it = ItemList::s_iterator_to(item); it != queue.begin(); --it)
    if (++ahead > bound) return std::nullopt;
  return ahead;
}

std::optional<std::pair<MoverId, uint32_t>> Scheduler::HolderOf(
    const std::string& hint) const {
  auto it = holders_.find(hint);
  if (it == holders_.end()) return std::nullopt;
  return it->second;
}

uint64_t Scheduler::VisitFrom(
    uint64_t after, size_t max_examined,
    const std::function<bool(const Item&)>& visit) const {
  uint64_t last = 0;
  size_t examined = 0;
  for (auto b = by_seq_.lower_bound(after / kSeqBucket); b != by_seq_.end();
       ++b) {
    const std::vector<ItemHandle>& items = b->second.items;
    for (size_t i = 0; i < items.size(); ++i) {
      // Holes; the cursor's bucket: at most 1024.
      if (items[i] == SizedSlab::kNoHandle) continue;
      const Item* item = ItemAt(items[i]);
      if (item->seq <= after) continue;
      if (examined++ == max_examined) return last;
      last = item->seq;
      if (!visit(*item)) {
        if (std::next(b) != by_seq_.end()) return last;
        for (size_t j = i + 1; j < items.size(); ++j)
          if (items[j] != SizedSlab::kNoHandle) return last;
        return 0;  // the end
      }
    }
  }
  return 0;
}

uint32_t Scheduler::Running(const MoverId& mover, ItemType type) const {
  auto it = movers_.find(mover);
  return it == movers_.end() ? 0 : it->second.running_count[Index(type)];
}

void Scheduler::ForEachWaiting(
    ItemType type, const std::function<void(const Item&)>& visit) const {
  std::vector<const Item*> items;
  for (const auto& [key, queue] : queues_)
    if (std::get<1>(key) == type)
      for (const Item& item : queue) items.push_back(&item);
  VisitInArrivalOrder(std::move(items), visit);
}

std::vector<ItemId> Scheduler::WaitingIds(ItemType type) const {
  struct Cursor {
    ItemList::const_iterator at, end;
  };
  std::vector<Cursor> cursors;
  for (const auto& [key, queue] : queues_)
    if (std::get<1>(key) == type && !queue.empty())
      cursors.push_back({queue.begin(), queue.end()});
  auto later = [](const Cursor& a, const Cursor& b) {
    return a.at->seq > b.at->seq;
  };
  std::make_heap(cursors.begin(), cursors.end(), later);
  std::vector<ItemId> ids;
  ids.reserve(counters_.pending[Index(type)]);
  while (!cursors.empty()) {
    std::pop_heap(cursors.begin(), cursors.end(), later);
    Cursor& next = cursors.back();
    ids.push_back(next.at->id());
    if (++next.at == next.end)
      cursors.pop_back();
    else
      std::push_heap(cursors.begin(), cursors.end(), later);
  }
  return ids;
}

std::vector<const Item*> Scheduler::OldestWaiting(ItemType type,
                                                  size_t n) const {
  static const std::string kNoGroup;
  std::vector<const Item*> items;
  auto take = [&](const ItemList& queue) {
    size_t taken = 0;
    for (auto it = queue.begin(); it != queue.end() && taken < n; ++it, ++taken)
      items.push_back(&*it);
  };
  // As OldestArrivalIn: batched archives may have one queue per item, so
  // their queues are reached through the index of their heads, oldest
  // first: the n oldest are within the first n of them.
  const bool batched = type == ItemType::kArchive && batching();
  for (auto q = queues_.begin(); q != queues_.end();) {
    const MoverId& owner = std::get<0>(q->first);
    ForEachQueue(owner, type, batched ? &kNoGroup : nullptr, take);
    if (batched) {
      auto heads = batch_heads_.find(owner);
      if (heads != batch_heads_.end()) {
        size_t seen = 0;
        for (auto h = heads->second.begin();
             h != heads->second.end() && seen < n; ++h, ++seen)
          take(queues_.find(*h->second)->second);
      }
    }
    // The next owner: the first key past every key of this one.
    q = queues_.lower_bound({owner + '\0', ItemType::kRestore, "", 0, 0});
  }
  const size_t kept = std::min(n, items.size());
  std::partial_sort(
      items.begin(), items.begin() + kept, items.end(),
      [](const Item* a, const Item* b) { return a->seq < b->seq; });
  items.resize(kept);
  return items;
}

void Scheduler::ForEachWaitingIn(
    const MoverId& owner, ItemType type,
    const std::function<void(const Item&)>& visit) const {
  std::vector<const Item*> items;
  ForEachQueue(owner, type, nullptr, [&](const ItemList& queue) {
    for (const Item& item : queue) items.push_back(&item);
  });
  VisitInArrivalOrder(std::move(items), visit);
}

void Scheduler::ForEachWaitingOfHint(
    const MoverId& mover, const std::string& hint,
    const std::function<void(const Item&)>& visit) const {
  std::vector<const Item*> items;
  for (const MoverId* owner : {&kGlobal, &mover}) {
    ForEachQueue(*owner, ItemType::kArchive, &hint, [&](const ItemList& queue) {
      for (const Item& item : queue) items.push_back(&item);
    });
    if (mover.empty()) break;
  }
  VisitInArrivalOrder(std::move(items), visit);
}

void Scheduler::ForEachHeldSameFid(
    const std::function<void(const Item&)>& visit) const {
  for (const Item& item : behind_fid_) visit(item);
}

void Scheduler::ForEachRunning(
    const MoverId& mover, const std::function<void(const Item&)>& visit) const {
  auto it = movers_.find(mover);
  if (it == movers_.end()) return;
  for (const Item& item : it->second.running) visit(item);
}

void Scheduler::ForEachItem(
    const std::function<void(const Item&)>& visit) const {
  for (ItemHandle item : items_) visit(*ItemAt(item));
}

}  // namespace server
