// metrics_bench: the cost of one Prometheus scrape with N requests queued.
//
// A scrape runs on the server's event loop: it builds a view of the server
// (AddSchedulerState: the Scheduler's counts, the waiting counts by archive
// id, the oldest waiting head of each type, the running counts by mover)
// and renders the text (ServerMetrics::Render, with the process figures
// read from /proc). The loop serves nothing else meanwhile, so the time of
// one scrape is the stall it causes.
//
// Queues: N waiting requests (restores, removes, archives, 4 archive ids)
// and 100 movers running 10 items each. Policies (second argument):
//   0 plain FIFO queues
//   1 fair share of restores between 1,000 users, and archive batching with
//     a distinct hint per archive (the worst case: one queue per archive)
//
//   view      AddSchedulerState alone
//   scrape    the view and the whole text, process figures included
//
// Reported: time per scrape and the text's size. Not a test: nothing is
// asserted.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <string>

#include "bench/micro/bench_item.h"
#include "common/clock.h"
#include "metrics/process.h"
#include "server/scheduler.h"
#include "server/server_metrics.h"

namespace {

using server::Scheduler;
using namespace std::chrono_literals;

constexpr int kMovers = 100;
constexpr int kRunningPerMover = 10;
constexpr uint32_t kArchiveIds = 4;
constexpr int kUsers = 1000;

protocol::WireItem MakeItem(uint64_t n, bool policies) {
  static constexpr uint32_t kActions[] = {HSMA_ARCHIVE, HSMA_RESTORE,
                                          HSMA_ARCHIVE, HSMA_REMOVE};
  const uint32_t action = kActions[n % 4];
  protocol::WireItem wire;
  wire.archive_id = 1 + static_cast<uint32_t>((n / 4) % kArchiveIds);
  wire.timestamp_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(n);
  if (policies && action == HSMA_RESTORE)
    wire.item.data = "user=u" + std::to_string(n % kUsers);
  else if (policies && action == HSMA_ARCHIVE)
    wire.item.data = "tape=T" + std::to_string(n);
  else
    wire.item.data = std::string(64, 'd');
  bench::SetActionItem(n, action, &wire);
  return wire;
}

std::unique_ptr<Scheduler> Loaded(size_t size, bool policies) {
  auto s = std::make_unique<Scheduler>();
  if (policies) {
    s->SetFairShare({.tag = "user=", .weights = {}, .by_caller = false});
    s->SetBatching({10s, 0s, 1});
  }
  uint64_t n = 0;
  for (size_t i = 0; i < size; ++i) s->Enqueue(MakeItem(n++, policies));
  // Running items: claimed, as a mover re-announcing its work.
  for (int m = 0; m < kMovers; ++m)
    for (int i = 0; i < kRunningPerMover; ++i)
      s->Claim("mover" + std::to_string(m), MakeItem(n++, policies));
  return s;
}

void BM_View(benchmark::State& state) {
  auto s = Loaded(static_cast<size_t>(state.range(0)), state.range(1) != 0);
  for (auto _ : state) {
    server::MetricsView view;
    server::AddSchedulerState(*s, &view);
    benchmark::DoNotOptimize(view);
  }
  state.counters["queued"] =
      static_cast<double>(s->counters().pending[0] + s->counters().pending[1] +
                          s->counters().pending[2]);
}

void BM_Scrape(benchmark::State& state) {
  auto s = Loaded(static_cast<size_t>(state.range(0)), state.range(1) != 0);
  common::SteadyClock clock;
  server::ServerMetrics metrics(clock, "bench");
  size_t bytes = 0;
  for (auto _ : state) {
    server::MetricsView view;
    server::AddSchedulerState(*s, &view);
    for (auto& [id, mover] : view.movers) mover.known = mover.connected = true;
    view.process = metrics::ReadProcessStats();
    std::string text = metrics.Render(view);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["text_bytes"] = static_cast<double>(bytes);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"", "policies"});
  for (int policies : {0, 1})
    for (int64_t n : {1'000, 1'000'000}) b->Args({n, policies});
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_View)->Apply(Sizes);
BENCHMARK(BM_Scrape)->Apply(Sizes);

}  // namespace

BENCHMARK_MAIN();
