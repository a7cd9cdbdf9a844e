#include "auth/id_holders.h"

#include <algorithm>

namespace auth {

std::string MoverIdHolders::HolderOf(const std::string& id) const {
  auto it = holders_.find(id);
  if (it == holders_.end() || !known_(id)) return "";
  return it->second;
}

void MoverIdHolders::Claim(const std::string& id, const std::string& identity) {
  holders_[id] = identity;
  // Ids the server forgot are dropped now and then, so the map stays about
  // as large as the server's table of movers.
  if (holders_.size() < prune_at_) return;
  std::erase_if(holders_, [&](const auto& entry) {
    return entry.first != id && !known_(entry.first);
  });
  prune_at_ = std::max<size_t>(64, 2 * holders_.size());
}

}  // namespace auth
