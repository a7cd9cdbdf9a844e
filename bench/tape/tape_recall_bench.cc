// tape_recall_bench: the total time to recall files from tape with and
// without recalls in tape order (docs/policies.md, recalls in tape order),
// driving the real Scheduler with a simulated clock and a tape cost model.
//
// Workload: FILES files spread at random (uniformly, seeded) over TAPES
// tapes, each at a random position on its tape; every restore queued at
// time 0 in a random order (a bulk recall), DRIVES movers of one drive each
// (max_restore 1: a drive reads one file at a time).
//
// Cost model (LTO-9-like; figures from the LTO-9 specifications, rounded):
//   mount      robot move + load + thread to the beginning of tape: 60 s
//   unmount    rewind + unload + robot move back: 30 s (when a drive needs
//              another tape, or another drive needs this one)
//   seek       proportional to the distance between positions: 95 s for the
//              whole length (18 TB native)
//   read       400 MB/s; every file 1 GiB (FILE_MIB to change it)
// A tape mounted in another drive is taken from it when that drive ends its
// current file (its unmount is paid by that drive).
//
// Three runs, on the same files and arrival order:
//   arrival   restores without a medium: arrival order (today's behaviour)
//   grouped   tape order with every position given as the arrival number:
//             each tape to one drive, files in arrival order on it
//   tape      tape order with the true positions: each tape to one drive,
//             files in ascending position (one sweep)
// The simulated clock steps through drive events; the Scheduler sees it as
// its `now`. Not a test: nothing is asserted.
//
// Usage: tape_recall_bench [FILES [TAPES [DRIVES [FILE_MIB]]]]
// (100000 200 16 1024)
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "bench/micro/bench_item.h"
#include "server/scheduler.h"

namespace {

using namespace std::chrono_literals;
using server::DispatchReply;
using server::ItemId;
using server::MoverLimits;
using server::Scheduler;

constexpr double kMountS = 60;
constexpr double kUnmountS = 30;
constexpr double kFullSeekS = 95;
constexpr double kTapeBytes = 18e12;
constexpr double kReadBytesPerS = 400e6;
double kFileBytes = 1024.0 * 1024 * 1024;  // argv[4]
constexpr int64_t kT0 = 1'700'000'000LL * 1'000'000'000;

struct File {
  uint32_t tape;
  uint64_t position;  // bytes from the beginning of the tape
};

enum class Mode { kArrival, kGrouped, kTape };

struct Drive {
  int tape = -1;         // mounted, -1: none
  uint64_t head = 0;     // position of the head on it
  double free_at = 0;    // seconds
  int64_t running = -1;  // file index, -1: none
};

struct Result {
  double total_s = 0;
  uint64_t mounts = 0;
  double seek_s = 0;
};

protocol::WireItem RestoreOf(uint64_t n) {
  protocol::WireItem wire;
  bench::SetActionItem(n, HSMA_RESTORE, &wire);
  wire.archive_id = 1;
  wire.timestamp_ns = kT0;
  return wire;
}

Result Run(Mode mode, const std::vector<File>& files,
           const std::vector<uint64_t>& arrival, size_t drives) {
  Scheduler s;
  if (mode != Mode::kArrival) s.SetTapeOrder({30s, 0s, 1});
  for (size_t rank = 0; rank < arrival.size(); ++rank) {
    const uint64_t n = arrival[rank];
    protocol::WireItem wire = RestoreOf(n);
    s.Enqueue(wire);
    if (mode == Mode::kArrival) continue;
    const uint64_t position = mode == Mode::kTape ? files[n].position : rank;
    s.PlaceOnMedium(ItemId::Of(wire.item.hai),
                    "T" + std::to_string(files[n].tape), position);
  }
  MoverLimits limits;
  limits.max_running[static_cast<size_t>(server::ItemType::kRestore)] = 1;

  std::vector<Drive> drive(drives);
  std::vector<int> mounted_on(
      files.empty() ? 0
                    : 1 + std::max_element(files.begin(), files.end(),
                                           [](const File& a, const File& b) {
                                             return a.tape < b.tape;
                                           })
                              ->tape,
      -1);
  Result result;
  // Drives by the time they are free, earliest first.
  using Event = std::pair<double, size_t>;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  for (size_t d = 0; d < drives; ++d) events.push({0.0, d});
  size_t done = 0;
  while (!events.empty()) {
    auto [now, d] = events.top();
    events.pop();
    Drive& me = drive[d];
    if (now < me.free_at) {  // pushed back (its tape was taken)
      events.push({me.free_at, d});
      continue;
    }
    const std::string mover = "drive" + std::to_string(d);
    if (me.running >= 0) {
      s.Done(ItemId::Of(RestoreOf(static_cast<uint64_t>(me.running)).item.hai));
      me.running = -1;
      ++done;
    }
    const int64_t now_ns = kT0 + static_cast<int64_t>(now * 1e9);
    DispatchReply reply = s.Dispatch(mover, {}, limits, 1, now_ns);
    if (reply.items.empty()) {
      // Nothing for it now. Work may free up when another drive ends a
      // file (a tape held elsewhere is released): try again then.
      if (s.counters().pending[0] == 0) continue;
      double next = 0;
      for (const Drive& other : drive)
        if (other.free_at > now && (next == 0 || other.free_at < next))
          next = other.free_at;
      if (next == 0) next = now + 1;
      events.push({next, d});
      continue;
    }
    const uint64_t n = reply.items[0]->hai.hai_cookie;
    const File& f = files[n];
    double t = now;
    if (me.tape != static_cast<int>(f.tape)) {
      if (me.tape >= 0) {
        t += kUnmountS;
        mounted_on[me.tape] = -1;
      }
      if (int other = mounted_on[f.tape]; other >= 0) {
        // Taken from the drive that has it, once its file is read.
        Drive& from = drive[other];
        t = std::max(t, from.free_at);
        from.free_at = std::max(from.free_at, t) + kUnmountS;
        from.tape = -1;
      }
      t += kMountS;
      ++result.mounts;
      me.tape = static_cast<int>(f.tape);
      me.head = 0;
      mounted_on[f.tape] = static_cast<int>(d);
    }
    const double distance = static_cast<double>(
        f.position > me.head ? f.position - me.head : me.head - f.position);
    const double seek = kFullSeekS * distance / kTapeBytes;
    result.seek_s += seek;
    t += seek + kFileBytes / kReadBytesPerS;
    me.head = f.position + static_cast<uint64_t>(kFileBytes);
    me.free_at = t;
    me.running = static_cast<int64_t>(n);
    result.total_s = std::max(result.total_s, t);
    events.push({t, d});
  }
  if (done != files.size())
    std::fprintf(stderr, "warning: %zu of %zu files recalled\n", done,
                 files.size());
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n_files =
      argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const uint32_t n_tapes =
      argc > 2 ? static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10))
               : 200;
  const size_t n_drives = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 16;
  if (argc > 4) kFileBytes = std::strtod(argv[4], nullptr) * 1024 * 1024;
  std::mt19937_64 random(42);
  std::vector<File> files(n_files);
  std::uniform_int_distribution<uint32_t> tape(0, n_tapes - 1);
  std::uniform_int_distribution<uint64_t> position(
      0, static_cast<uint64_t>(kTapeBytes - kFileBytes));
  for (File& f : files) f = {tape(random), position(random)};
  std::vector<uint64_t> arrival(n_files);
  std::iota(arrival.begin(), arrival.end(), 0);
  std::shuffle(arrival.begin(), arrival.end(), random);

  std::printf(
      "%zu files of %.0f MiB on %u tapes, %zu drives; mount %.0f s, unmount "
      "%.0f s, full seek %.0f s over %.0f TB, read %.0f MB/s\n",
      n_files, kFileBytes / 1024 / 1024, n_tapes, n_drives, kMountS, kUnmountS,
      kFullSeekS, kTapeBytes / 1e12, kReadBytesPerS / 1e6);
  Result arrival_order;
  for (auto [mode, name] :
       {std::pair{Mode::kArrival, "arrival"},
        std::pair{Mode::kGrouped, "grouped"}, std::pair{Mode::kTape, "tape"}}) {
    const auto start = std::chrono::steady_clock::now();
    const Result r = Run(mode, files, arrival, n_drives);
    if (mode == Mode::kArrival) arrival_order = r;
    const double cpu =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    std::printf("%-8s total %10.0f s (%6.1f h)  mounts %7" PRIu64
                "  seek %9.0f s  vs arrival %6.1f %%  (run %.2f s)\n",
                name, r.total_s, r.total_s / 3600, r.mounts, r.seek_s,
                100.0 * (1 - r.total_s / arrival_order.total_s), cpu);
  }
  return 0;
}
