// query_bench: what `show` and `list` (server/item_query.h) cost with N
// requests queued.
//
// N waiting ARCHIVE items (64 bytes of data, four archive ids: four queues
// of N/4). Timed:
//
//   show_head     `show` of a file whose request heads its queue
//   show_deep     `show` of a file whose request is deep in its queue:
//                 the position walk stops at its bound (100,000)
//   show_unknown  `show` of a file with no request
//   list_page     one `list` page of 1000 requests, no filter
//   list_miss     one `list` call whose filter matches nothing: it stops
//                 after examining its bound (10,000)
//
// Each reports seconds per call (`per_op`). Not a test: nothing is
// asserted.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>

#include "bench/micro/bench_item.h"
#include "server/item_query.h"

namespace {

constexpr size_t kDataBytes = 64;
constexpr uint32_t kArchiveIds = 4;

protocol::WireItem MakeItem(uint64_t n) {
  protocol::WireItem wire;
  wire.archive_id = 1 + static_cast<uint32_t>(n % kArchiveIds);
  wire.timestamp_ns = static_cast<int64_t>(n);
  wire.item.data = std::string(kDataBytes, 'd');
  bench::SetActionItem(n, HSMA_ARCHIVE, &wire);
  return wire;
}

struct Loaded {
  explicit Loaded(size_t size) {
    for (uint64_t n = 1; n <= size; ++n) scheduler.Enqueue(MakeItem(n));
  }
  common::SteadyClock clock;
  server::Scheduler scheduler;
  server::MoverTable movers;
  server::RecentDone recent;
  server::DispatchRate rate{clock};
  server::ItemQuery query{scheduler, movers, recent, rate, clock};
};

Loaded& For(const benchmark::State& state) {
  // One loaded scheduler per size, kept across benchmarks (filling a
  // million items takes seconds).
  static std::map<int64_t, std::unique_ptr<Loaded>> loaded;
  auto& l = loaded[state.range(0)];
  if (!l) l = std::make_unique<Loaded>(static_cast<size_t>(state.range(0)));
  return *l;
}

void Show(benchmark::State& state, uint64_t n) {
  Loaded& l = For(state);
  const lu_fid fid = MakeItem(n).item.hai.hai_fid;
  for (auto _ : state) benchmark::DoNotOptimize(l.query.Show(fid));
  state.counters["per_op"] = benchmark::Counter(
      static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_ShowHead(benchmark::State& state) { Show(state, 1); }
void BM_ShowDeep(benchmark::State& state) {
  Show(state, static_cast<uint64_t>(state.range(0)));  // the last
}
void BM_ShowUnknown(benchmark::State& state) {
  Show(state, static_cast<uint64_t>(state.range(0)) + 7);
}

void List(benchmark::State& state, protocol::ListRequest request) {
  Loaded& l = For(state);
  for (auto _ : state) benchmark::DoNotOptimize(l.query.List(request));
  state.counters["per_op"] = benchmark::Counter(
      static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_ListPage(benchmark::State& state) {
  protocol::ListRequest request;
  request.limit = protocol::kListMaxLimit;
  request.cursor = static_cast<uint64_t>(state.range(0)) / 2;  // the middle
  List(state, request);
}
void BM_ListMiss(benchmark::State& state) {
  protocol::ListRequest request;
  request.type = "restore";
  List(state, request);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_ShowHead)->Apply(Sizes);
BENCHMARK(BM_ShowDeep)->Apply(Sizes);
BENCHMARK(BM_ShowUnknown)->Apply(Sizes);
BENCHMARK(BM_ListPage)->Apply(Sizes);
BENCHMARK(BM_ListMiss)->Apply(Sizes);

}  // namespace

BENCHMARK_MAIN();
