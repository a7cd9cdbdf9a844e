#include "server/placement.h"

#include <grp.h>
#include <pwd.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <climits>

#include "hsm/hal.h"
#include "protocol/wire_text.h"
#include "server/request_log.h"

namespace server {

const MoverId kLocating("\0locating", 9);
const MoverId kChecking("\0checking", 9);

std::string KeyOf(const ItemId& id) {
  return store::RequestKey(id.cookie, id.dfid);
}

namespace {

// fair_share_weight names users or groups; the lookup gives numeric ids.
std::map<std::string, uint32_t> WeightsById(
    const std::map<std::string, uint32_t>& weights, policy::OwnerKind kind) {
  std::map<std::string, uint32_t> by_id;
  for (const auto& [name, weight] : weights) {
    std::string id = name;
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      if (kind == policy::OwnerKind::kUid) {
        if (const passwd* pw = getpwnam(name.c_str()))
          id = std::to_string(pw->pw_uid);
      } else if (kind == policy::OwnerKind::kGid) {
        if (const group* gr = getgrnam(name.c_str()))
          id = std::to_string(gr->gr_gid);
      }
      if (id == name)
        spdlog::warn("fair_share_weight {}: no such {}, weight unused", name,
                     kind == policy::OwnerKind::kGid ? "group" : "user");
    }
    by_id[id] = weight;
  }
  return by_id;
}

}  // namespace

std::optional<policy::OwnerKind> SetUpFairShare(const config::ServerSettings& s,
                                                Scheduler& scheduler) {
  using config::FairShareBy;
  if (s.fair_share_tag.empty() && s.fair_share_by == FairShareBy::kTag)
    return {};
  FairShareOptions fair;
  fair.tag = s.fair_share_tag;
  fair.weights = s.fair_share_weights;
  std::optional<policy::OwnerKind> kind;
  if (s.fair_share_by != FairShareBy::kTag) {
    fair.by_caller = true;
    kind = s.fair_share_by == FairShareBy::kUid   ? policy::OwnerKind::kUid
           : s.fair_share_by == FairShareBy::kGid ? policy::OwnerKind::kGid
                                                  : policy::OwnerKind::kProjid;
    fair.weights = WeightsById(s.fair_share_weights, *kind);
  }
  scheduler.SetFairShare(std::move(fair));
  return kind;
}

void ResetFairShareWeights(const config::ServerSettings& s,
                           Scheduler& scheduler) {
  using config::FairShareBy;
  if (s.fair_share_by == FairShareBy::kTag) {
    scheduler.SetFairShareWeights(s.fair_share_weights);
    return;
  }
  policy::OwnerKind kind =
      s.fair_share_by == FairShareBy::kUid   ? policy::OwnerKind::kUid
      : s.fair_share_by == FairShareBy::kGid ? policy::OwnerKind::kGid
                                             : policy::OwnerKind::kProjid;
  scheduler.SetFairShareWeights(WeightsById(s.fair_share_weights, kind));
}

Placement::Placement(Scheduler& scheduler, store::Store& store,
                     PlacementOptions options, PlacementHooks hooks)
    : scheduler_(scheduler),
      store_(&store),
      mount_(std::move(options.mount)),
      host_rules_(std::move(options.archive_on_hosts),
                  std::move(options.archive_on_hosts_ch)),
      owner_kind_(options.owner_kind),
      reporter_(options.reporter),
      hooks_(std::move(hooks)),
      random_(options.seed),
      locator_(std::move(options.locator)) {}

Placement::~Placement() = default;

bool Placement::Enqueue(const protocol::WireItem& wire) {
  if (scheduler_.Find(ItemId::Of(wire.item.hai))) return false;
  return EnqueueUnknown(wire);
}

bool Placement::EnqueueUnknown(const protocol::WireItem& wire) {
  if (reporter_) reporter_->New(wire.item.data, wire.item.hai.hai_dfid);
  if (wire.item.hai.hai_action == HSMA_RESTORE) return EnqueueRestore(wire);
  if (wire.item.hai.hai_action == HSMA_ARCHIVE) return EnqueueArchive(wire);
  return scheduler_.Enqueue(wire);
}

bool Placement::Add(const protocol::WireItem& wire) {
  if (!Enqueue(wire)) return false;
  PutItem(wire);
  return true;
}

Placement::AddOutcome Placement::AddNew(const protocol::WireItem& wire,
                                        std::string* owner) {
  const hsm_action_item& hai = wire.item.hai;
  if (hai.hai_action != HSMA_RESTORE || scheduler_.restore_queue_cap() == 0)
    return Add(wire) ? AddOutcome::kAdded : AddOutcome::kKnown;
  if (scheduler_.Find(ItemId::Of(hai))) return AddOutcome::kKnown;
  const std::string file_owner = OwnerOf(wire);
  const std::string counted = scheduler_.RestoreOwnerOf(wire, file_owner);
  if (scheduler_.OwnerQueueFull(counted)) {
    *owner = counted;
    return AddOutcome::kOverQueueCap;
  }
  if (reporter_) reporter_->New(wire.item.data, hai.hai_dfid);
  if (!EnqueueRestore(wire, &file_owner)) return AddOutcome::kKnown;
  PutItem(wire);
  return AddOutcome::kAdded;
}

bool Placement::AddRetried(const protocol::WireItem& wire,
                           const MoverId& mover) {
  if (scheduler_.Find(ItemId::Of(wire.item.hai))) return false;
  if (reporter_) reporter_->New(wire.item.data, wire.item.hai.hai_dfid);
  const std::string owner =
      wire.item.hai.hai_action == HSMA_RESTORE ? OwnerOf(wire) : "";
  if (!scheduler_.Enqueue(wire, mover, owner)) return false;
  PutItem(wire);
  return true;
}

bool Placement::AddListed(const protocol::WireItem& wire) {
  // The server knows a restore by the dfid it was handed, the file's own.
  const hsm_action_item& hai = wire.item.hai;
  if (hai.hai_action == HSMA_RESTORE &&
      scheduler_.Find({hai.hai_cookie, hai.hai_fid}))
    return false;
  return Add(wire);
}

void Placement::EnqueueRecovered(const protocol::WireItem& wire,
                                 const std::string& placed_on, bool unknown) {
  if (!unknown && scheduler_.Find(ItemId::Of(wire.item.hai))) return;
  if (placed_on.empty())
    EnqueueUnknown(wire);
  else
    scheduler_.Enqueue(wire, placed_on);
}

bool Placement::EnqueueArchive(const protocol::WireItem& wire) {
  if (host_rules_.empty()) return scheduler_.Enqueue(wire);
  auto random = [this](size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(random_);
  };
  auto choice = host_rules_.Choose(wire.item.data, hooks_.presence, random);
  if (!choice) return scheduler_.Enqueue(wire);
  // The store keeps the data as received: a recovered item is placed again
  // from it and folds to the same value (the original folds again each time;
  // docs/policies.md).
  protocol::WireItem placed = wire;
  if (choice->rewritten_data) {
    placed.item.data = *choice->rewritten_data;
    placed.item.hai.hai_len =
        static_cast<uint32_t>(hsm::kHaiFixedSize + placed.item.data.size());
  }
  if (reporter_)
    reporter_->Assign(placed.item.data, placed.item.hai.hai_dfid, choice->host);
  return scheduler_.Enqueue(placed, choice->host);
}

std::string Placement::OwnerOf(const protocol::WireItem& wire) const {
  if (!owner_kind_) return "";
  std::string error;
  auto found =
      policy::FileOwner(mount_, wire.item.hai.hai_dfid, *owner_kind_, &error);
  if (found) return *found;
  spdlog::warn("fair share: {}: counted for the default owner", error);
  return "";
}

bool Placement::EnqueueRestore(const protocol::WireItem& wire,
                               const std::string* looked_up) {
  std::string owner = looked_up ? *looked_up : OwnerOf(wire);
  if (!locator_) return scheduler_.Enqueue(wire, "", owner);
  // Parked until the helper answers (or its timeout): not dispatched yet.
  if (!scheduler_.Enqueue(wire, kLocating, owner)) return false;
  Locate(wire);
  return true;
}

void Placement::Locate(const protocol::WireItem& wire) {
  policy::LocateRequest request;
  request.fid = hsm::FormatFid(wire.item.hai.hai_dfid);
  request.archive_id = wire.archive_id;
  const std::string& data = wire.item.data;
  request.data = data.substr(0, data.find('\0'));
  request.movers = hooks_.connected();
  // The least busy with restores, the first such in the table's order.
  uint32_t least = UINT32_MAX;
  for (const MoverId& id : request.movers) {
    uint32_t running = scheduler_.Running(id, ItemType::kRestore);
    if (running < least) {
      least = running;
      request.suggested = id;
    }
  }
  ItemId id = ItemId::Of(wire.item.hai);
  locator_->Locate(request, [this, id](policy::Locality answer) {
    OnLocated(id, std::move(answer));
  });
}

void Placement::OnLocated(const ItemId& id, policy::Locality answer) {
  if (hooks_.stopped()) return;
  const Item* item = scheduler_.Find(id);
  if (!item || item->running() || item->affinity != kLocating) return;
  // On a medium: the tape stage sends it, with the others of that medium,
  // to the mover holding it (the mover answered is not used then). Without
  // tape order, the medium is ignored.
  if (!answer.medium.empty() &&
      scheduler_.PlaceOnMedium(id, answer.medium, answer.position)) {
    if (RequestEventsLogged())
      if (const Item* placed = scheduler_.Find(id))
        LogRequestEvent(
            RequestEvent::kPlaced, placed->hai, "{}",
            PlacedDetails(*placed,
                          fmt::format("locality helper: medium {} position {}",
                                      answer.medium, answer.position)));
    hooks_.located("");
    return;
  }
  const std::optional<std::string>& mover = answer.mover;
  const bool there =
      mover && hooks_.presence(*mover) == policy::MoverPresence::kConnected;
  if (mover && !there)
    spdlog::info("{}: locality prefers {}, not connected or drained: any mover",
                 hsm::FormatFid(id.dfid), *mover);
  const MoverId target = there ? *mover : MoverId();
  scheduler_.Reassign(id, target);
  if (RequestEventsLogged())
    if (const Item* placed = scheduler_.Find(id))
      LogRequestEvent(
          RequestEvent::kPlaced, placed->hai, "{}",
          PlacedDetails(*placed, !mover  ? "locality helper: no answer"
                                 : there ? "locality helper"
                                         : "locality helper: its mover "
                                           "is not connected or drained"));
  if (there && reporter_) reporter_->Assign(item->data(), id.dfid, target);
  hooks_.located(target);
}

void Placement::PutItem(const protocol::WireItem& wire) { Put(wire, ""); }

void Placement::PutReannounced(const protocol::WireItem& wire,
                               const MoverId& mover) {
  Put(wire, RulesApply(wire) ? mover : "");
}

bool Placement::RulesApply(const protocol::WireItem& wire) const {
  if (host_rules_.empty() || wire.item.hai.hai_action != HSMA_ARCHIVE)
    return false;
  // Whether a rule chooses a mover for it at all; which one does not
  // matter, so the presence and the draw are placeholders.
  auto unknown = [](const std::string&) {
    return policy::MoverPresence::kUnknown;
  };
  auto first = [](size_t) { return size_t{0}; };
  return host_rules_.Choose(wire.item.data, unknown, first).has_value();
}

void Placement::Put(const protocol::WireItem& wire,
                    const std::string& placed_on) {
  if (!store_->persistent()) return;
  // Straight to text, byte for byte what serialising ItemToJson() with the
  // key added last gives: a DOM built and freed per request was most of
  // the cost of a Put. Written where the store keeps it (the journal's
  // batch), not in a string of its own that the store copies.
  auto write = [&](std::string* out) {
    out->reserve(out->size() + protocol::ItemTextBytes(wire.item.data.size()) +
                 (placed_on.empty() ? 0 : 32 + placed_on.size()));
    protocol::AppendItemText(out, wire);
    if (!placed_on.empty()) {
      out->pop_back();  // the closing brace
      *out += ',';
      protocol::AppendJsonString(out, kPlacedOnKey);
      *out += ':';
      protocol::AppendJsonString(out, placed_on);
      *out += '}';
    }
  };
  // The item keeps its store handle (a Put of an item the store holds
  // gives it back, and gets the same).
  const ItemId id = ItemId::Of(wire.item.hai);
  const Item* item = scheduler_.Find(id);
  const store::Handle handle =
      store_->PutWritten(store::RequestKeyText(id.cookie, id.dfid), write,
                         item ? item->store_handle : store::kNoHandle);
  if (item) item->store_handle = handle;
}

void Placement::Hold(const Item& item, bool newly_held) {
  if (newly_held && item.affinity != kChecking && item.affinity != kLocating)
    held_affinity_[item.id()] = item.affinity.str();
  scheduler_.Reassign(item.id(), kChecking);
}

MoverId Placement::TakeHeldAffinity(const ItemId& id) {
  auto it = held_affinity_.find(id);
  if (it == held_affinity_.end()) return MoverId();
  MoverId affinity = std::move(it->second);
  held_affinity_.erase(it);
  return affinity;
}

void Placement::GiveBack(const Item& item) {
  MoverId back = TakeHeldAffinity(item.id());
  // A restore located on a mover that is gone may go anywhere now (the
  // server unpins those that were waiting when it forgets a mover).
  if (item.type == ItemType::kRestore && !back.empty() && back != kOnMedium &&
      hooks_.presence(back) == policy::MoverPresence::kUnknown)
    back.clear();
  scheduler_.Reassign(item.id(), back);
}

}  // namespace server
