// Dashboard: what the web dashboard's /api/dashboard shows
// (docs/monitoring.md): backlogs by type over the last hour, movers and
// what they run, the oldest waiting requests, restore wait percentiles,
// store and lock state. Socket-free: time comes from the caller (the
// injected common::Clock), and what it needs of the server comes as a
// plain view, so that one answer costs O(samples + movers + a few items),
// never O(queued items).
//
// Thread-safety: none; the server's event loop owns it.
#ifndef SERVER_DASHBOARD_H_
#define SERVER_DASHBOARD_H_

#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "server/item.h"

namespace server {

using TypeCounts = std::array<uint64_t, kItemTypeCount>;  // by ItemType

struct BacklogSample {
  int64_t unix_s = 0;
  TypeCounts waiting{};
  TypeCounts running{};
};

// The backlog sampled every kPeriod over the last kSamples periods (an
// hour), in a ring: memory and the cost of an answer stay fixed.
class BacklogHistory {
 public:
  static constexpr std::chrono::seconds kPeriod{10};
  static constexpr size_t kSamples = 360;

  // Takes a sample when one is due at `now` (the first at once, then one a
  // period, counted from the previous due time so that a late tick does
  // not shift the grid). True if it took one.
  bool MaybeSample(common::Clock::TimePoint now, int64_t unix_s,
                   const TypeCounts& waiting, const TypeCounts& running);
  // When the next sample is due (now if none was taken).
  common::Clock::TimePoint next_due() const { return next_due_; }
  // Oldest first.
  std::vector<BacklogSample> Samples() const;
  size_t size() const { return count_; }

 private:
  std::array<BacklogSample, kSamples> ring_{};
  size_t head_ = 0;  // where the next sample goes
  size_t count_ = 0;
  bool started_ = false;
  common::Clock::TimePoint next_due_{};
};

// The waits before dispatch of the most recent restores (wait = dispatch
// time - the item's arrival timestamp), in a ring of kCapacity.
class RestoreWaits {
 public:
  static constexpr size_t kCapacity = 1000;

  void Record(std::chrono::nanoseconds wait);
  struct Percentiles {
    size_t count = 0;  // restores the figures are over
    double p50_s = 0, p90_s = 0, p99_s = 0;
  };
  // Nearest-rank percentiles of the recorded waits (O(kCapacity)).
  Percentiles Compute() const;

 private:
  std::vector<int64_t> waits_ns_;  // up to kCapacity
  size_t next_ = 0;                // oldest, once full
};

struct DashboardMover {
  std::string id;
  std::string state;  // "ready", "waiting", "disconnected"...
  bool draining = false;
  TypeCounts running{};
  TypeCounts done{};
};

struct DashboardWaiting {
  std::string fid;  // [0x...:0x...:0x...]
  int64_t age_s = 0;
  uint32_t archive_id = 0;
};

struct DashboardView {
  std::string version;
  int64_t unix_s = 0;
  int locked = 0;  // 0 unlocked, 1 locked, 2 lock and quit
  std::string store;
  bool store_writable = true;
  TypeCounts waiting{}, running{}, done{};
  std::vector<DashboardMover> movers;
  std::array<std::vector<DashboardWaiting>, kItemTypeCount> oldest;
};

// How many of the oldest waiting requests of each type the dashboard shows.
inline constexpr size_t kDashboardOldest = 5;

// The /api/dashboard JSON (its fields in docs/monitoring.md).
boost::json::object DashboardJson(const DashboardView& view,
                                  const BacklogHistory& history,
                                  const RestoreWaits& waits);

}  // namespace server

#endif  // SERVER_DASHBOARD_H_
