// scheduler_bench: the Scheduler's operations at a steady queue size.
//
// Each benchmark fills a Scheduler with N waiting ARCHIVE items (64 bytes of
// hsm data, four archive ids, so four queues), then repeats batches of
// kBatch operations. Only the operations are timed (manual time): the
// untimed part of each batch puts the queue back to N items, so every
// operation sees N queued. `per_op` is seconds per operation.
//
//   enqueue   kBatch new items are queued (then forgotten, untimed)
//   dispatch  kBatch Dispatch() calls that each hand one item to a mover
//             whose byte budget fits one item: the dispatch decision
//   burst64   Dispatch() calls that hand 64 items each; per_op is per item
//   done      Done() of kBatch running items (dispatched untimed)
//   cancel    Cancel() of kBatch waiting items picked at random
//   release   Release() of a mover running kBatch items: they go back to the
//             queues at their arrival place (a mover that did not come back)
//
// BM_Memory fills N items and reports heap bytes (mallinfo2) and RSS bytes
// per queued item.
//
// Not a test: nothing is asserted. Run with --benchmark_repetitions=3.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bench/micro/bench_item.h"
#include "server/scheduler.h"

namespace {

using server::ItemId;
using server::Scheduler;
using Clock = std::chrono::steady_clock;

constexpr size_t kBatch = 1000;
constexpr size_t kDataBytes = 64;
constexpr uint32_t kArchiveIds = 4;
constexpr int64_t kBatches = 200;

protocol::WireItem MakeItem(uint64_t n, uint32_t action = HSMA_ARCHIVE) {
  protocol::WireItem wire;
  wire.archive_id = 1 + static_cast<uint32_t>(n % kArchiveIds);
  wire.timestamp_ns = static_cast<int64_t>(n);
  wire.item.data = std::string(kDataBytes, 'd');
  bench::SetActionItem(n, action, &wire);
  return wire;
}

// Limits that let one Dispatch() hand out exactly `items` items.
server::MoverLimits LimitsFor(size_t items) {
  server::MoverLimits limits;
  limits.max_bytes =
      static_cast<uint32_t>(items * server::ReplyCost(MakeItem(0)));
  return limits;
}

// A Scheduler holding `size` waiting items, and fresh identities to add.
class LoadedScheduler {
 public:
  explicit LoadedScheduler(size_t size) {
    for (size_t i = 0; i < size; ++i) scheduler.Enqueue(MakeItem(next_++));
  }
  std::vector<protocol::WireItem> Fresh(size_t count) {
    std::vector<protocol::WireItem> items;
    items.reserve(count);
    for (size_t i = 0; i < count; ++i) items.push_back(MakeItem(next_++));
    return items;
  }
  void Refill(size_t count) {
    for (const auto& wire : Fresh(count)) scheduler.Enqueue(wire);
  }
  uint64_t next() const { return next_; }

  Scheduler scheduler;

 private:
  uint64_t next_ = 1;
};

// Operations per timed batch: at most a tenth of the queue, so that the
// queue stays near its nominal size while a batch runs.
size_t BatchFor(const benchmark::State& state) {
  return std::max<size_t>(
      1, std::min<size_t>(kBatch, static_cast<size_t>(state.range(0)) / 10));
}

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void ReportPerOp(benchmark::State& state, size_t ops_per_iteration) {
  const double ops = static_cast<double>(state.iterations()) *
                     static_cast<double>(ops_per_iteration);
  state.counters["per_op"] = benchmark::Counter(
      ops, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["queued"] = static_cast<double>(state.range(0));
}

void BM_Enqueue(benchmark::State& state) {
  const size_t batch = BatchFor(state);
  LoadedScheduler q(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto fresh = q.Fresh(batch);
    auto start = Clock::now();
    for (const auto& wire : fresh)
      benchmark::DoNotOptimize(q.scheduler.Enqueue(wire));
    state.SetIterationTime(Since(start));
    for (const auto& wire : fresh) q.scheduler.Done(ItemId::Of(wire.item.hai));
  }
  ReportPerOp(state, batch);
}

void BM_Dispatch(benchmark::State& state) {
  const size_t batch = BatchFor(state);
  LoadedScheduler q(static_cast<size_t>(state.range(0)));
  const server::MoverLimits limits = LimitsFor(1);
  const std::vector<uint32_t> all_archives;
  for (auto _ : state) {
    std::vector<server::DispatchReply> replies(batch);
    auto start = Clock::now();
    for (auto& reply : replies)
      reply = q.scheduler.Dispatch("mover", all_archives, limits);
    state.SetIterationTime(Since(start));
    for (const auto& reply : replies)
      for (const server::Item* item : reply.items) q.scheduler.Done(item->id());
    q.Refill(batch);
  }
  ReportPerOp(state, batch);
}

void BM_DispatchBurst64(benchmark::State& state) {
  constexpr size_t kBurst = 64;
  const size_t calls = std::max<size_t>(1, BatchFor(state) / kBurst);
  LoadedScheduler q(static_cast<size_t>(state.range(0)));
  const server::MoverLimits limits = LimitsFor(kBurst);
  const std::vector<uint32_t> all_archives;
  for (auto _ : state) {
    std::vector<server::DispatchReply> replies(calls);
    auto start = Clock::now();
    for (auto& reply : replies)
      reply = q.scheduler.Dispatch("mover", all_archives, limits);
    state.SetIterationTime(Since(start));
    for (const auto& reply : replies)
      for (const server::Item* item : reply.items) q.scheduler.Done(item->id());
    q.Refill(calls * kBurst);
  }
  ReportPerOp(state, calls * kBurst);
}

void BM_Done(benchmark::State& state) {
  const size_t batch = BatchFor(state);
  LoadedScheduler q(static_cast<size_t>(state.range(0)));
  const server::MoverLimits limits = LimitsFor(batch);
  for (auto _ : state) {
    server::DispatchReply reply = q.scheduler.Dispatch("mover", {}, limits);
    std::vector<ItemId> ids;
    for (const server::Item* item : reply.items) ids.push_back(item->id());
    auto start = Clock::now();
    for (const ItemId& id : ids) benchmark::DoNotOptimize(q.scheduler.Done(id));
    state.SetIterationTime(Since(start));
    q.Refill(ids.size());
  }
  ReportPerOp(state, batch);
}

void BM_Cancel(benchmark::State& state) {
  const size_t batch = BatchFor(state);
  const size_t size = static_cast<size_t>(state.range(0));
  LoadedScheduler q(size);
  std::vector<uint64_t> waiting;  // cookies of the waiting items
  for (uint64_t n = 1; n < q.next(); ++n) waiting.push_back(n);
  std::mt19937_64 random(42);
  for (auto _ : state) {
    std::vector<protocol::WireItem> cancels;
    for (size_t i = 0; i < batch; ++i) {
      size_t pick = random() % waiting.size();
      cancels.push_back(MakeItem(waiting[pick], HSMA_CANCEL));
      waiting[pick] = waiting.back();
      waiting.pop_back();
    }
    protocol::WireItem target;
    server::MoverId mover;
    auto start = Clock::now();
    for (const auto& cancel : cancels)
      benchmark::DoNotOptimize(q.scheduler.Cancel(cancel, &target, &mover));
    state.SetIterationTime(Since(start));
    for (const auto& wire : q.Fresh(batch)) {
      q.scheduler.Enqueue(wire);
      waiting.push_back(wire.item.hai.hai_cookie);
    }
  }
  ReportPerOp(state, batch);
}

void BM_Release(benchmark::State& state) {
  const size_t batch = BatchFor(state);
  LoadedScheduler q(static_cast<size_t>(state.range(0)));
  const server::MoverLimits limits = LimitsFor(batch);
  std::vector<protocol::WireItem> orphans;
  for (auto _ : state) {
    q.scheduler.Dispatch("mover", {}, limits);
    auto start = Clock::now();
    benchmark::DoNotOptimize(q.scheduler.Release("mover", &orphans));
    state.SetIterationTime(Since(start));
  }
  ReportPerOp(state, batch);
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void BM_Memory(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    malloc_trim(0);
    const size_t heap_before = mallinfo2().uordblks;
    const size_t rss_before = ResidentBytes();
    auto q = std::make_unique<LoadedScheduler>(size);
    const size_t heap_after = mallinfo2().uordblks;
    const size_t rss_after = ResidentBytes();
    state.counters["heap_bytes_per_request"] =
        static_cast<double>(heap_after - heap_before) / size;
    state.counters["rss_bytes_per_request"] =
        static_cast<double>(rss_after - rss_before) / size;
    state.counters["queued"] = static_cast<double>(size);
    state.PauseTiming();
    q.reset();
    state.ResumeTiming();
  }
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1'000, 10'000, 100'000, 1'000'000}) b->Arg(n);
  b->UseManualTime()->Iterations(kBatches)->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Enqueue)->Apply(Sizes);
BENCHMARK(BM_Dispatch)->Apply(Sizes);
BENCHMARK(BM_DispatchBurst64)->Apply(Sizes);
BENCHMARK(BM_Done)->Apply(Sizes);
BENCHMARK(BM_Cancel)->Apply(Sizes);
BENCHMARK(BM_Release)->Apply(Sizes);
BENCHMARK(BM_Memory)->Arg(100'000)->Arg(1'000'000)->Iterations(1)->Unit(
    benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
