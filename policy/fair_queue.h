// FairQueue: items waiting per owner (a user, group or project), served in
// proportion to the owners' weights by stride scheduling: each owner with
// items has a "pass"; Pop() serves the owner with the lowest pass and moves
// it on by kStride / weight. An owner that comes back after its queue ran
// empty starts at the current pass, so idle time earns no burst: one user's
// bulk recall cannot starve everyone else, and nobody can save up.
//
// Cost: Push and Pop are O(log owners); nothing scans the queue.
//
// Thread-safety: none.
#ifndef POLICY_FAIR_QUEUE_H_
#define POLICY_FAIR_QUEUE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace policy {

template <typename T>
class FairQueue {
 public:
  static constexpr uint64_t kStride = 1u << 20;

  // `weight_of(owner)` >= 1; owners without a configured weight get 1.
  explicit FairQueue(std::function<uint32_t(const std::string&)> weight_of)
      : weight_of_(std::move(weight_of)) {}

  void Push(const std::string& owner, T item) {
    Owner& o = owners_[owner];
    if (o.items.empty()) {
      o.pass = std::max(o.pass, current_pass_);
      o.order = next_order_++;
      active_.insert({o.pass, o.order, owner});
    }
    o.items.push_back(std::move(item));
    ++size_;
  }

  std::optional<T> Pop() {
    if (active_.empty()) return std::nullopt;
    auto [pass, order, name] = *active_.begin();
    active_.erase(active_.begin());
    Owner& o = owners_[name];
    T item = std::move(o.items.front());
    o.items.pop_front();
    --size_;
    current_pass_ = pass;
    uint32_t weight = std::max<uint32_t>(1, weight_of_(name));
    o.pass = pass + kStride / weight;
    if (!o.items.empty()) {
      active_.insert({o.pass, order, name});
    }
    return item;
  }

  // The owner Pop() would serve next, or nullptr.
  const std::string* NextOwner() const {
    return active_.empty() ? nullptr : &std::get<2>(*active_.begin());
  }

  // Removes the first item of `owner` matching `match`; false if none.
  bool Remove(const std::string& owner,
              const std::function<bool(const T&)>& match) {
    auto it = owners_.find(owner);
    if (it == owners_.end()) return false;
    Owner& o = it->second;
    for (auto item = o.items.begin(); item != o.items.end(); ++item) {
      if (!match(*item)) continue;
      o.items.erase(item);
      --size_;
      if (o.items.empty()) active_.erase({o.pass, o.order, owner});
      return true;
    }
    return false;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t Waiting(const std::string& owner) const {
    auto it = owners_.find(owner);
    return it == owners_.end() ? 0 : it->second.items.size();
  }

 private:
  struct Owner {
    std::deque<T> items;
    uint64_t pass = 0;
    uint64_t order = 0;  // ties: the owner queued first goes first
  };

  std::function<uint32_t(const std::string&)> weight_of_;
  std::unordered_map<std::string, Owner> owners_;
  std::set<std::tuple<uint64_t, uint64_t, std::string>> active_;
  uint64_t current_pass_ = 0;
  uint64_t next_order_ = 0;
  size_t size_ = 0;
};

}  // namespace policy

#endif  // POLICY_FAIR_QUEUE_H_
