// policy_bench: the Scheduler's dispatch and enqueue with every scheduling
// policy on at once, at a steady queue size, next to the same work with no
// policy (issue: cost per dispatch at 1e3..1e6 queued, all policies on).
//
// The queue holds N waiting items, the same items in every run:
//   30 % restores  data "user=uK", 100 users; u0 owns a quarter of them (a
//                  bulk recall), the rest are spread evenly; a fifth of
//                  them blocking (HSM_REQ_BLOCKING: a process waits)
//   10 % removes   no data
//   60 % archives  data "tape=T0042,user=u42": one of 1,000 hints; a tape's
//                  archives share one archive id (of 4); 5 % of archives
//                  carry a timestamp two minutes old (late reports)
// One item in a hundred is for the file of the item 1,000 before it (one
// action per file at a time holds it while that one is there; always on).
// 16 movers take turns. The `policy_*` runs turn on
//   fair share   tag "user=", weights u0:4, u1:2, u2:8 (others 1)
//   aging        archive_max_wait 60 s: the late archives trigger it now
//                and then (`aged_calls`)
//   batching     4 slots per mover, idle 50 us, max 1 ms
//   affinity     10 % of archives pinned to one of the movers
//   blocking     restore_blocking_share 90: blocking restores first
// and the `plain_*` runs none of them; `one_policy_dispatch/N/policy:B`
// turns on one (B = 1 fair share, 2 aging, 4 batching, 8 affinity,
// 16 blocking restores first).
//
// The clock is injected: a counter stepped by 1 us per Dispatch() call, so
// each mover asks every 16 us and batch slices run out as they would. Mover
// limits: 4 restores, 2 removes and 16 archives running (4 per batch slot),
// and a byte budget of 6 archives per reply. Each item is done (untimed) at
// the end of the second round after the one that sent it, so the limits
// bind.
//
//   dispatch  a round is one Dispatch() per mover, timed; then, untimed, the
//             items of two rounds before are done and the queue is refilled
//             to N with fresh items. per_op = seconds per item sent; the
//             other counters show that every policy was exercised.
//   enqueue   kBatch new items queued (timed), then forgotten (untimed).
//
// The queue is filled once per benchmark and size and kept across its
// repetitions (filling 1e6 is the slow part).
// Not a test: nothing is asserted. Run with --benchmark_repetitions=3.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bench/micro/bench_item.h"
#include "server/scheduler.h"

namespace {

using server::ItemId;
using server::ItemType;
using server::Scheduler;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr size_t kMovers = 16;
constexpr uint64_t kUsers = 100;
constexpr uint64_t kHints = 1000;
constexpr uint32_t kArchiveIds = 4;
constexpr size_t kBatch = 1000;  // enqueues per timed batch, at most
// CTest's smoke run (policy_bench_smoke) sets COORDINATOOL_BENCH_SMOKE: a
// tenth of the iterations through the same code, which is all a run that
// only has to finish needs (figures come from full runs, scripts/bench).
const bool kSmoke = std::getenv("COORDINATOOL_BENCH_SMOKE") != nullptr;
const int64_t kBatches = kSmoke ? 20 : 200;   // enqueue iterations
const int64_t kRounds = kSmoke ? 200 : 2000;  // dispatch iterations
constexpr int kWarmupRounds = 200;            // untimed, after the fill
constexpr size_t kDoneLag = 3;  // rounds an item runs, counting its own
constexpr int64_t kStartNs = 1'700'000'000'000'000'000;  // Unix ns
constexpr int64_t kStepNs = 1'000;    // injected clock per Dispatch() call
constexpr int64_t kFillStepNs = 250;  // arrivals during the fill
constexpr std::chrono::nanoseconds kMaxWait = 60s;

// Policies a Workload turns on (a bit mask).
constexpr unsigned kFairShare = 1;
constexpr unsigned kAging = 2;
constexpr unsigned kBatching = 4;
constexpr unsigned kAffinity = 8;
constexpr unsigned kBlocking = 16;
constexpr unsigned kAllPolicies = 31;

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Item number `n` of the mix, arriving at `now_ns`; `pin` gets the index of
// the mover it is pinned to (affinity), or -1.
protocol::WireItem MakeItem(uint64_t n, int64_t now_ns, int* pin) {
  const uint64_t r = SplitMix(n);
  const uint64_t pick = r % 100;
  protocol::WireItem wire;
  wire.timestamp_ns = now_ns;
  wire.archive_id = 1 + static_cast<uint32_t>((r >> 32) % kArchiveIds);
  *pin = -1;
  uint32_t action;
  char data[64] = "";
  if (pick < 30) {
    action = HSMA_RESTORE;
    const uint64_t user = (r >> 8) % 4 == 0 ? 0 : (r >> 16) % kUsers;
    std::snprintf(data, sizeof data, "user=u%llu",
                  static_cast<unsigned long long>(user));
#if COORDINATOOL_HAVE_HSM_REQ_BLOCKING
    if ((r >> 56) % 5 == 0) wire.hal_flags = HSM_REQ_BLOCKING;
#endif
  } else if (pick < 40) {
    action = HSMA_REMOVE;
  } else {
    action = HSMA_ARCHIVE;
    const uint64_t tape = (r >> 16) % kHints;
    std::snprintf(data, sizeof data, "tape=T%04llu,user=u%llu",
                  static_cast<unsigned long long>(tape),
                  static_cast<unsigned long long>(tape % kUsers));
    wire.archive_id = 1 + static_cast<uint32_t>(tape % kArchiveIds);
    if ((r >> 40) % 10 == 0) *pin = static_cast<int>((r >> 48) % kMovers);
    if ((r >> 44) % 20 == 0) wire.timestamp_ns -= 2 * kMaxWait.count();
  }
  wire.item.data = data;
  bench::SetActionItem(n, action, &wire);
  if (n > 1000 && (r >> 36) % 100 == 0) {  // the file of an earlier item
    protocol::WireItem earlier;
    bench::SetActionItem(n - 1000, action, &earlier);
    wire.item.hai.hai_fid = wire.item.hai.hai_dfid = earlier.item.hai.hai_fid;
  }
  return wire;
}

server::MoverLimits Limits() {
  server::MoverLimits limits;
  limits.max_running[static_cast<size_t>(ItemType::kRestore)] = 4;
  limits.max_running[static_cast<size_t>(ItemType::kRemove)] = 2;
  limits.max_running[static_cast<size_t>(ItemType::kArchive)] = 16;
  int pin;
  limits.max_bytes = static_cast<uint32_t>(
      6 * server::ReplyCost(MakeItem(40, kStartNs, &pin)));  // an archive
  return limits;
}

// What the timed rounds sent, to show that every policy was exercised.
struct DispatchStats {
  uint64_t calls = 0;
  uint64_t items = 0;
  uint64_t restores = 0;
  double u0_wait_ns = 0;  // summed over u0's restores
  uint64_t u0_restores = 0;
  double other_wait_ns = 0;  // summed over the other owners' restores
  uint64_t archives = 0;
  uint64_t slotted = 0;     // archives sent from a batch slot
  uint64_t aged_calls = 0;  // archives first although restores could go
  std::unordered_set<std::string> restore_owners;
};

// A Scheduler holding `size` waiting items of the mix, with or without the
// policies, and the movers that take turns on it.
class Workload {
 public:
  Workload(size_t size, unsigned policies) : size_(size), policies_(policies) {
    if (policies & kFairShare)
      scheduler.SetFairShare(
          {.tag = "user=", .weights = {{"u0", 4}, {"u1", 2}, {"u2", 8}}});
    if (policies & kAging) scheduler.SetArchiveMaxWait(kMaxWait);
    if (policies & kBlocking) scheduler.SetRestoreBlockingShare(90);
    if (policies & kBatching)
      scheduler.SetBatching({.idle = 50us, .max = 1ms, .slots = 4});
    for (size_t m = 0; m < kMovers; ++m) {
      char id[16];
      std::snprintf(id, sizeof id, "mover%02zu", m);
      movers_[m] = id;
    }
    // The fill arrived over the past at the steady rate (about one item per
    // kFillStepNs), so that waits are comparable at every size.
    now_ns_ = kStartNs - static_cast<int64_t>(size) * kFillStepNs;
    for (size_t i = 0; i < size; ++i) {
      Refill(1);
      now_ns_ += kFillStepNs;
    }
    for (int i = 0; i < kWarmupRounds; ++i) Round(nullptr);
  }

  size_t size() const { return size_; }
  unsigned policies() const { return policies_; }

  // One Dispatch() per mover. Returns the seconds spent in Dispatch(); the
  // bookkeeping after it (done, refill, `stats`) is not timed.
  double Round(DispatchStats* stats) {
    std::array<server::DispatchReply, kMovers> replies;
    std::array<bool, kMovers> restore_room;
    std::array<bool, kMovers> restores_waiting;
    for (size_t m = 0; m < kMovers; ++m)
      restore_room[m] = running_restores_[m] < kRestoreLimit;
    const auto start = Clock::now();
    for (size_t m = 0; m < kMovers; ++m) {
      restores_waiting[m] = scheduler.counters().pending[0] > 0;
      replies[m] = scheduler.Dispatch(movers_[m], kAllArchives, limits_,
                                      /*share_divisor=*/1, now_ns_);
      now_ns_ += kStepNs;
    }
    const double elapsed =
        std::chrono::duration<double>(Clock::now() - start).count();

    std::vector<Running>& finished = running_[(round_ + 1) % kDoneLag];
    for (const Running& done : finished) {
      scheduler.Done(done.id);
      if (done.type == ItemType::kRestore) --running_restores_[done.mover];
    }
    finished.clear();
    std::vector<Running>& sent = running_[round_ % kDoneLag];
    size_t count = 0;
    for (size_t m = 0; m < kMovers; ++m) {
      const auto& items = replies[m].items;
      for (const server::Item* item : items) {
        const ItemId id = item->id();
        const ItemType type = item->type;
        if (type == ItemType::kRestore) ++running_restores_[m];
        if (stats) Note(*stats, id, type, *item);
        sent.push_back({id, type, m});
      }
      count += items.size();
      if (stats && !items.empty() && restore_room[m] && restores_waiting[m] &&
          items.front()->type == ItemType::kArchive)
        ++stats->aged_calls;
    }
    if (stats) {
      stats->calls += kMovers;
      stats->items += count;
    }
    ++round_;
    Refill(count);
    return elapsed;
  }

  // A new item and the mover it is pinned to ("" for none).
  struct Fresh {
    const server::MoverId* affinity;
    protocol::WireItem wire;  // last: it ends with a flexible array member
  };
  std::vector<Fresh> MakeFresh(size_t count) {
    std::vector<Fresh> items;
    items.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      int pin;
      protocol::WireItem wire = MakeItem(next_++, now_ns_, &pin);
      items.push_back(
          {(policies_ & kAffinity) && pin >= 0 ? &movers_[pin] : &kNoAffinity,
           std::move(wire)});
    }
    return items;
  }

  // Distinct (fair-share owner, archive id) among the waiting restores: the
  // restore queues a dispatch looks at. O(N), untimed.
  size_t RestoreQueues() const {
    std::set<std::pair<std::string, uint32_t>> queues;
    scheduler.ForEachWaiting(ItemType::kRestore, [&](const server::Item& item) {
      queues.emplace(item.group, item.archive_id);
    });
    return queues.size();
  }

  Scheduler scheduler;

 private:
  struct Running {
    ItemId id;
    ItemType type;
    size_t mover;
  };
  static constexpr uint32_t kRestoreLimit = 4;
  inline static const server::MoverId kNoAffinity;
  inline static const std::vector<uint32_t> kAllArchives;

  void Refill(size_t count) {
    for (const auto& fresh : MakeFresh(count))
      scheduler.Enqueue(fresh.wire, *fresh.affinity);
  }

  void Note(DispatchStats& stats, const ItemId& id, ItemType type,
            const server::Item& item) {
    if (type == ItemType::kRestore) {
      ++stats.restores;
      const std::string_view data = item.data();
      const std::string owner(data.substr(data.find('=') + 1));
      const double wait = static_cast<double>(now_ns_ - item.timestamp_ns);
      if (owner == "u0") {
        ++stats.u0_restores;
        stats.u0_wait_ns += wait;
      } else {
        stats.other_wait_ns += wait;
      }
      stats.restore_owners.insert(owner);
    } else if (type == ItemType::kArchive) {
      ++stats.archives;
      const server::Item* item = scheduler.Find(id);
      if (item && item->slot >= 0) ++stats.slotted;
    }
  }

  const size_t size_;
  const unsigned policies_;
  const server::MoverLimits limits_ = Limits();
  std::array<server::MoverId, kMovers> movers_;
  std::array<uint32_t, kMovers> running_restores_{};
  std::array<std::vector<Running>, kDoneLag> running_;
  uint64_t round_ = 0;
  uint64_t next_ = 1;
  int64_t now_ns_ = kStartNs;
};

// The workload of the running benchmark, kept across its repetitions.
Workload& Loaded(const benchmark::State& state, unsigned policies) {
  static std::unique_ptr<Workload> loaded;
  const size_t size = static_cast<size_t>(state.range(0));
  if (!loaded || loaded->size() != size || loaded->policies() != policies) {
    loaded.reset();  // free the old queue before filling the new one
    loaded = std::make_unique<Workload>(size, policies);
  }
  return *loaded;
}

void Dispatch(benchmark::State& state, unsigned policies) {
  Workload& w = Loaded(state, policies);
  DispatchStats stats;
  for (auto _ : state) state.SetIterationTime(w.Round(&stats));
  const auto items = static_cast<double>(stats.items);
  const auto calls = static_cast<double>(stats.calls);
  state.counters["per_op"] = benchmark::Counter(
      items, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["per_call"] = benchmark::Counter(
      calls, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["queued"] = static_cast<double>(state.range(0));
  state.counters["items_per_call"] = items / calls;
  state.counters["restore_share"] = stats.restores / items;
  state.counters["archive_share"] = stats.archives / items;
  state.counters["slot_share"] =
      stats.archives ? static_cast<double>(stats.slotted) / stats.archives : 0;
  // u0 sends a quarter of the restores but weighs 4 of 111: with fair share
  // its restores wait longer than the others' (ratio of mean waits above 1)
  // and, until its backlog dominates, get a smaller share.
  const uint64_t others = stats.restores - stats.u0_restores;
  state.counters["u0_wait_ratio"] =
      stats.u0_restores && others && stats.other_wait_ns > 0
          ? (stats.u0_wait_ns / stats.u0_restores) /
                (stats.other_wait_ns / others)
          : 0;
  state.counters["u0_restore_share"] =
      stats.restores ? static_cast<double>(stats.u0_restores) / stats.restores
                     : 0;
  state.counters["restore_owners"] =
      static_cast<double>(stats.restore_owners.size());
  state.counters["aged_calls"] = stats.aged_calls / calls;
  state.counters["restore_queues"] = static_cast<double>(w.RestoreQueues());
  const auto& held = w.scheduler.counters().held_same_fid;
  state.counters["held_same_fid"] =
      static_cast<double>(held[0] + held[1] + held[2]);
  state.counters["blocking_sent"] =
      static_cast<double>(w.scheduler.counters().blocking_restores_sent);
}

void Enqueue(benchmark::State& state, unsigned policies) {
  Workload& w = Loaded(state, policies);
  const size_t batch = std::max<size_t>(
      1, std::min<size_t>(kBatch, static_cast<size_t>(state.range(0)) / 10));
  for (auto _ : state) {
    auto fresh = w.MakeFresh(batch);
    const auto start = Clock::now();
    for (const auto& item : fresh)
      benchmark::DoNotOptimize(w.scheduler.Enqueue(item.wire, *item.affinity));
    state.SetIterationTime(
        std::chrono::duration<double>(Clock::now() - start).count());
    for (const auto& item : fresh)
      w.scheduler.Done(ItemId::Of(item.wire.item.hai));
  }
  state.counters["per_op"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(batch),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["queued"] = static_cast<double>(state.range(0));
}

void BM_PlainDispatch(benchmark::State& state) { Dispatch(state, 0); }
void BM_PolicyDispatch(benchmark::State& state) {
  Dispatch(state, kAllPolicies);
}
// One policy alone, named by the second argument (a kFairShare... bit).
void BM_OnePolicyDispatch(benchmark::State& state) {
  Dispatch(state, static_cast<unsigned>(state.range(1)));
}
void BM_PlainEnqueue(benchmark::State& state) { Enqueue(state, 0); }
void BM_PolicyEnqueue(benchmark::State& state) { Enqueue(state, kAllPolicies); }

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1'000, 10'000, 100'000, 1'000'000}) b->Arg(n);
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_PlainDispatch)
    ->Name("plain_dispatch")
    ->Apply(Sizes)
    ->Iterations(kRounds);
BENCHMARK(BM_PolicyDispatch)
    ->Name("policy_dispatch")
    ->Apply(Sizes)
    ->Iterations(kRounds);
BENCHMARK(BM_OnePolicyDispatch)
    ->Name("one_policy_dispatch")
    ->ArgNames({"", "policy"})
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (int64_t n : {1'000, 10'000, 100'000, 1'000'000})
        for (int64_t policy :
             {kFairShare, kAging, kBatching, kAffinity, kBlocking})
          b->Args({n, policy});
      b->UseManualTime()->Unit(benchmark::kMicrosecond);
    })
    ->Iterations(kRounds);
BENCHMARK(BM_PlainEnqueue)
    ->Name("plain_enqueue")
    ->Apply(Sizes)
    ->Iterations(kBatches);
BENCHMARK(BM_PolicyEnqueue)
    ->Name("policy_enqueue")
    ->Apply(Sizes)
    ->Iterations(kBatches);

}  // namespace

BENCHMARK_MAIN();
