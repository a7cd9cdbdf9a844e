// Placement: where a new item waits until a mover takes it, and where an
// item held for a check goes back to (docs/policies.md).
//
// A new archive goes through the host rules (archive_on_hosts, and
// archive_on_hosts_ch, which may rewrite the tag's value in the data); a
// new restore gets its fair-share owner from the file (fair_share_by
// uid/gid/projid), then, with a locality helper configured, waits out of
// every mover's reach (kLocating) until the helper answers: on the medium
// it names when tape order is on (Scheduler::PlaceOnMedium), else on the
// mover it names if that one is connected, else in the global queues.
// Everything else goes to the global queues. New items are written to the store
// as received (the data before any rewrite, plus the mover the rules chose when
// they were applied before the item was stored: kPlacedOnKey).
//
// An item held for a re-dispatch check (server/redispatch.h) waits on
// kChecking; its own affinity (a host rule's mover, a located restore's
// mover) is kept here and given back when it is handed out again.
//
// No sockets, no timers: what it needs of the mover table and of dispatch
// comes through PlacementHooks. The locality helper is the asynchronous
// part: its answer arrives later, on the caller's event loop.
//
// Thread-safety: none; the server's event loop owns it.
#ifndef SERVER_PLACEMENT_H_
#define SERVER_PLACEMENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/settings.h"
#include "policy/file_owner.h"
#include "policy/host_rules.h"
#include "policy/locator.h"
#include "policy/reporter.h"
#include "server/item.h"
#include "server/scheduler.h"
#include "store/store.h"

namespace server {

// The owner of restores whose locality lookup is pending: no mover can
// have this id (ehlo refuses ids with NUL), so they are not dispatched yet.
extern const MoverId kLocating;
// The owner of items held until Lustre confirms they are still live
// (re-dispatch safety): not dispatched meanwhile.
extern const MoverId kChecking;

// In a stored request: the mover host rules chose for it before it was
// stored (a re-announced item the store had lost). Recovery places it there
// as it is, instead of applying the rules a second time.
inline constexpr std::string_view kPlacedOnKey = "placed_on";

// The store key of an item.
std::string KeyOf(const ItemId& id);

// What placement asks of the mover table and of dispatch.
struct PlacementHooks {
  // Whether `id` is a connected mover, one within its grace time, or
  // unknown.
  std::function<policy::MoverPresence(const std::string& id)> presence;
  // The ids of the connected movers, in the mover table's order.
  std::function<std::vector<MoverId>()> connected;
  // A located restore was placed: on `mover` (connected), or "" for the
  // global queues. The server dispatches then.
  std::function<void(const MoverId& mover)> located;
  // True once the server stopped: a late locality answer changes nothing.
  std::function<bool()> stopped;
};

struct PlacementOptions {
  std::string mount{};  // where a restore's file owner is looked up
  std::vector<config::HostAffinityRule> archive_on_hosts{};
  std::vector<config::ConsistentHashRule> archive_on_hosts_ch{};
  // fair_share_by uid, gid or projid: the owner kind looked up for every
  // restore. Nullopt: by tag, or no fair share (the Scheduler's business).
  std::optional<policy::OwnerKind> owner_kind{};
  // The locality helper; null: restores are not located.
  std::unique_ptr<policy::Locator> locator{};
  policy::Reporter* reporter = nullptr;    // report files; may be null
  uint64_t seed = std::random_device{}();  // host rules' random draws
};

// Sets `scheduler`'s fair share from the settings (fair_share_tag,
// fair_share_by, fair_share_weight, user and group names looked up) and
// returns the owner kind placement must look up for each restore.
std::optional<policy::OwnerKind> SetUpFairShare(
    const config::ServerSettings& settings, Scheduler& scheduler);
// Gives `scheduler` the weights of `settings` (a reload), names looked up
// as SetUpFairShare does. REQUIRES: the fair share it set up is the one of
// `settings` (same tag and kind).
void ResetFairShareWeights(const config::ServerSettings& settings,
                           Scheduler& scheduler);

class Placement {
 public:
  // `store` receives new items; the server's store may be replaced once
  // opened (set_store).
  Placement(Scheduler& scheduler, store::Store& store, PlacementOptions options,
            PlacementHooks hooks);
  ~Placement();
  Placement(const Placement&) = delete;
  Placement& operator=(const Placement&) = delete;

  void set_store(store::Store& store) { store_ = &store; }
  bool has_host_rules() const { return !host_rules_.empty(); }
  // New host rules (a reload), for the archives placed from now on: a
  // waiting archive keeps the queue the rules chose for it, and recovery
  // still places a stored item on the mover it names (kPlacedOnKey).
  void SetHostRules(
      std::vector<config::HostAffinityRule> archive_on_hosts,
      std::vector<config::ConsistentHashRule> archive_on_hosts_ch) {
    host_rules_ = policy::HostRules(std::move(archive_on_hosts),
                                    std::move(archive_on_hosts_ch));
  }

  // Places a new item. False (nothing changed) if its identity is known.
  bool Enqueue(const protocol::WireItem& wire);
  // The same, its identity not looked up first (the caller knows it is
  // not held).
  bool EnqueueUnknown(const protocol::WireItem& wire);
  // A new request from Lustre: placed, then stored. False (nothing
  // changed) if its identity is known.
  bool Add(const protocol::WireItem& wire);
  enum class AddOutcome { kAdded, kKnown, kOverQueueCap };
  // Add(), for a request new from Lustre, and a restore of an owner at the
  // Scheduler's cap of queued restores (max_queued_restores_per_owner) is
  // refused: kOverQueueCap, `*owner` names the owner, nothing changed; the
  // caller fails it at Lustre. The owner is looked up once.
  AddOutcome AddNew(const protocol::WireItem& wire, std::string* owner);
  // The same for an item of a `queue` command (Lustre's active_requests
  // after a crash), where a started restore is listed with the volatile
  // file as its dfid: known by its fid then.
  bool AddListed(const protocol::WireItem& wire);
  // A request Lustre sent again after a retryable failure (server/
  // retry_memory.h): on `mover`'s own queue ("" for the global queues),
  // whatever the host rules or the locality helper would choose, then
  // stored. False (nothing changed) if its identity is known.
  bool AddRetried(const protocol::WireItem& wire, const MoverId& mover);
  // Places a recovered item: on `placed_on` as it is when the host rules
  // were applied before it was stored, else as a new item. `unknown`: the
  // caller knows no item of its identity is held (a recovery into an
  // empty scheduler, of requests the store keeps under distinct keys), so
  // it is not looked up first: the scheduler's insert is the only probe.
  void EnqueueRecovered(const protocol::WireItem& wire,
                        const std::string& placed_on, bool unknown = false);
  // The locality helper's answer for `id` (nullopt: no preference).
  void OnLocated(const ItemId& id, policy::Locality answer);

  // Stores a new item as received (no-op for a memory-only store).
  void PutItem(const protocol::WireItem& wire);
  // Stores an item a mover re-announced and the store did not know: its
  // data is as the mover got it, so when the host rules apply to it
  // recovery must place it on `mover` again rather than apply them a second
  // time (anything else is placed again as a new item would be).
  void PutReannounced(const protocol::WireItem& wire, const MoverId& mover);

  // Held items (re-dispatch safety). Hold: parks `item` on kChecking;
  // when it is `newly_held`, keeps its own affinity (unless that is one of
  // the server's) to give back.
  void Hold(const Item& item, bool newly_held);
  // Hands a held item out again: back to its own affinity, except a
  // restore whose mover is gone, which may go anywhere now.
  void GiveBack(const Item& item);
  // The held item's own affinity ("" if none), forgotten.
  MoverId TakeHeldAffinity(const ItemId& id);
  void ForgetHeld(const ItemId& id) { held_affinity_.erase(id); }
  size_t held() const { return held_affinity_.size(); }

 private:
  bool EnqueueArchive(const protocol::WireItem& wire);
  // Whether the host rules choose a mover for `wire` (an archive whose
  // data carries a rule's tag).
  bool RulesApply(const protocol::WireItem& wire) const;
  // `owner`: the file's owner when looked up already.
  bool EnqueueRestore(const protocol::WireItem& wire,
                      const std::string* owner = nullptr);
  // The fair-share owner of a restore's file, "" for the default owner.
  std::string OwnerOf(const protocol::WireItem& wire) const;
  void Locate(const protocol::WireItem& wire);
  void Put(const protocol::WireItem& wire, const std::string& placed_on);

  Scheduler& scheduler_;
  store::Store* store_;
  const std::string mount_;
  policy::HostRules host_rules_;
  const std::optional<policy::OwnerKind> owner_kind_;
  policy::Reporter* const reporter_;
  const PlacementHooks hooks_;
  std::mt19937_64 random_;
  // Held items' own affinity (host rules, locality), given back when
  // handed out.
  std::unordered_map<ItemId, MoverId, ItemIdHash> held_affinity_;
  // Last: destroyed first, dropping its pending callbacks (which use the
  // members above).
  std::unique_ptr<policy::Locator> locator_;

 public:
  // Failed locality lookups since the start (policy::Locator::errors).
  uint64_t locality_errors() const { return locator_ ? locator_->errors() : 0; }
};

}  // namespace server

#endif  // SERVER_PLACEMENT_H_
