// Fuzz target: sim-mdt's journal replay (sim::mdt::Journal::Open and
// Coordinator::ApplyJournal with the record codecs of state_codec): the input
// is the journal file found at start.
// Properties: no crash or undefined behaviour; any bytes open (a bad tail is
// cut, a malformed record skipped); the state recovered, written as a
// snapshot and replayed again, gives the same snapshot (replay is
// idempotent, as compaction assumes).
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "fuzz/sim_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::ScratchDir root_dir;
  static fuzz::ScratchDir* root = [] {
    spdlog::set_level(spdlog::level::off);
    return &root_dir;
  }();
  std::string journal(reinterpret_cast<const char*>(data), size);
  std::string snapshot;
  {
    fuzz::SimWorld world(root->path(), &journal);
    FUZZ_CHECK(world.open_rc() == 0);
    snapshot = world.cdt().Snapshot();
  }
  fuzz::SimWorld again(root->path(), &snapshot);
  FUZZ_CHECK(again.open_rc() == 0);
  FUZZ_CHECK(again.cdt().Snapshot() == snapshot);
  return 0;
}
