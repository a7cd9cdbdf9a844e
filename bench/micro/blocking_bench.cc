// blocking_bench: how long interactive (blocking) restores wait before a
// dispatch sends them, behind a large backlog (issue: with 1,000,000
// archives and 100,000 bulk restores queued, p50/p99 of that wait).
//
// The Scheduler holds 1e6 archives and 1e5 bulk restores (kept at those
// counts: what is sent is replaced), and 16 movers take turns. Time is
// injected and simulated: a round is one Dispatch() per mover and lasts
// kRoundNs; an item runs kRunRounds rounds and is then done. Mover limits:
// 4 restores, 16 archives. Every round kBlockingPerRound blocking restores
// (HSM_REQ_BLOCKING) arrive; each one's wait is the simulated time from its
// arrival to the round whose dispatch sent it. `share` is
// restore_blocking_share (0: off, restores in arrival order, the blocking
// ones behind the bulk backlog).
//
// Counters: p50_ms, p99_ms, max_ms (simulated wait of the blocking restores
// sent), sent and unsent (still waiting at the end), bulk_per_round (bulk
// restores still moving), and per_call: the real time of one Dispatch().
//
// Not a test: nothing is asserted.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <unordered_map>
#include <vector>

#include "bench/micro/bench_item.h"
#include "server/scheduler.h"

namespace {

using server::ItemId;
using server::ItemType;
using server::Scheduler;
using Clock = std::chrono::steady_clock;

constexpr size_t kMovers = 16;
constexpr size_t kArchives = 1'000'000;
constexpr size_t kBulkRestores = 100'000;
constexpr int64_t kRounds = 2000;
constexpr int kRunRounds = 3;
constexpr int kBlockingPerRound = 4;
constexpr int64_t kRoundNs = 100'000'000;  // 100 ms: a restore runs 300 ms
constexpr int64_t kStartNs = 1'700'000'000'000'000'000;

#if COORDINATOOL_HAVE_HSM_REQ_BLOCKING
constexpr uint64_t kBlocking = HSM_REQ_BLOCKING;
#else
constexpr uint64_t kBlocking = 0;  // inert: the figures then show no gain
#endif

class Backlog {
 public:
  explicit Backlog(uint32_t share) {
    scheduler.SetRestoreBlockingShare(share);
    for (size_t m = 0; m < kMovers; ++m) {
      char id[16];
      std::snprintf(id, sizeof id, "mover%02zu", m);
      movers_[m] = id;
    }
    limits_.max_running = {4, 2, 16};
    for (size_t i = 0; i < kArchives; ++i) Add(HSMA_ARCHIVE, 0);
    for (size_t i = 0; i < kBulkRestores; ++i) Add(HSMA_RESTORE, 0);
  }

  // One round; returns the real seconds spent in Dispatch().
  double Round(std::vector<double>* waits_ms, uint64_t* bulk_sent) {
    for (int i = 0; i < kBlockingPerRound; ++i) {
      const uint64_t n = Add(HSMA_RESTORE, kBlocking);
      blocking_[n] = now_ns_;
    }
    double elapsed = 0;
    std::vector<protocol::WireItem> sent;
    for (size_t m = 0; m < kMovers; ++m) {
      const auto start = Clock::now();
      server::DispatchReply reply =
          scheduler.Dispatch(movers_[m], {}, limits_, 1, now_ns_);
      elapsed += std::chrono::duration<double>(Clock::now() - start).count();
      for (const server::Item* item : reply.items)
        sent.push_back(item->ToWire());
    }
    auto& finishing = running_[round_ % kRunRounds];
    for (const ItemId& id : finishing) scheduler.Done(id);
    finishing.clear();
    for (const auto& wire : sent) {
      finishing.push_back(ItemId::Of(wire.item.hai));
      const uint32_t action = wire.item.hai.hai_action;
      auto b = blocking_.find(wire.item.hai.hai_cookie);
      if (b != blocking_.end()) {
        waits_ms->push_back(static_cast<double>(now_ns_ - b->second) / 1e6);
        blocking_.erase(b);
        continue;
      }
      if (action == HSMA_RESTORE) ++*bulk_sent;
      Add(action, 0);  // the backlog stays as large
    }
    ++round_;
    now_ns_ += kRoundNs;
    return elapsed;
  }

  size_t unsent() const { return blocking_.size(); }

  Scheduler scheduler;

 private:
  uint64_t Add(uint32_t action, uint64_t flags) {
    protocol::WireItem wire;
    wire.timestamp_ns = now_ns_;
    wire.archive_id = 1;
    wire.hal_flags = flags;
    const uint64_t n = next_++;
    bench::SetActionItem(n, action, &wire);
    scheduler.Enqueue(wire);
    return n;
  }

  std::array<server::MoverId, kMovers> movers_;
  server::MoverLimits limits_;
  std::array<std::vector<ItemId>, kRunRounds> running_;
  std::unordered_map<uint64_t, int64_t> blocking_;  // cookie -> arrival
  uint64_t next_ = 1;
  uint64_t round_ = 0;
  int64_t now_ns_ = kStartNs;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(
      v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return v[k];
}

void BM_BlockingWait(benchmark::State& state) {
  Backlog backlog(static_cast<uint32_t>(state.range(0)));
  std::vector<double> waits_ms;
  uint64_t bulk_sent = 0;
  for (auto _ : state)
    state.SetIterationTime(backlog.Round(&waits_ms, &bulk_sent));
  state.counters["p50_ms"] = Percentile(waits_ms, 0.50);
  state.counters["p99_ms"] = Percentile(waits_ms, 0.99);
  state.counters["max_ms"] =
      waits_ms.empty() ? 0
                       : *std::max_element(waits_ms.begin(), waits_ms.end());
  state.counters["sent"] = static_cast<double>(waits_ms.size());
  state.counters["unsent"] = static_cast<double>(backlog.unsent());
  state.counters["bulk_per_round"] =
      static_cast<double>(bulk_sent) / static_cast<double>(state.iterations());
  state.counters["per_call"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kMovers,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_BlockingWait)
    ->Name("blocking_wait")
    ->ArgName("share")
    ->Arg(90)
    ->Arg(0)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(kRounds);

}  // namespace

BENCHMARK_MAIN();
