// Fuzz target: the embedded store's journal replay, through its public API:
// the input is the journal file a server finds at start
// (store::JournalStore::Open, then Load).
// Properties: no crash or undefined behaviour; whatever the bytes, Open
// either succeeds or says why, and Load succeeds; the live state loaded,
// written by a fresh store and loaded again, is the same state (what the
// server recovers is what it would persist).
#include "store/journal_store.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"

namespace {

struct State : store::LoadVisitor {
  std::map<std::string, std::string> requests;
  std::map<std::string, std::string> assignments;
  void OnRequest(std::string_view key, std::string_view json,
                 store::Handle) override {
    // Each key once: the latest Put.
    FUZZ_CHECK(requests.emplace(key, json).second);
  }
  void OnAssignment(std::string_view key, std::string_view mover,
                    store::Handle) override {
    FUZZ_CHECK(assignments.emplace(key, mover).second);
  }
};

// Opens `dir` and loads it into *state; false if Open refused.
bool OpenAndLoad(const std::string& dir, State* state) {
  boost::asio::io_context io;
  std::vector<std::string> warnings;
  std::string error;
  auto journal = store::JournalStore::Open(io, {dir}, &warnings, &error);
  if (!journal) {
    FUZZ_CHECK(!error.empty());
    return false;
  }
  FUZZ_CHECK(journal->Load(*state, &error));
  journal->Close(10'000);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::ScratchDir root;
  static bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  const std::string dir = root.path() + "/state";
  const std::string copy = root.path() + "/copy";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::remove_all(copy, ec);
  std::filesystem::create_directories(dir);
  fuzz::WriteFile(dir + "/journal",
                  std::string_view(reinterpret_cast<const char*>(data), size));

  State loaded;
  if (!OpenAndLoad(dir, &loaded)) return 0;
  {
    boost::asio::io_context io;
    std::vector<std::string> warnings;
    std::string error;
    auto journal = store::JournalStore::Open(io, {copy}, &warnings, &error);
    FUZZ_CHECK(journal != nullptr);
    for (const auto& [key, json] : loaded.requests) journal->Put(key, json);
    for (const auto& [key, mover] : loaded.assignments)
      journal->Assign(key, mover);
    journal->Close(10'000);
  }
  State again;
  FUZZ_CHECK(OpenAndLoad(copy, &again));
  FUZZ_CHECK(again.requests == loaded.requests);
  FUZZ_CHECK(again.assignments == loaded.assignments);
  return 0;
}
