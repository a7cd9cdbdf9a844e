// MoverIdHolders: which identity holds each mover id, so that an id one
// identity uses (connected, or disconnected within its grace time, while
// the server keeps its work) is refused to every other identity: a mover
// can neither take another's id nor the items that come with it. An id the
// server no longer knows (grace over, never seen, or a placeholder from
// recovery, whose holder was not stored) goes to the first identity allowed
// to use it.
//
// Socket-free; whether the server still knows an id comes from the caller.
// Thread-safety: none; the server's loop owns it.
#ifndef AUTH_ID_HOLDERS_H_
#define AUTH_ID_HOLDERS_H_

#include <functional>
#include <string>
#include <unordered_map>

namespace auth {

class MoverIdHolders {
 public:
  // Whether the server still knows mover id `id` (connected or in grace).
  using Known = std::function<bool(const std::string& id)>;
  explicit MoverIdHolders(Known known) : known_(std::move(known)) {}

  // The identity holding `id`, or "" when nobody does.
  std::string HolderOf(const std::string& id) const;
  // Whether `identity` may claim `id`: nobody holds it, or `identity` does.
  bool MayClaim(const std::string& id, const std::string& identity) const {
    std::string holder = HolderOf(id);
    return holder.empty() || holder == identity;
  }
  // `identity` holds `id` from now on.
  void Claim(const std::string& id, const std::string& identity);
  size_t size() const { return holders_.size(); }

 private:
  Known known_;
  std::unordered_map<std::string, std::string> holders_;  // id -> identity
  size_t prune_at_ = 64;
};

}  // namespace auth

#endif  // AUTH_ID_HOLDERS_H_
