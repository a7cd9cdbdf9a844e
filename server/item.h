// Item: one HSM request (archive, restore or remove of one file) as the
// server holds it from the moment Lustre (or a `queue` command) hands it over
// until its mover reports it done.
//
// Identity is (cookie, dfid) as in the original: cookies are unique only per
// MDT.
#ifndef SERVER_ITEM_H_
#define SERVER_ITEM_H_

#include <boost/intrusive/list.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// A million of these are held at once, so the hsm data is kept at the
// item's end rather than in a string of its own (a heap block each: 80
// bytes for 64 bytes of data, and a 32-byte string header): an Item is
// created by the Scheduler only, in a block of BytesFor(data size) bytes
// (server/slab.h, SizedSlab), and is neither copied nor moved. The fields
// are ordered so that no padding is left (152 bytes and the data on
// x86-64, static_assert in item.cc), and the identity is read from the
// hsm data rather than stored twice. The edges (replies, the store, the
// log) get a protocol::WireItem from ToWire().
struct Item {
  // The item of `wire`, with its data copied after the item.
  // REQUIRES: the block holds BytesFor(wire.item.data.size()) bytes.
  Item(const protocol::WireItem& wire, ItemType item_type);
  Item(const Item&) = delete;
  Item& operator=(const Item&) = delete;

  // The bytes an item with `data_size` bytes of hsm data takes.
  static constexpr size_t BytesFor(size_t data_size) {
    return sizeof(Item) + data_size;
  }

  QueueHook hook;    // in a waiting queue, its owner's list, or behind_fid_
  uint64_t seq = 0;  // arrival order; FIFO across queues
  // Unix ns. Parked: when it was set aside. Running: when a dispatch sent it
  // (its run time is measured from there; 0 when unknown: claimed from a
  // mover's re-announce or from the store). One field for both, as an item
  // is never parked and running at once: no byte more per item.
  int64_t since = 0;
  uint64_t hal_flags = 0;    // of the list it came in
  int64_t timestamp_ns = 0;  // when the server first saw it; 0 = unset
  int32_t slot = -1;         // running: the batch slot it was sent from, or -1
  MoverName owner;           // mover running it; empty while queued
  MoverName affinity;        // the only mover that may run it; empty: any
  // Restores: the fair-share owner. Archives with batching on: the batch
  // hint (the whole data). Empty: the default owner, or not batched.
  // Interned as mover names are (a 4-byte handle, not a 32-byte string in
  // each of a million items): there are few owners and hints.
  MoverName group;
  uint32_t archive_id = 0;  // hal_archive_id of the list it came in
  uint32_t data_size = 0;   // bytes of hsm data after the item
  ItemType type = ItemType::kArchive;
  // The flags in one byte (bit fields), to leave room for store_handle.
  // Waiting, but set aside: larger than the buffer of a mover that reached
  // it (Scheduler, "oversized"); in no queue then.
  bool parked : 1 = false;
  // Waiting behind an earlier request of the same hai_fid (Scheduler, one
  // action per file at a time): in no queue, in the Scheduler's list of
  // such items, until that request ends.
  bool behind_fid : 1 = false;
  // An older item of the same hai_fid is chained to this one (Scheduler,
  // older_of_fid_): rare, so kept apart rather than a pointer in each item.
  bool has_older_of_fid : 1 = false;
  // Its place in its bucket of the Scheduler's arrival index (by_seq_),
  // which holds at most Scheduler::kSeqBucket items.
  uint16_t seq_pos = 0;
  // What the store gave for it (store::Handle, store/store.h): given back
  // with each change of it, so that the embedded store finds its records
  // without keeping its key. Not the Scheduler's: mutable, the server sets
  // it on the item the Scheduler's Find() gives.
  mutable uint32_t store_handle = ~uint32_t{0};
  // Last, and the data right after it (hsm_action_item ends with a
  // flexible array member). Packed in the Lustre headers: aligned here so
  // that its 64-bit fields read at their natural place.
  alignas(8) hsm_action_item hai{};

  // The hsm data (hai_data), kept right after the item.
  std::string_view data() const {
    return {reinterpret_cast<const char*>(this) + sizeof(Item), data_size};
  }
  // The item as movers, the store and the CLI exchange it.
  protocol::WireItem ToWire() const;
  // The identity: the cookie and dfid of the hsm data.
  ItemId id() const { return ItemId::Of(hai); }
  bool running() const { return !owner.empty(); }
};

using ItemList = boost::intrusive::list<
    Item, boost::intrusive::member_hook<Item, QueueHook, &Item::hook>,
    boost::intrusive::constant_time_size<false>>;

}  // namespace server

#endif  // SERVER_ITEM_H_
