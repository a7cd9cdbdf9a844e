// ServerMetrics: what the server exports to Prometheus (docs/monitoring.md).
//
// Two halves. Counters and histograms that only events can give (requests
// received by source, completed by result, the wait before dispatch and the
// run time, store write latency, per-mover completions) are kept here as
// the events happen, each a few array increments. Gauges that the server's
// own structures already keep exactly (waiting and running by type, by
// archive id and by mover, the oldest waiting head, connections, store and
// lock state) are read at scrape time from a MetricsView that the server
// fills in O(movers + connections + archive ids + queue heads), never
// O(queued items). Render() writes the text exposition format.
//
// Socket-free; time comes from the injected clock (Unix ns, as item
// timestamps). Thread-safety: none; the server's event loop owns it.
#ifndef SERVER_SERVER_METRICS_H_
#define SERVER_SERVER_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "metrics/exposition.h"
#include "metrics/process.h"
#include "server/ha_status.h"
#include "server/item.h"
#include "server/scheduler.h"

namespace server {

// Where a new request came from.
enum class RequestSource : uint8_t { kLustre = 0, kQueue = 1, kReconcile = 2 };
inline constexpr int kRequestSourceCount = 3;

// Who a connection is (coordinatool_connections{kind}).
enum class ConnectionKind : uint8_t {
  kMover = 0,      // introduced with a mover id
  kAdmin = 1,      // authenticated with the admin role
  kMonitor = 2,    // authenticated with the monitor role (and not admin)
  kAnonymous = 3,  // anything else: no auth file, no credentials, no ehlo yet
};
inline constexpr int kConnectionKindCount = 4;

// The server's state at a scrape.
struct MetricsView {
  SchedulerCounters counters;
  std::map<uint32_t, std::array<uint64_t, kItemTypeCount>> waiting_by_archive;
  // Arrival time (Unix ns) of the oldest waiting head, by type.
  std::array<std::optional<int64_t>, kItemTypeCount> oldest_waiting_ns;
  struct Mover {
    bool known = false;  // in the mover table (connected or within grace)
    bool connected = false;
    bool draining = false;
    std::array<uint32_t, kItemTypeCount> running{};
  };
  std::map<MoverId, Mover> movers;
  std::array<uint64_t, kConnectionKindCount> connections{};
  bool store_writable = true;
  int lock = 0;  // 0 unlocked, 1 locked, 2 lock and quit
  uint64_t report_errors = 0;
  uint64_t locality_errors = 0;
  std::optional<metrics::ProcessStats> process;
  // High availability; nullopt: off (no coordinatool_ha_* families).
  std::optional<HaStatusView> ha;
};

// Fills the Scheduler's part of `view`: its counters, the waiting counts by
// archive id, the oldest waiting heads and the running counts of every mover
// it knows. Its cost grows with the archive ids, the queues without a group
// and the movers, not with the queued items.
void AddSchedulerState(const Scheduler& scheduler, MetricsView* view);

class ServerMetrics {
 public:
  // Histogram bucket bounds, in seconds.
  static const std::array<double, 14> kWaitBounds;
  static const std::array<double, 12> kRunBounds;
  static const std::array<double, 14> kStoreBounds;
  // Archive ids seen in received requests, remembered to report their
  // waiting count as 0 once drained; beyond this many, only those with
  // items waiting are reported.
  static constexpr size_t kMaxRememberedArchiveIds = 64;

  ServerMetrics(const common::Clock& clock, std::string version);

  // A new request (placed in the queues).
  void Received(ItemType type, RequestSource source, uint32_t archive_id);
  // An item was handed to a mover: its wait since it arrived (`arrival_ns`,
  // WireItem::timestamp_ns, Unix ns) is observed.
  void Sent(ItemType type, int64_t arrival_ns);
  // The same, `now_ns` the time read once for a whole list sent.
  void Sent(ItemType type, int64_t arrival_ns, int64_t now_ns);
  // A mover reported an item done with `status` (0: succeeded). `sent_ns`
  // (Item::since): when it was sent, 0 if unknown (no run time observed).
  void Completed(ItemType type, const MoverId& mover, int status,
                 int64_t sent_ns);
  // The same, `now_ns` the time read once for a whole batch of dones.
  void Completed(ItemType type, const MoverId& mover, int status,
                 int64_t sent_ns, int64_t now_ns);
  // The server failed an item at Lustre itself (no mover ran it to its end:
  // too large for every mover, or retries exhausted): completed, failed.
  void FailedByServer(ItemType type);
  // A waiting item cancelled by Lustre; an item forgotten without running
  // (Lustre no longer has it).
  void Cancelled(ItemType type);
  void Dropped(ItemType type);
  // A store Sync() took `seconds` from the call to its callback.
  void StoreWrite(double seconds);

  // The text exposition of everything. Per-mover counters of movers absent
  // from `view` are forgotten (a mover gone for good, or an anonymous
  // one's address: the series would otherwise grow forever).
  std::string Render(const MetricsView& view);

  // For tests.
  uint64_t completed(ItemType type, bool succeeded) const {
    return completed_[Index(type)][succeeded ? 0 : 1];
  }
  const metrics::Histogram& wait(ItemType type) const {
    return wait_[Index(type)];
  }
  const metrics::Histogram& run(ItemType type) const {
    return run_[Index(type)];
  }

 private:
  static size_t Index(ItemType type) { return static_cast<size_t>(type); }
  // Completions by type, then result: [0] succeeded, [1] failed.
  using ByResult = std::array<std::array<uint64_t, 2>, kItemTypeCount>;

  const common::Clock& clock_;
  const std::string version_;
  std::array<std::array<uint64_t, kRequestSourceCount>, kItemTypeCount>
      received_{};
  ByResult completed_{};
  std::array<uint64_t, kItemTypeCount> cancelled_{};
  std::array<uint64_t, kItemTypeCount> dropped_{};
  std::vector<metrics::Histogram> wait_;  // by type
  std::vector<metrics::Histogram> run_;   // by type
  metrics::Histogram store_write_;
  std::unordered_map<MoverId, ByResult> mover_completed_;
  std::set<uint32_t> archive_ids_;  // see kMaxRememberedArchiveIds
};

}  // namespace server

#endif  // SERVER_SERVER_METRICS_H_
