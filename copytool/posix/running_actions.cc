#include "copytool/posix/running_actions.h"

#include <algorithm>

namespace ct {

RunningActions::FidKey RunningActions::Key(const ItemBytes& item) {
  const lu_fid fid = Item(item).hai_fid;
  return {fid.f_seq, fid.f_oid, fid.f_ver};
}

bool RunningActions::Admit(const ItemBytes& item) {
  const uint64_t cookie = Item(item).hai_cookie;
  common::MutexLock lock(&mu_);
  auto [it, inserted] = in_hand_.try_emplace(Key(item));
  InHand& slot = it->second;
  if (inserted) {
    slot.cookie = cookie;
    return true;
  }
  if (slot.cookie == cookie) {
    slot.resend = item;
    return false;
  }
  auto same = std::find_if(
      slot.waiting.begin(), slot.waiting.end(),
      [&](const ItemBytes& w) { return Item(w).hai_cookie == cookie; });
  if (same == slot.waiting.end()) slot.waiting.push_back(item);
  return false;
}

RunningActions::ItemBytes RunningActions::Finish(const ItemBytes& item,
                                                 bool end_accepted) {
  common::MutexLock lock(&mu_);
  auto it = in_hand_.find(Key(item));
  if (it == in_hand_.end()) return nullptr;
  InHand& slot = it->second;
  ItemBytes next;
  if (slot.resend != nullptr && !end_accepted) {
    next = std::move(slot.resend);
  } else if (!slot.waiting.empty()) {
    next = std::move(slot.waiting.front());
    slot.waiting.pop_front();
  }
  slot.resend = nullptr;
  if (next == nullptr) {
    in_hand_.erase(it);
  } else {
    slot.cookie = Item(next).hai_cookie;
  }
  return next;
}

RunningActions::Entry::Entry(RunningActions* owner, uint64_t cookie)
    : owner_(owner), cookie_(cookie) {
  common::MutexLock lock(&owner_->mu_);
  owner_->running_[cookie_] = &report_now_;
}

RunningActions::Entry::~Entry() {
  common::MutexLock lock(&owner_->mu_);
  owner_->running_.erase(cookie_);
}

bool RunningActions::Poke(uint64_t cookie) {
  common::MutexLock lock(&mu_);
  auto it = running_.find(cookie);
  if (it == running_.end()) return false;
  it->second->store(true);
  return true;
}

}  // namespace ct
