// Item: one HSM request (archive, restore or remove of one file) as the
// server holds it from the moment Lustre (or a `queue` command) hands it over
// until its mover reports it done.
//
// Identity is (cookie, dfid) as in the original: cookies are unique only per
// MDT.
#ifndef SERVER_ITEM_H_
#define SERVER_ITEM_H_

#include <boost/intrusive/list.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "hsm/fid.h"
#include "protocol/action_item.h"
#include "protocol/item_id.h"
#include "server/mover_name.h"

namespace server {

// In dispatch order: restores first, then removes, then archives.
enum class ItemType : uint8_t { kRestore = 0, kRemove = 1, kArchive = 2 };
inline constexpr int kItemTypeCount = 3;
inline constexpr ItemType kDispatchOrder[] = {
    ItemType::kRestore, ItemType::kRemove, ItemType::kArchive};

// ARCHIVE, RESTORE and REMOVE have a type; CANCEL and others do not.
std::optional<ItemType> TypeOfAction(uint32_t hsma_action);
const char* TypeName(ItemType type);  // "restore", "remove", "archive"

// The identity types live in protocol/item_id.h (the preload library and
// the client use them without the server).
using protocol::ItemId;
using protocol::ItemIdHash;

// The id a mover gives in ehlo (the peer address "host:port" of an
// anonymous client): how the server and the store name a mover. MoverName
// (server/mover_name.h) is the same id interned for queued items.
using MoverId = std::string;

using QueueHook = boost::intrusive::list_member_hook<
    boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

// A million of these are held at once: the fields are ordered so that no
// padding is left between them (208 bytes on x86-64), and the identity is
// read from the hsm data rather than stored twice.
struct Item {
  QueueHook hook;    // in a waiting queue, its owner's list, or behind_fid_
  QueueHook by_seq;  // in the Scheduler's arrival index
  Item* same_fid = nullptr;  // the next item of the same hai_fid, if any
  uint64_t seq = 0;          // arrival order; FIFO across queues
  // Unix ns. Parked: when it was set aside. Running: when a dispatch sent it
  // (its run time is measured from there; 0 when unknown: claimed from a
  // mover's re-announce or from the store). One field for both, as an item
  // is never parked and running at once: no byte more per item.
  int64_t since = 0;
  int32_t slot = -1;   // running: the batch slot it was sent from, or -1
  MoverName owner;     // mover running it; empty while queued
  MoverName affinity;  // the only mover that may run it; empty: any
  // Restores: the fair-share owner. Archives with batching on: the batch
  // hint (the whole data). Empty: the default owner, or not batched.
  // Interned as mover names are (a 4-byte handle, not a 32-byte string in
  // each of a million items): there are few owners and hints.
  MoverName group;
  ItemType type = ItemType::kArchive;
  // Waiting, but set aside: larger than the buffer of a mover that reached
  // it (Scheduler, "oversized"); in no queue then.
  bool parked = false;
  // Waiting behind an earlier request of the same hai_fid (Scheduler, one
  // action per file at a time): in no queue, in the Scheduler's list of
  // such items, until that request ends.
  bool behind_fid = false;
  // Last: WireItem ends with a flexible array member.
  protocol::WireItem wire;

  // The identity: the cookie and dfid of the hsm data.
  ItemId id() const { return ItemId::Of(wire.item.hai); }
  bool running() const { return !owner.empty(); }
};

using ItemList = boost::intrusive::list<
    Item, boost::intrusive::member_hook<Item, QueueHook, &Item::hook>,
    boost::intrusive::constant_time_size<false>>;
// Items in arrival order (Scheduler's arrival index, `list`).
using SeqList = boost::intrusive::list<
    Item, boost::intrusive::member_hook<Item, QueueHook, &Item::by_seq>,
    boost::intrusive::constant_time_size<false>>;

}  // namespace server

#endif  // SERVER_ITEM_H_
