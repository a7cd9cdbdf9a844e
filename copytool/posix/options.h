// Command line of ct-posix, the simulator's lhsmtool_posix: the options of
// lhsmtool_posix that make sense for a daemon copytool (docs/lustre.md,
// lhsmtool_posix), plus -t/--threads for the worker pool.
//
// Thread-safety: pure functions; Options is a value type.
#ifndef COPYTOOL_POSIX_OPTIONS_H_
#define COPYTOOL_POSIX_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "copytool/posix/archive_path.h"

namespace ct {

struct Options {
  std::string mount;
  std::string hsm_root;
  // Archive ids served; empty means all (an id 0 on the command line).
  std::vector<int> archives;
  std::chrono::duration<double> update_interval{30.0};
  uint64_t chunk_size = 1 << 20;
  uint64_t bandwidth = 0;  // bytes per second; 0 = unlimited
  ArchiveFormat archive_format = ArchiveFormat::kV1;
  int verbosity = 5;  // LLAPI_MSG_INFO; each -v adds one, each -q takes one
  bool abort_on_error = false;
  bool dry_run = false;
  int threads = 4;
};

// Outcome of ParseOptions: either options to run with, or a message and an
// exit code (0 for --help, 2 for a usage error).
struct ParseResult {
  std::optional<Options> options;
  std::string message;
  int exit_code = 0;
};

ParseResult ParseOptions(int argc, const char* const* argv);

// Parses "123", "64K", "1M", "2G" (binary units, case-insensitive, optional
// trailing "B"/"iB"). A plain number is multiplied by `default_unit`.
// Returns nullopt for anything else, or on overflow.
std::optional<uint64_t> ParseSize(std::string_view text, uint64_t default_unit);

}  // namespace ct

#endif  // COPYTOOL_POSIX_OPTIONS_H_
