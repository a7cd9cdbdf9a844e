#include "server/scheduler.h"

#include <algorithm>

#include "policy/tag.h"

namespace server {

namespace {

const ClientId kGlobal;

bool Accepts(const std::vector<uint32_t>& archive_ids, uint32_t archive_id) {
  return archive_ids.empty() ||
         std::find(archive_ids.begin(), archive_ids.end(), archive_id) !=
             archive_ids.end();
}

size_t Index(ItemType type) { return static_cast<size_t>(type); }

}  // namespace

Scheduler::Scheduler() = default;

Scheduler::~Scheduler() {
  // Unlink every item before the lists go, so no hook outlives its list.
  for (auto& [key, queue] : queues_) queue.clear();
  for (auto& [id, mover] : movers_) mover.running.clear();
}

Item* Scheduler::Create(const protocol::WireItem& wire, ItemType type) {
  auto item = std::make_unique<Item>();
  item->id = ItemId::Of(wire.item.hai);
  item->type = type;
  item->seq = next_seq_++;
  item->wire = wire;
  Item* raw = item.get();
  items_.emplace(raw->id, std::move(item));
  return raw;
}

void Scheduler::PushWaiting(Item* item) {
  ItemList& queue = queues_[{item->affinity, item->type, item->share,
                             item->wire.archive_id, item->wire.hal_flags}];
  if (FairShared(item->type)) {
    Share& share = shares_[item->share];
    // Back from idle: start at the current pass, with no saved credit.
    if (share.waiting++ == 0) share.pass = std::max(share.pass, share_pass_);
  }
  // Keep FIFO order by arrival: a requeued item goes back before younger
  // ones. New items are always the youngest, so this is a push_back for them.
  // A requeued item was dispatched from near the head, so its place is
  // searched from the head: from the tail it would cost the whole queue.
  if (queue.empty() || queue.back().seq < item->seq) {
    queue.push_back(*item);
  } else {
    auto pos = queue.begin();
    while (pos->seq < item->seq) ++pos;
    queue.insert(pos, *item);
  }
  item->owner.clear();
  ++counters_.pending[Index(item->type)];
}

void Scheduler::MakeRunning(Item* item, const ClientId& mover) {
  if (item->hook.is_linked()) {
    item->hook.unlink();
    if (item->running()) {
      --movers_[item->owner].running_count[Index(item->type)];
      --counters_.running[Index(item->type)];
    } else {
      --counters_.pending[Index(item->type)];
      LeftWaiting(*item);
    }
  }
  Mover& m = MoverOf(mover);
  m.running.push_back(*item);
  ++m.running_count[Index(item->type)];
  ++counters_.running[Index(item->type)];
  item->owner = mover;
}

void Scheduler::Forget(Item* item) {
  if (item->running()) {
    --movers_[item->owner].running_count[Index(item->type)];
    --counters_.running[Index(item->type)];
  } else {
    --counters_.pending[Index(item->type)];
  }
  item->hook.unlink();
  const ItemId id = item->id;  // the key outlives the item it names
  items_.erase(id);
}

void Scheduler::LeftWaiting(const Item& item) {
  if (!FairShared(item.type)) return;
  auto it = shares_.find(item.share);
  if (it != shares_.end() && it->second.waiting > 0) --it->second.waiting;
}

void Scheduler::Served(const Item& item) {
  if (!FairShared(item.type)) return;
  Share& share = shares_[item.share];
  share_pass_ = share.pass;
  auto weight = fair_share_.weights.find(item.share);
  uint32_t w = weight == fair_share_.weights.end()
                   ? 1
                   : std::max<uint32_t>(1, weight->second);
  share.pass += kStride / w;
}

Scheduler::Mover& Scheduler::MoverOf(const ClientId& mover) {
  return movers_[mover];
}

bool Scheduler::Enqueue(const protocol::WireItem& wire,
                        const ClientId& affinity) {
  auto type = TypeOfAction(wire.item.hai.hai_action);
  if (!type || items_.contains(ItemId::Of(wire.item.hai))) return false;
  Item* item = Create(wire, *type);
  item->affinity = affinity;
  if (FairShared(*type))
    item->share = std::string(
        policy::TagValue(wire.item.data, fair_share_.tag).value_or(""));
  PushWaiting(item);
  return true;
}

bool Scheduler::Claim(const ClientId& mover, const protocol::WireItem& wire) {
  auto it = items_.find(ItemId::Of(wire.item.hai));
  Item* item;
  if (it != items_.end()) {
    item = it->second.get();
  } else {
    auto type = TypeOfAction(wire.item.hai.hai_action);
    if (!type) return false;
    item = Create(wire, *type);
  }
  MakeRunning(item, mover);
  return true;
}

Scheduler::CancelOutcome Scheduler::Cancel(const protocol::WireItem& cancel,
                                           protocol::WireItem* target,
                                           ClientId* mover) {
  auto it = items_.find(ItemId::Of(cancel.item.hai));
  if (it == items_.end()) return CancelOutcome::kUnknown;
  Item* item = it->second.get();
  *target = item->wire;
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
  auto it = items_.find(id);
  if (it == items_.end() || !it->second->running()) return false;
  Item* item = it->second.get();
  --movers_[item->owner].running_count[Index(item->type)];
  --counters_.running[Index(item->type)];
  item->hook.unlink();
  PushWaiting(item);
  return true;
}

bool Scheduler::Done(const ItemId& id) {
  auto it = items_.find(id);
  if (it == items_.end()) return false;
  ++counters_.done[Index(it->second->type)];
  Forget(it->second.get());
  return true;
}

size_t Scheduler::Release(const ClientId& mover,
                          std::vector<protocol::WireItem>* orphan_cancels) {
  auto it = movers_.find(mover);
  if (it == movers_.end()) return 0;
  Mover& m = it->second;
  size_t count = 0;
  // Youngest first: each then goes in front of the ones placed before it,
  // found at once from the head of its queue.
  while (!m.running.empty()) {
    Item& item = m.running.back();
    m.running.pop_back();
    --counters_.running[Index(item.type)];
    PushWaiting(&item);
    ++count;
  }
  counters_.pending_cancel -= m.cancels.size();
  for (auto& cancel : m.cancels) orphan_cancels->push_back(std::move(cancel));
  movers_.erase(it);
  return count;
}

ItemList* Scheduler::BestQueue(
    ItemType type, const ClientId& mover,
    const std::vector<uint32_t>& archive_ids,
    const std::optional<std::pair<uint32_t, uint64_t>>& key) {
  // FIFO by arrival, or for fair-shared restores the owner with the lowest
  // pass first (then arrival).
  ItemList* best = nullptr;
  std::pair<uint64_t, uint64_t> best_rank{UINT64_MAX, UINT64_MAX};
  const bool fair = FairShared(type);
  for (const ClientId* owner : {&kGlobal, &mover}) {
    for (auto it = queues_.lower_bound({*owner, type, "", 0, 0});
         it != queues_.end() && std::get<0>(it->first) == *owner &&
         std::get<1>(it->first) == type;
         ++it) {
      auto& [queue_key, queue] = *it;
      if (queue.empty()) continue;
      uint32_t archive_id = std::get<3>(queue_key);
      uint64_t flags = std::get<4>(queue_key);
      if (key ? (archive_id != key->first || flags != key->second)
              : !Accepts(archive_ids, archive_id))
        continue;
      std::pair<uint64_t, uint64_t> rank{
          fair ? shares_[std::get<2>(queue_key)].pass : 0, queue.front().seq};
      if (rank < best_rank) {
        best = &queue;
        best_rank = rank;
      }
    }
    if (mover.empty()) break;  // the global queues were the mover's
  }
  return best;
}

DispatchReply Scheduler::Dispatch(const ClientId& mover,
                                  const std::vector<uint32_t>& archive_ids,
                                  const MoverLimits& limits,
                                  size_t share_divisor, int64_t now_ns) {
  DispatchReply reply;
  std::optional<std::pair<uint32_t, uint64_t>> key;
  size_t used = 0;
  Mover& m = MoverOf(mover);

  // Cancels go first whatever their archive id; the first fixes the reply's.
  auto cancel = m.cancels.begin();
  while (cancel != m.cancels.end()) {
    std::pair<uint32_t, uint64_t> cancel_key{cancel->archive_id,
                                             cancel->hal_flags};
    size_t cost = ReplyCost(*cancel);
    if ((key && *key != cancel_key) || used + cost > limits.max_bytes) {
      ++cancel;
      continue;
    }
    key = cancel_key;
    used += cost;
    reply.cancels.push_back(std::move(*cancel));
    cancel = m.cancels.erase(cancel);
    --counters_.pending_cancel;
    ++counters_.done_cancel;
  }

  if (share_divisor == 0) share_divisor = 1;
  // Aging: an archive that waited too long goes first.
  std::array<ItemType, kItemTypeCount> order = {
      ItemType::kRestore, ItemType::kRemove, ItemType::kArchive};
  if (archive_max_wait_ns_ > 0 && now_ns > 0) {
    ItemList* oldest = BestQueue(ItemType::kArchive, mover, archive_ids, key);
    if (oldest &&
        now_ns - oldest->front().wire.timestamp_ns > archive_max_wait_ns_)
      order = {ItemType::kArchive, ItemType::kRestore, ItemType::kRemove};
  }
  for (ItemType type : order) {
    size_t t = Index(type);
    uint64_t share = (counters_.pending[t] + share_divisor - 1) / share_divisor;
    size_t taken = 0;
    while (taken < share && m.running_count[t] < limits.max_running[t]) {
      ItemList* queue = BestQueue(type, mover, archive_ids, key);
      if (!queue) break;
      Item& item = queue->front();
      size_t cost = ReplyCost(item.wire);
      if (used + cost > limits.max_bytes) break;
      used += cost;
      key = std::make_pair(item.wire.archive_id, item.wire.hal_flags);
      Served(item);
      MakeRunning(&item, mover);
      reply.items.push_back(item.wire);
      ++taken;
    }
  }
  if (key) {
    reply.archive_id = key->first;
    reply.hal_flags = key->second;
  }
  return reply;
}

bool Scheduler::HasWorkFor(const ClientId& mover,
                           const std::vector<uint32_t>& archive_ids,
                           const MoverLimits& limits) const {
  auto it = movers_.find(mover);
  if (it != movers_.end() && !it->second.cancels.empty()) return true;
  for (const auto& [queue_key, queue] : queues_) {
    if (queue.empty()) continue;
    auto [owner, type, share, archive_id, flags] = queue_key;
    if (!owner.empty() && owner != mover) continue;
    uint32_t running =
        it == movers_.end() ? 0 : it->second.running_count[Index(type)];
    if (running >= limits.max_running[Index(type)]) continue;
    if (!Accepts(archive_ids, archive_id)) continue;
    if (ReplyCost(queue.front().wire) > limits.max_bytes) continue;
    return true;
  }
  return false;
}

const Item* Scheduler::Find(const ItemId& id) const {
  auto it = items_.find(id);
  return it == items_.end() ? nullptr : it->second.get();
}

uint32_t Scheduler::Running(const ClientId& mover, ItemType type) const {
  auto it = movers_.find(mover);
  return it == movers_.end() ? 0 : it->second.running_count[Index(type)];
}

void Scheduler::ForEachWaiting(
    ItemType type, const std::function<void(const Item&)>& visit) const {
  // Merge the queues of this type by arrival order.
  std::vector<const Item*> items;
  for (const auto& [key, queue] : queues_)
    if (std::get<1>(key) == type)
      for (const Item& item : queue) items.push_back(&item);
  std::sort(items.begin(), items.end(),
            [](const Item* a, const Item* b) { return a->seq < b->seq; });
  for (const Item* item : items) visit(*item);
}

void Scheduler::ForEachRunning(
    const ClientId& mover,
    const std::function<void(const Item&)>& visit) const {
  auto it = movers_.find(mover);
  if (it == movers_.end()) return;
  for (const Item& item : it->second.running) visit(item);
}

}  // namespace server
