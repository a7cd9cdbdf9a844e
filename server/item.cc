#include "server/item.h"

#include <linux/lustre/lustre_user.h>

#include <cstring>

namespace server {

std::optional<ItemType> TypeOfAction(uint32_t hsma_action) {
  switch (hsma_action) {
    case HSMA_RESTORE:
      return ItemType::kRestore;
    case HSMA_REMOVE:
      return ItemType::kRemove;
    case HSMA_ARCHIVE:
      return ItemType::kArchive;
    default:
      return std::nullopt;
  }
}

static_assert(offsetof(Item, hai) % 8 == 0);
// As item.h says: a change of layout is a change of the memory budget.
static_assert(sizeof(void*) != 8 || sizeof(Item) == 152);
static_assert(sizeof(Item) == offsetof(Item, hai) + sizeof(hsm_action_item),
              "the data follows hai with no gap");

Item::Item(const protocol::WireItem& wire, ItemType item_type)
    : hal_flags(wire.hal_flags),
      timestamp_ns(wire.timestamp_ns),
      archive_id(wire.archive_id),
      data_size(static_cast<uint32_t>(wire.item.data.size())),
      type(item_type),
      store_handle(wire.store_handle),
      hai(wire.item.hai) {
  if (data_size)
    std::memcpy(reinterpret_cast<char*>(this) + sizeof(Item),
                wire.item.data.data(), data_size);
}

protocol::WireItem Item::ToWire() const {
  protocol::WireItem wire;
  wire.archive_id = archive_id;
  wire.store_handle = store_handle;
  wire.hal_flags = hal_flags;
  wire.timestamp_ns = timestamp_ns;
  wire.item.data.assign(data());
  wire.item.hai = hai;
  return wire;
}

const char* TypeName(ItemType type) {
  switch (type) {
    case ItemType::kRestore:
      return "restore";
    case ItemType::kRemove:
      return "remove";
    case ItemType::kArchive:
      return "archive";
  }
  return "?";
}

}  // namespace server
