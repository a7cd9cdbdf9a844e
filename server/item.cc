#include "server/item.h"

#include <linux/lustre/lustre_user.h>

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
