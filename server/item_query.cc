#include "server/item_query.h"

#include "hsm/fid.h"
#include "protocol/byte_string.h"
#include "server/placement.h"

namespace server {

namespace json = boost::json;

namespace {

constexpr double kNsPerSec = 1e9;

double Seconds(int64_t ns) { return static_cast<double>(ns) / kNsPerSec; }

}  // namespace

const char* ItemQuery::StateOf(const Item& item) {
  if (item.running()) return "running";
  if (item.parked) return "oversized";
  if (item.behind_fid) return "after_same_fid";
  if (item.affinity == kLocating) return "locating";
  if (item.affinity == kChecking) return "held";
  return "waiting";
}

json::object ItemQuery::Describe(const Item& item) const {
  const int64_t now = clock_.UnixNanos();
  const hsm_action_item& hai = item.hai;
  json::object o{{"fid", hsm::FormatFid(hai.hai_fid)},
                 {"dfid", hsm::FormatFid(hai.hai_dfid)},
                 {"cookie", static_cast<int64_t>(item.id().cookie)},
                 {"type", TypeName(item.type)},
                 {"archive_id", item.archive_id},
                 {"state", StateOf(item)}};
  if (item.timestamp_ns > 0) o["waited_s"] = Seconds(now - item.timestamp_ns);
  // A request Lustre sent again after retryable failures: its attempt (2
  // for the first retry) and the movers that failed it.
  if (const RetryEntry* retry =
          retries_ ? retries_->Peek(RetryMemory::KeyOf(hai)) : nullptr) {
    o["attempt"] = retry->failures + 1;
    boost::json::array failed_on;
    for (const MoverId& m : retry->failed_on) failed_on.emplace_back(m);
    o["failed_on"] = std::move(failed_on);
    o["last_error"] = retry->last_error;
  }
  if (item.running()) {
    o["mover"] = item.owner.str();
    if (item.since > 0) {
      o["running_since_ns"] = item.since;
      o["running_s"] = Seconds(now - item.since);
      if (item.timestamp_ns > 0)
        o["waited_s"] = Seconds(item.since - item.timestamp_ns);
    }
    if (auto last = movers_.LastActivity(item.id()))
      o["last_progress_s"] =
          std::chrono::duration<double>(clock_.Now() - *last).count();
    if (item.slot >= 0) o["batch_slot"] = item.slot;
    return o;
  }
  // Waiting somewhere: which queue.
  const std::string affinity = item.affinity.str();
  if (item.affinity.empty()) {
    o["queue"] = "global";
  } else if (auto on = scheduler_.MediumOf(item);
             on && item.affinity.str().starts_with(kOnMedium)) {
    o["queue"] = "medium";  // recalls in tape order: its medium's
    protocol::PutBytes(o, "medium", on->first);
    o["medium_position"] = on->second;
    if (auto holder = scheduler_.tape_media()->HolderOf(on->first))
      o["medium_mover"] = *holder;
  } else if (item.affinity != kLocating && item.affinity != kChecking) {
    o["queue"] = affinity;  // a mover's own (host rule, locality)
  }
  if (!item.group.empty()) {
    // Fair-share owner of a restore, batch hint of an archive: bytes.
    protocol::PutBytes(
        o, item.type == ItemType::kArchive ? "batch_hint" : "share_owner",
        item.group.str());
    if (item.type == ItemType::kArchive && scheduler_.batching()) {
      if (auto holder = scheduler_.HolderOf(item.group)) {
        o["batch_mover"] = holder->first;
        o["batch_slot"] = holder->second;
      }
    }
  }
  if (item.parked && item.since > 0)
    o["oversized_s"] = Seconds(now - item.since);
  return o;
}

json::object ItemQuery::Show(const lu_fid& fid) const {
  json::array requests;
  scheduler_.ForEachOfFid(fid, [&](const Item& item) {
    json::object o = Describe(item);
    if (!item.running() && !item.parked && !item.behind_fid) {
      auto ahead = scheduler_.PositionInQueue(item, kPositionBound);
      if (ahead) {
        o["position"] = *ahead;  // items ahead in its queue
        if (auto eta = rate_.SecondsFor(item.type, *ahead + 1))
          o["estimate_s"] = *eta;
      } else {
        o["position_beyond"] = kPositionBound;
      }
      if (item.affinity != kLocating && item.affinity != kChecking)
        o["rate_per_s"] = rate_.PerSecond(item.type);
    }
    requests.push_back(std::move(o));
  });
  const int64_t now = clock_.UnixNanos();
  recent_.ForEachOf(fid, [&](const DoneEntry& e) {
    json::object o{{"fid", hsm::FormatFid(e.fid)},
                   {"dfid", hsm::FormatFid(e.id.dfid)},
                   {"cookie", static_cast<int64_t>(e.id.cookie)},
                   {"type", TypeName(e.type)},
                   {"state", "done"},
                   {"result", e.status == 0 ? "succeeded" : "failed"},
                   {"status", e.status},
                   {"ended_ns", e.end_ns},
                   {"ended_s", Seconds(now - e.end_ns)}};
    if (!e.mover.empty()) o["mover"] = e.mover;
    requests.push_back(std::move(o));
  });
  return {{"fid", hsm::FormatFid(fid)}, {"requests", std::move(requests)}};
}

json::object ItemQuery::List(const protocol::ListRequest& request) const {
  const int64_t now = clock_.UnixNanos();
  const int64_t older_than_ns = request.older_than_s * 1'000'000'000;
  const size_t limit = static_cast<size_t>(request.limit);
  json::array requests;
  size_t examined = 0;
  auto matches = [&](const Item& item) {
    if (!request.type.empty() && request.type != TypeName(item.type))
      return false;
    if (!request.state.empty() && request.state != StateOf(item)) return false;
    if (!request.mover.empty() && item.owner.str() != request.mover &&
        item.affinity.str() != request.mover)
      return false;
    if (older_than_ns > 0 &&
        (item.timestamp_ns <= 0 || now - item.timestamp_ns < older_than_ns))
      return false;
    return true;
  };
  const uint64_t next =
      scheduler_.VisitFrom(request.cursor, kMaxExamined, [&](const Item& item) {
        ++examined;
        if (matches(item)) requests.push_back(Describe(item));
        return requests.size() < limit;
      });
  json::object reply{{"requests", std::move(requests)}, {"examined", examined}};
  if (next != 0) reply["cursor"] = next;
  return reply;
}

}  // namespace server
