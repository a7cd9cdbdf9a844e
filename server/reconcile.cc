#include "server/reconcile.h"

#include <fmt/format.h>
#include <sys/random.h>

#include <charconv>
#include <random>

#include "protocol/upcall.h"
#include "server/scheduler.h"

namespace server {

std::string NewInstanceId() {
  uint64_t value = 0;
  // getrandom() of 8 bytes does not fail once the pool is ready; should it
  // (an old kernel), random_device is the fallback.
  if (getrandom(&value, sizeof value, 0) != sizeof value) {
    std::random_device device;
    value = (uint64_t{device()} << 32) ^ device();
  }
  return fmt::format("{:016x}", value);
}

ListedIds ListedIdsOf(const std::vector<protocol::ListEntry>& entries,
                      bool* whole) {
  ListedIds listed;
  *whole = true;
  listed.reserve(entries.size());
  for (const protocol::ListEntry& entry : entries) {
    if (!entry.ok()) {
      *whole = false;
      continue;
    }
    const hsm_action_item& hai = entry.item.item.hai;
    listed.insert(protocol::ItemId::Of(hai));
    if (hai.hai_action == HSMA_RESTORE)
      listed.insert(protocol::ItemId{hai.hai_cookie, hai.hai_fid});
  }
  return listed;
}

Reconcile::Reconcile(std::string instance, size_t remembered)
    : instance_(std::move(instance)),
      remembered_(std::max<size_t>(1, remembered)) {}

Reconcile::Pass Reconcile::Begin(const std::optional<std::string>& token,
                                 bool list_whole) const {
  Pass pass;
  if (!token) {
    pass.add_only_reason = "no token: add only";
    return pass;
  }
  // "<instance>-<pass number>".
  const std::string_view text = *token;
  const size_t dash = text.rfind('-');
  if (dash == std::string_view::npos || text.substr(0, dash) != instance_) {
    pass.add_only_reason = "a token of another server instance";
    return pass;
  }
  uint64_t number = 0;
  const std::string_view digits = text.substr(dash + 1);
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    pass.add_only_reason = "a malformed token";
    return pass;
  }
  for (const auto& [n, mark] : marks_) {
    if (n != number) continue;
    if (!list_whole) {
      pass.add_only_reason = "entries of the list could not be read";
      return pass;
    }
    pass.mark = mark;
    return pass;
  }
  pass.add_only_reason = "a token of a pass this server no longer knows";
  return pass;
}

Fate Reconcile::Judge(Pass& pass, const HeldItem& item, bool listed) const {
  if (listed) return Fate::kKeep;
  if (item.running) {
    pass.gone_running.insert(item.id);
    return reported_.contains(item.id) ? Fate::kRunningGoneQuiet
                                       : Fate::kRunningGone;
  }
  // Arrived after the answer the token names: the list may have been read
  // before Lustre sent it.
  if (!pass.mark || item.seq >= *pass.mark) return Fate::kKeep;
  return Fate::kDrop;
}

Reconcile::Verdict Reconcile::Decide(Pass& pass, const Scheduler& scheduler,
                                     const ListedIds& listed) const {
  Verdict verdict;
  scheduler.ForEachItem([&](const Item& item) {
    // Upcalled requests (docs/upcall.md) are never in Lustre's list: the
    // server holds the only copy of them.
    if (protocol::IsUpcalledCookie(item.id().cookie)) return;
    switch (Judge(pass, {item.id(), item.seq, item.running()},
                  listed.contains(item.id()))) {
      case Fate::kKeep:
        break;
      case Fate::kDrop:
        verdict.drop.push_back(item.id());
        break;
      case Fate::kRunningGone:
        verdict.report.push_back(item.id());
        ++verdict.running_gone;
        break;
      case Fate::kRunningGoneQuiet:
        ++verdict.running_gone;
        break;
    }
  });
  return verdict;
}

std::string Reconcile::End(Pass& pass, uint64_t next_seq) {
  reported_ = std::move(pass.gone_running);
  pass.gone_running.clear();
  const uint64_t number = ++passes_;
  marks_.emplace_back(number, next_seq);
  while (marks_.size() > remembered_) marks_.pop_front();
  return fmt::format("{}-{}", instance_, number);
}

}  // namespace server
