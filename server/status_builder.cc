#include "server/status_builder.h"

#include <fmt/format.h>

#include <algorithm>

#include "protocol/byte_string.h"

namespace server {

namespace json = boost::json;

namespace {

json::object QueueEntry(const Item& item) {
  const std::string_view data = item.data();
  json::object entry{{"hai_fid", protocol::FidToJson(item.id().dfid)},
                     {"hai_cookie", static_cast<int64_t>(item.id().cookie)}};
  // Cut at the first NUL as the original; a byte string like any data.
  protocol::PutBytes(entry, "hai_data",
                     std::string_view(data).substr(0, data.find('\0')));
  return entry;
}

// As the server's replies: zero numbers and empty strings are omitted
// (readers take a missing field as zero).
void DropZeros(json::object& o) {
  for (auto it = o.begin(); it != o.end();) {
    const json::value& v = it->value();
    bool zero = (v.is_int64() && v.get_int64() == 0) ||
                (v.is_uint64() && v.get_uint64() == 0) ||
                (v.is_string() && v.get_string().empty());
    it = zero ? o.erase(it) : std::next(it);
  }
}

}  // namespace

StatusBuilder::StatusBuilder(const Scheduler& scheduler,
                             const Redispatch& redispatch,
                             const common::Clock& clock,
                             std::function<bool()> stopped)
    : scheduler_(scheduler),
      redispatch_(redispatch),
      clock_(clock),
      stopped_(std::move(stopped)) {}

std::shared_ptr<StatusStream> StatusBuilder::Build(const StatusView& view,
                                                   int verbose) const {
  // Written in pieces as the client reads (server/status_stream.h): the
  // item lists of a big queue exceed the output cap and would stall the
  // loop if built at once.
  auto stream = std::make_shared<StatusStream>();
  json::object o = Counters(view);
  o["redispatch"] = RedispatchStatus(verbose);
  json::array clients;
  for (const MoverStatusView& mover : view.movers)
    clients.push_back(MoverStatus(mover, verbose, *stream));
  // Anonymous connections are clients too, for the status.
  for (const AnonymousStatusView& a : view.anonymous)
    clients.push_back(AnonymousStatus(a));
  o["clients"] = std::move(clients);
  o["oversized"] = scheduler_.counters().oversized;
  // One action per file: requests waiting for an earlier one of their file.
  const auto& held = scheduler_.counters().held_same_fid;
  o["held_same_fid"] = held[0] + held[1] + held[2];
  // Blocking restores first: the share in force, or why it does nothing.
  if (kBlockingRestoreFlag == 0)
    o["restore_blocking"] = "inert (Lustre headers without HSM_REQ_BLOCKING)";
  else if (scheduler_.restore_blocking_share() == 0)
    o["restore_blocking"] = "off";
  else
    o["restore_blocking"] =
        std::to_string(scheduler_.restore_blocking_share()) + "%";
  o["blocking_restores_sent"] = scheduler_.counters().blocking_restores_sent;
  if (!view.retries.empty()) o["retries"] = view.retries;
  // Per-owner queued cap: the cap in force (0: off) and what it refused.
  o["max_queued_restores_per_owner"] = scheduler_.restore_queue_cap();
  o["restores_over_queue_cap"] = view.restores_over_queue_cap;
  if (verbose >= 6) AddItemLists(o, *stream);
  DropZeros(o);
  o["command"] = "status";  // last, as in every reply
  stream->SetObject(o);
  return stream;
}

double StatusBuilder::AgeSeconds(int64_t since_unix_ns) const {
  return std::max<double>(
      0, static_cast<double>(clock_.UnixNanos() - since_unix_ns) / 1e9);
}

json::object StatusBuilder::Counters(const StatusView& view) const {
  const SchedulerCounters& n = scheduler_.counters();
  json::object o;
  for (ItemType type : kDispatchOrder) {
    int t = static_cast<int>(type);
    o[fmt::format("running_{}", TypeName(type))] = n.running[t];
    o[fmt::format("pending_{}", TypeName(type))] = n.pending[t];
    o[fmt::format("done_{}", TypeName(type))] = n.done[t];  // failed too
    o[fmt::format("failed_{}", TypeName(type))] = n.failed[t];
    // Seconds since the oldest waiting request of the type arrived (from
    // the queue heads); absent when none waits.
    if (auto oldest = scheduler_.OldestArrival(type))
      o[fmt::format("oldest_waiting_{}_s", TypeName(type))] =
          AgeSeconds(*oldest);
  }
  if (const TapeMedia* media = scheduler_.tape_media()) {
    // Recalls in tape order: restores waiting for their medium (in
    // pending_restore too), and the media nobody holds that they wait on.
    o["pending_restore_on_media"] = media->waiting();
    o["waiting_media"] = media->unheld_waiting_media();
    o["waiting_media_blocking"] = media->unheld_blocking_media();
  }
  o["pending_cancel"] = n.pending_cancel;
  o["done_cancel"] = n.done_cancel;
  o["clients_connected"] = view.connections;
  o["locked"] = view.locked;
  o["store"] = view.store;
  o["store_state"] = view.store_writable ? "ok" : "cannot persist";
  if (!view.instance.empty()) o["instance"] = view.instance;
  if (view.ha) {
    o["role"] = view.ha->role;
    o["epoch"] = view.ha->epoch;
    o["lease_remaining_ms"] = view.ha->lease_remaining_ms;
    if (!view.ha->leader.empty()) o["leader"] = view.ha->leader;
    if (view.ha->last_takeover_unix_ns != 0) {
      o["last_takeover_unix_ns"] = view.ha->last_takeover_unix_ns;
      o["last_takeover_ms"] = view.ha->last_takeover_ms;
    }
  }
  return o;
}

void StatusBuilder::AddItemLists(json::object& o, StatusStream& stream) const {
  for (ItemType type : kDispatchOrder) {
    o[fmt::format("waiting_{}", TypeName(type))] =
        stream.AddArray(scheduler_.WaitingIds(type), WaitingEntry());
  }
  // Items set aside for their size, with what they need.
  json::array oversized;
  scheduler_.ForEachOversized([&](const Item& item) {
    json::object entry = QueueEntry(item);
    entry["bytes"] = ReplyCost(item);
    oversized.push_back(std::move(entry));
  });
  o["oversized_items"] = std::move(oversized);
}

json::object StatusBuilder::RedispatchStatus(int verbose) const {
  const RedispatchCounters& n = redispatch_.counters();
  json::object o{{"held", redispatch_.size()},     {"checks", n.checks},
                 {"handed_out", n.handed_out},     {"forgotten", n.forgotten},
                 {"check_errors", n.check_errors}, {"failed", n.failed},
                 {"ended_failed", n.ended_failed}};
  json::array retrying;
  redispatch_.ForEachRetrying([&](const ItemId& id, uint32_t attempts) {
    if (verbose < 6 && retrying.size() >= 100) return;
    retrying.push_back({{"hai_fid", protocol::FidToJson(id.dfid)},
                        {"hai_cookie", static_cast<int64_t>(id.cookie)},
                        {"attempts", attempts}});
  });
  o["retrying"] = std::move(retrying);
  return o;
}

json::object StatusBuilder::MoverStatus(const MoverStatusView& mover,
                                        int verbose,
                                        StatusStream& stream) const {
  const MoverId& id = mover.id;
  json::object o;
  o["client_id"] = id;
  o["kind"] = "mover";
  for (ItemType type : kDispatchOrder) {
    o[fmt::format("current_{}", TypeName(type))] = scheduler_.Running(id, type);
    o[fmt::format("done_{}", TypeName(type))] =
        mover.done[static_cast<int>(type)];
    // Its own queues (host rules, locality): how long their oldest waited.
    if (auto oldest = scheduler_.OldestArrivalIn(id, type))
      o[fmt::format("oldest_waiting_{}_s", TypeName(type))] =
          AgeSeconds(*oldest);
  }
  o["status"] = mover.state;
  if (mover.draining) o["draining"] = true;
  o["batches"] = Batches(id, verbose, stream);
  if (scheduler_.tape_order()) o["media"] = Media(id);
  if (!mover.connected)
    o["disconnected_timestamp"] = mover.disconnected_unix_ns;
  if (verbose >= 6) {
    std::vector<ItemId> running;
    scheduler_.ForEachRunning(
        id, [&](const Item& item) { running.push_back(item.id()); });
    o["active_requests"] =
        stream.AddArray(std::move(running),
                        [this, id](const ItemId& item_id, json::object* entry) {
                          const Item* item = scheduler_.Find(item_id);
                          if (!item || item->owner != id) return false;
                          *entry = QueueEntry(*item);
                          return true;
                        });
  }
  return o;
}

json::array StatusBuilder::Media(const MoverId& id) const {
  constexpr int64_t kSec = 1'000'000'000;
  json::array media;
  for (const HeldMediumView& m : scheduler_.Media(id, clock_.UnixNanos())) {
    json::object medium{{"current_count", m.running},
                        {"waiting_count", m.waiting},
                        {"head_position", m.head},
                        {"expire_idle_s", m.idle_deadline_ns / kSec},
                        {"expire_max_s", m.max_deadline_ns / kSec}};
    protocol::PutBytes(medium, "medium", m.medium);  // the helper's bytes
    media.push_back(std::move(medium));
  }
  return media;
}

json::array StatusBuilder::Batches(const MoverId& id, int verbose,
                                   StatusStream& stream) const {
  json::array batches;
  for (const BatchSlotView& slot : scheduler_.Batches(id, clock_.UnixNanos())) {
    constexpr int64_t kSec = 1'000'000'000;
    json::object batch{{"current_count", slot.running},
                       {"expire_idle_s", slot.idle_deadline_ns / kSec},
                       {"expire_max_s", slot.max_deadline_ns / kSec},
                       {"waiting_count", slot.waiting}};
    protocol::PutBytes(batch, "hint", slot.hint);  // the whole data: bytes
    if (verbose >= 6) {
      std::vector<ItemId> waiting;
      if (!slot.hint.empty())
        scheduler_.ForEachWaitingOfHint(id, slot.hint, [&](const Item& item) {
          waiting.push_back(item.id());
        });
      batch["waiting_archive"] =
          stream.AddArray(std::move(waiting), WaitingEntry());
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

json::object StatusBuilder::AnonymousStatus(
    const AnonymousStatusView& a) const {
  json::object o{{"client_id", a.id}, {"status", a.state}, {"kind", a.kind}};
  for (ItemType type : kDispatchOrder)
    o[fmt::format("current_{}", TypeName(type))] =
        scheduler_.Running(a.id, type);
  return o;
}

StatusStream::Render StatusBuilder::WaitingEntry() const {
  return [this](const ItemId& id, json::object* entry) {
    const Item* item = stopped_() ? nullptr : scheduler_.Find(id);
    if (!item || item->running()) return false;
    *entry = QueueEntry(*item);
    return true;
  };
}

}  // namespace server
