#include "server/dashboard.h"

#include <algorithm>
#include <cmath>

namespace server {

namespace json = boost::json;

bool BacklogHistory::MaybeSample(common::Clock::TimePoint now, int64_t unix_s,
                                 const TypeCounts& waiting,
                                 const TypeCounts& running) {
  if (started_ && now < next_due_) return false;
  if (!started_) {
    started_ = true;
    next_due_ = now;
  }
  ring_[head_] = {unix_s, waiting, running};
  head_ = (head_ + 1) % kSamples;
  count_ = std::min(count_ + 1, kSamples);
  // The next due time on the grid after `now` (a loop stalled for longer
  // than a period skips the samples it missed rather than repeat them).
  while (next_due_ <= now) next_due_ += kPeriod;
  return true;
}

std::vector<BacklogSample> BacklogHistory::Samples() const {
  std::vector<BacklogSample> out;
  out.reserve(count_);
  const size_t first = (head_ + kSamples - count_) % kSamples;
  for (size_t i = 0; i < count_; ++i)
    out.push_back(ring_[(first + i) % kSamples]);
  return out;
}

void RestoreWaits::Record(std::chrono::nanoseconds wait) {
  const int64_t ns = std::max<int64_t>(0, wait.count());
  if (waits_ns_.size() < kCapacity) {
    waits_ns_.push_back(ns);
    return;
  }
  waits_ns_[next_] = ns;
  next_ = (next_ + 1) % kCapacity;
}

RestoreWaits::Percentiles RestoreWaits::Compute() const {
  Percentiles p;
  p.count = waits_ns_.size();
  if (p.count == 0) return p;
  std::vector<int64_t> sorted = waits_ns_;
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank: the smallest value with at least q of the values at or
  // below it.
  auto at = [&](double q) {
    size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
    return static_cast<double>(sorted[std::max<size_t>(rank, 1) - 1]) / 1e9;
  };
  p.p50_s = at(0.50);
  p.p90_s = at(0.90);
  p.p99_s = at(0.99);
  return p;
}

namespace {

json::object ByType(const TypeCounts& counts) {
  json::object o;
  for (ItemType type : kDispatchOrder)
    o[TypeName(type)] = counts[static_cast<size_t>(type)];
  return o;
}

const char* LockName(int locked) {
  switch (locked) {
    case 0:
      return "unlocked";
    case 1:
      return "locked";
    default:
      return "lock and quit";
  }
}

}  // namespace

json::object DashboardJson(const DashboardView& view,
                           const BacklogHistory& history,
                           const RestoreWaits& waits) {
  json::object o;
  o["version"] = view.version;
  o["now"] = view.unix_s;
  o["lock"] = {{"state", view.locked}, {"name", LockName(view.locked)}};
  o["store"] = {{"description", view.store}, {"writable", view.store_writable}};
  json::object totals;
  for (ItemType type : kDispatchOrder) {
    const size_t i = static_cast<size_t>(type);
    totals[TypeName(type)] = {{"waiting", view.waiting[i]},
                              {"running", view.running[i]},
                              {"done", view.done[i]}};
  }
  o["totals"] = std::move(totals);
  // Columns: one array of times, one of counts per type.
  json::array times;
  std::array<json::array, kItemTypeCount> waiting, running;
  for (const BacklogSample& sample : history.Samples()) {
    times.push_back(sample.unix_s);
    for (size_t i = 0; i < kItemTypeCount; ++i) {
      waiting[i].push_back(sample.waiting[i]);
      running[i].push_back(sample.running[i]);
    }
  }
  json::object backlog;
  backlog["period_s"] = BacklogHistory::kPeriod.count();
  backlog["t"] = std::move(times);
  json::object waiting_by_type, running_by_type;
  for (ItemType type : kDispatchOrder) {
    waiting_by_type[TypeName(type)] =
        std::move(waiting[static_cast<size_t>(type)]);
    running_by_type[TypeName(type)] =
        std::move(running[static_cast<size_t>(type)]);
  }
  backlog["waiting"] = std::move(waiting_by_type);
  backlog["running"] = std::move(running_by_type);
  o["backlog"] = std::move(backlog);
  json::array movers;
  for (const DashboardMover& mover : view.movers)
    movers.push_back(json::object{{"id", mover.id},
                                  {"state", mover.state},
                                  {"draining", mover.draining},
                                  {"running", ByType(mover.running)},
                                  {"done", ByType(mover.done)}});
  o["movers"] = std::move(movers);
  json::object oldest;
  for (ItemType type : kDispatchOrder) {
    json::array items;
    for (const DashboardWaiting& item : view.oldest[static_cast<size_t>(type)])
      items.push_back(json::object{{"fid", item.fid},
                                   {"age_s", item.age_s},
                                   {"archive_id", item.archive_id}});
    oldest[TypeName(type)] = std::move(items);
  }
  o["oldest"] = std::move(oldest);
  const RestoreWaits::Percentiles p = waits.Compute();
  o["restore_wait"] = {{"count", p.count},
                       {"p50_s", p.p50_s},
                       {"p90_s", p.p90_s},
                       {"p99_s", p.p99_s}};
  return o;
}

}  // namespace server
