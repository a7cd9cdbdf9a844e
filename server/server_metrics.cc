#include "server/server_metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace server {

namespace {

using metrics::Exposition;
using metrics::Label;
using Type = Exposition::Type;

constexpr const char* kSourceNames[kRequestSourceCount] = {"lustre", "queue",
                                                           "reconcile"};
constexpr const char* kKindNames[kConnectionKindCount] = {
    "mover", "admin", "monitor", "anonymous"};
constexpr const char* kResultNames[2] = {"succeeded", "failed"};

constexpr ItemType kTypes[] = {ItemType::kArchive, ItemType::kRestore,
                               ItemType::kRemove};

double NsToSeconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

// Waits before dispatch: a restore is expected within seconds to minutes,
// an archive may wait hours behind a backlog.
const std::array<double, 14> ServerMetrics::kWaitBounds{
    0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 86400};
// Run times: a small file on disk to a large one on tape.
const std::array<double, 12> ServerMetrics::kRunBounds{
    0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400};
// Store syncs: a journal's fdatasync (sub-millisecond to tens of ms) or a
// Redis round trip; seconds mean a struggling disk or server.
const std::array<double, 14> ServerMetrics::kStoreBounds{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,  0.05,    0.1,    0.25,  1,      5,     30};

void AddSchedulerState(const Scheduler& scheduler, MetricsView* view) {
  view->counters = scheduler.counters();
  view->waiting_by_archive = scheduler.pending_by_archive();
  for (ItemType type : kTypes)
    view->oldest_waiting_ns[static_cast<size_t>(type)] =
        scheduler.OldestArrival(type);
  scheduler.ForEachMoverRunning([&](const MoverId& id, const auto& running) {
    view->movers[id].running = running;
  });
}

ServerMetrics::ServerMetrics(const common::Clock& clock, std::string version)
    : clock_(clock),
      version_(std::move(version)),
      wait_(kItemTypeCount, metrics::Histogram(kWaitBounds)),
      run_(kItemTypeCount, metrics::Histogram(kRunBounds)),
      store_write_(kStoreBounds) {}

void ServerMetrics::Received(ItemType type, RequestSource source,
                             uint32_t archive_id) {
  ++received_[Index(type)][static_cast<size_t>(source)];
  if (archive_ids_.size() < kMaxRememberedArchiveIds)
    archive_ids_.insert(archive_id);
}

void ServerMetrics::Sent(ItemType type, int64_t arrival_ns) {
  Sent(type, arrival_ns, clock_.UnixNanos());
}

void ServerMetrics::Sent(ItemType type, int64_t arrival_ns, int64_t now) {
  // A clock stepped back, or a timestamp given by a `queue` client from
  // another host ahead of ours: no negative wait.
  wait_[Index(type)].Observe(
      NsToSeconds(std::max<int64_t>(0, now - arrival_ns)));
}

void ServerMetrics::Completed(ItemType type, const MoverId& mover, int status,
                              int64_t sent_ns) {
  Completed(type, mover, status, sent_ns, clock_.UnixNanos());
}

void ServerMetrics::Completed(ItemType type, const MoverId& mover, int status,
                              int64_t sent_ns, int64_t now_ns) {
  const size_t result = status == 0 ? 0 : 1;
  ++completed_[Index(type)][result];
  ++mover_completed_[mover][Index(type)][result];
  if (sent_ns > 0)
    run_[Index(type)].Observe(
        NsToSeconds(std::max<int64_t>(0, now_ns - sent_ns)));
}

void ServerMetrics::FailedByServer(ItemType type) {
  ++completed_[Index(type)][1];
}

void ServerMetrics::Cancelled(ItemType type) { ++cancelled_[Index(type)]; }

void ServerMetrics::Dropped(ItemType type) { ++dropped_[Index(type)]; }

void ServerMetrics::StoreWrite(double seconds) {
  store_write_.Observe(std::max(0.0, seconds));
}

std::string ServerMetrics::Render(const MetricsView& view) {
  Exposition out;
  const int64_t now = clock_.UnixNanos();

  out.Family("coordinatool_build_info", Type::kGauge,
             "Always 1; the version of the running server as a label.");
  out.Sample("coordinatool_build_info", {{"version", version_}}, 1);

  out.Family("coordinatool_requests_waiting", Type::kGauge,
             "Requests waiting to be sent to a mover, by type and archive id.");
  std::set<uint32_t> archive_ids = archive_ids_;
  for (const auto& [id, counts] : view.waiting_by_archive)
    archive_ids.insert(id);
  for (ItemType type : kTypes) {
    for (uint32_t id : archive_ids) {
      auto it = view.waiting_by_archive.find(id);
      const uint64_t n =
          it == view.waiting_by_archive.end() ? 0 : it->second[Index(type)];
      const std::string archive_id = std::to_string(id);
      out.Sample("coordinatool_requests_waiting",
                 {{"type", TypeName(type)}, {"archive_id", archive_id}},
                 static_cast<double>(n));
    }
  }

  out.Family("coordinatool_requests_oversized", Type::kGauge,
             "Waiting requests set aside as larger than the buffer of every "
             "mover that reached them (counted in requests_waiting too).");
  out.Sample("coordinatool_requests_oversized", {},
             static_cast<double>(view.counters.oversized));

  out.Family("coordinatool_requests_held_same_fid", Type::kGauge,
             "Requests waiting for an earlier request of the same file to "
             "end (one action per file at a time; not in requests_waiting).");
  for (ItemType type : kTypes)
    out.Sample("coordinatool_requests_held_same_fid",
               {{"type", TypeName(type)}},
               static_cast<double>(view.counters.held_same_fid[Index(type)]));
  out.Family("coordinatool_restores_blocking_sent_total", Type::kCounter,
             "Restores sent first as blocking ones (HSM_REQ_BLOCKING).");
  out.Sample("coordinatool_restores_blocking_sent_total", {},
             static_cast<double>(view.counters.blocking_restores_sent));

  out.Family("coordinatool_requests_running", Type::kGauge,
             "Requests sent to a mover and not reported done yet, by type "
             "and mover.");
  for (const auto& [id, mover] : view.movers)
    for (ItemType type : kTypes)
      out.Sample("coordinatool_requests_running",
                 {{"type", TypeName(type)}, {"mover", id}},
                 mover.running[Index(type)]);

  out.Family("coordinatool_requests_completed_total", Type::kCounter,
             "Requests ended, by type and result: a mover's done (status 0: "
             "succeeded), or failed at Lustre by the server.");
  for (ItemType type : kTypes)
    for (size_t r = 0; r < 2; ++r)
      out.Sample("coordinatool_requests_completed_total",
                 {{"type", TypeName(type)}, {"result", kResultNames[r]}},
                 static_cast<double>(completed_[Index(type)][r]));

  out.Family("coordinatool_requests_received_total", Type::kCounter,
             "New requests taken, by type and source (lustre: read from the "
             "Lustre channel; queue, reconcile: those commands).");
  for (ItemType type : kTypes)
    for (size_t s = 0; s < kRequestSourceCount; ++s)
      out.Sample("coordinatool_requests_received_total",
                 {{"type", TypeName(type)}, {"source", kSourceNames[s]}},
                 static_cast<double>(received_[Index(type)][s]));

  out.Family("coordinatool_requests_cancelled_total", Type::kCounter,
             "Waiting requests cancelled by Lustre before they were sent.");
  for (ItemType type : kTypes)
    out.Sample("coordinatool_requests_cancelled_total",
               {{"type", TypeName(type)}},
               static_cast<double>(cancelled_[Index(type)]));

  out.Family("coordinatool_requests_dropped_total", Type::kCounter,
             "Requests forgotten without running: Lustre no longer had them.");
  for (ItemType type : kTypes)
    out.Sample("coordinatool_requests_dropped_total",
               {{"type", TypeName(type)}},
               static_cast<double>(dropped_[Index(type)]));

  out.Family("coordinatool_oldest_waiting_age_seconds", Type::kGauge,
             "Age of the oldest waiting request, by type (0: none waits).");
  for (ItemType type : kTypes) {
    const auto& oldest = view.oldest_waiting_ns[Index(type)];
    const double age =
        oldest ? NsToSeconds(std::max<int64_t>(0, now - *oldest)) : 0.0;
    out.Sample("coordinatool_oldest_waiting_age_seconds",
               {{"type", TypeName(type)}}, age);
  }

  out.Family("coordinatool_dispatch_wait_seconds", Type::kHistogram,
             "Time from a request's arrival to its sending to a mover.");
  for (ItemType type : kTypes)
    out.Write("coordinatool_dispatch_wait_seconds", {{"type", TypeName(type)}},
              wait_[Index(type)]);

  out.Family("coordinatool_run_seconds", Type::kHistogram,
             "Time from a request's sending to its mover's done.");
  for (ItemType type : kTypes)
    out.Write("coordinatool_run_seconds", {{"type", TypeName(type)}},
              run_[Index(type)]);

  out.Family("coordinatool_mover_connected", Type::kGauge,
             "1 for a mover connected now, 0 for one within its grace time.");
  for (const auto& [id, mover] : view.movers)
    if (mover.known)
      out.Sample("coordinatool_mover_connected", {{"mover", id}},
                 mover.connected ? 1 : 0);

  out.Family("coordinatool_mover_draining", Type::kGauge,
             "1 for a mover told to drain: it gets no new requests.");
  for (const auto& [id, mover] : view.movers)
    if (mover.known)
      out.Sample("coordinatool_mover_draining", {{"mover", id}},
                 mover.draining ? 1 : 0);

  // Movers of the view only: forget the others' counts.
  std::unordered_map<MoverId, ByResult> kept;
  out.Family("coordinatool_mover_completed_total", Type::kCounter,
             "Requests a mover reported done, by mover, type and result.");
  for (const auto& [id, mover] : view.movers) {
    auto it = mover_completed_.find(id);
    const ByResult counts =
        it == mover_completed_.end() ? ByResult{} : it->second;
    for (ItemType type : kTypes)
      for (size_t r = 0; r < 2; ++r)
        out.Sample("coordinatool_mover_completed_total",
                   {{"mover", id},
                    {"type", TypeName(type)},
                    {"result", kResultNames[r]}},
                   static_cast<double>(counts[Index(type)][r]));
    if (it != mover_completed_.end()) kept.emplace(id, counts);
  }
  mover_completed_ = std::move(kept);

  out.Family("coordinatool_store_writable", Type::kGauge,
             "1 while the store can persist changes; 0: new requests wait in "
             "Lustre.");
  out.Sample("coordinatool_store_writable", {}, view.store_writable ? 1 : 0);

  if (view.ha) {
    out.Family("coordinatool_ha_leader", Type::kGauge,
               "1 while this server holds the lease and leads; 0: standby.");
    out.Sample("coordinatool_ha_leader", {}, view.ha->role == "leader" ? 1 : 0);
    out.Family("coordinatool_ha_epoch", Type::kGauge,
               "The epoch of this server's lease (0: it never led).");
    out.Sample("coordinatool_ha_epoch", {},
               static_cast<double>(view.ha->epoch));
    out.Family("coordinatool_ha_lease_remaining_seconds", Type::kGauge,
               "What is left of the leader's lease by its own clock.");
    out.Sample("coordinatool_ha_lease_remaining_seconds", {},
               static_cast<double>(view.ha->lease_remaining_ms) / 1000.0);
    out.Family("coordinatool_ha_last_takeover_timestamp_seconds", Type::kGauge,
               "When this server last took the lease (Unix time; 0: never).");
    out.Sample("coordinatool_ha_last_takeover_timestamp_seconds", {},
               static_cast<double>(view.ha->last_takeover_unix_ns) / 1e9);
    out.Family("coordinatool_ha_last_takeover_seconds", Type::kGauge,
               "How long its last takeover took: loading the state and "
               "registering with Lustre.");
    out.Sample("coordinatool_ha_last_takeover_seconds", {},
               static_cast<double>(view.ha->last_takeover_ms) / 1000.0);
  }

  out.Family("coordinatool_store_write_seconds", Type::kHistogram,
             "Time from a store sync after changes to its completion (what a "
             "reply waits for).");
  out.Write("coordinatool_store_write_seconds", {}, store_write_);

  out.Family("coordinatool_dispatch_locked", Type::kGauge,
             "Lock state: 0 unlocked, 1 locked (nothing sent), 2 locked and "
             "quitting once nothing runs.");
  out.Sample("coordinatool_dispatch_locked", {}, view.lock);

  out.Family("coordinatool_report_errors_total", Type::kCounter,
             "Report file lines that could not be written.");
  out.Sample("coordinatool_report_errors_total", {},
             static_cast<double>(view.report_errors));

  out.Family("coordinatool_locality_errors_total", Type::kCounter,
             "Restore locality lookups that failed (helper down, timeout, "
             "overload, bad answer): no preference used.");
  out.Sample("coordinatool_locality_errors_total", {},
             static_cast<double>(view.locality_errors));

  out.Family("coordinatool_connections", Type::kGauge,
             "Open connections on the main port, by kind.");
  for (size_t k = 0; k < kConnectionKindCount; ++k)
    out.Sample("coordinatool_connections", {{"kind", kKindNames[k]}},
               static_cast<double>(view.connections[k]));

  if (view.process) metrics::WriteProcessMetrics(*view.process, out);
  return out.Take();
}

}  // namespace server
