#include "copytool/posix/options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include "common/version.h"

namespace ct {
namespace {

constexpr uint64_t kMiB = 1 << 20;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Multiplier for a unit suffix ("", "k", "kb", "kib", ...), or 0 if unknown.
uint64_t UnitMultiplier(std::string_view suffix, uint64_t default_unit) {
  const std::string unit = Lower(suffix);
  if (unit.empty()) return default_unit;
  if (unit == "b") return 1;
  const std::string_view letters = "kmgt";
  const size_t power = letters.find(unit[0]);
  if (power == std::string_view::npos) return 0;
  const std::string_view rest = std::string_view(unit).substr(1);
  if (!rest.empty() && rest != "b" && rest != "ib") return 0;
  return uint64_t{1} << (10 * (power + 1));
}

// Turns the parsed values into Options; returns an error message or "".
std::string Finish(Options* o, const std::string& chunk,
                   const std::string& bandwidth, const std::string& format,
                   int verbose, int quiet) {
  if (std::any_of(o->archives.begin(), o->archives.end(),
                  [](int id) { return id < 0; })) {
    return "--archive: archive ids must be >= 0";
  }
  if (std::find(o->archives.begin(), o->archives.end(), 0) !=
      o->archives.end()) {
    o->archives.clear();  // 0 means every archive
  }
  std::vector<int> unique;
  for (int id : o->archives) {
    if (std::find(unique.begin(), unique.end(), id) == unique.end()) {
      unique.push_back(id);
    }
  }
  o->archives = unique;
  if (auto size = ParseSize(chunk, 1); size && *size > 0) {
    o->chunk_size = *size;
  } else {
    return "--chunk-size: invalid size '" + chunk + "'";
  }
  if (auto bw = ParseSize(bandwidth, kMiB)) {
    o->bandwidth = *bw;
  } else {
    return "--bandwidth: invalid rate '" + bandwidth + "'";
  }
  if (auto f = ParseArchiveFormat(format)) {
    o->archive_format = *f;
  } else {
    return "--archive-format: expected v1 or v2, got '" + format + "'";
  }
  if (o->update_interval.count() < 0) {
    return "--update-interval: must be >= 0";
  }
  if (o->threads < 1) return "--threads: must be >= 1";
  o->verbosity = std::clamp(o->verbosity + verbose - quiet, 0, 7);
  return "";
}

}  // namespace

std::optional<uint64_t> ParseSize(std::string_view text,
                                  uint64_t default_unit) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  const uint64_t unit =
      UnitMultiplier(std::string_view(ptr, end - ptr), default_unit);
  if (unit == 0) return std::nullopt;
  if (value > std::numeric_limits<uint64_t>::max() / unit) return std::nullopt;
  return value * unit;
}

ParseResult ParseOptions(int argc, const char* const* argv) {
  CLI::App app("ct-posix: POSIX copytool for the Lustre HSM simulator",
               "ct-posix");
  Options o;
  std::string chunk = "1M", bandwidth = "0", format = "v1";
  double interval = o.update_interval.count();
  int verbose = 0, quiet = 0;
  app.add_option("-A,--archive", o.archives,
                 "archive id to serve (repeatable; 0 = all)");
  app.add_option("-p,--hsm-root,--hsm_root", o.hsm_root, "archive root")
      ->required();
  app.add_option("-u,--update-interval,--update_interval", interval,
                 "seconds between progress reports (default 30)");
  app.add_option("-c,--chunk-size,--chunk_size", chunk,
                 "I/O size of the copy loop (default 1M)");
  app.add_option("-b,--bandwidth", bandwidth,
                 "copy rate limit, a plain number is MiB/s (0 = unlimited)");
  app.add_option("-F,--archive-format,--archive_format", format,
                 "archive layout: v1 (default) or v2");
  app.add_option("-t,--threads", o.threads, "worker threads (default 4)");
  app.add_flag("-v,--verbose", verbose, "more messages (repeatable)");
  app.add_flag("-q,--quiet", quiet, "fewer messages (repeatable)");
  app.add_flag("--abort-on-error,--abort_on_error", o.abort_on_error,
               "exit on a major error");
  app.add_flag("--dry-run,--dry_run", o.dry_run, "log actions only");
  app.add_option("mount", o.mount, "Lustre mount point")->required();
  app.set_version_flag(
      "--version", std::string("ct-posix (coordinatool) ") + common::kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return {std::nullopt, app.help(), 0};
  } catch (const CLI::CallForVersion&) {
    return {std::nullopt, app.version(), 0};
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, e.what(), 2};
  }
  o.update_interval = std::chrono::duration<double>(interval);
  std::string error = Finish(&o, chunk, bandwidth, format, verbose, quiet);
  if (!error.empty()) return {std::nullopt, error, 2};
  return {std::move(o), "", 0};
}

}  // namespace ct
