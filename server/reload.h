// Reload of the configuration (SIGHUP, docs/configuration.md "Reload"):
// what a new reading of the file and the environment changes in a running
// server. PlanReload compares the settings the server runs with to the
// settings just read, key by key, and says which changes are applied at
// once and which need a restart: those are reported (key, running value,
// value read) and kept as they are. The server then applies the plan
// (Server::Reload); this part decides only, so it is tested without one.
//
// Every key of the server's settings table is classified here (a test
// checks that none is forgotten):
// - live: the log level, the connection limits and timeouts, grace, stale
//   and oversized timeouts, queue_check_lustre, the host rules and the
//   movers list (for items placed from now on: a waiting item keeps the
//   queue it was placed in), the fair share weights while fair share stays
//   as it is, the batch slice times while batching stays on or off,
//   archive_max_wait_sec, the report period, retry_max_attempts (for the
//   requests that come back from then on);
// - restart: where the server listens and what protects it (host, port,
//   allow_insecure, the tls_* paths and auth_file: their files themselves
//   are read again on each reload), the store and its keys, archive_id (the
//   registration at Lustre), what waiting items were grouped by (fair share
//   tag and kind, batching turned on or off, batch slots: a slot holding a
//   hint must not vanish), the report files' place and the locality helper
//   (restores waiting for its answer must not lose it).
//
// Thread-safety: pure functions over values.
#ifndef SERVER_RELOAD_H_
#define SERVER_RELOAD_H_

#include <spdlog/common.h>

#include <string>
#include <vector>

#include "config/settings.h"

namespace server {

// A key whose new value needs a restart: kept at its running value.
struct KeptChange {
  std::string key;
  std::string running;  // as the file would spell it; secrets hidden
  std::string read;
};

// A key changed and applied.
struct AppliedChange {
  std::string key;
  std::string from;
  std::string to;
};

struct ReloadPlan {
  // What the server runs with from now on: the running settings with the
  // live changes of the new reading.
  config::ServerSettings settings;
  std::vector<AppliedChange> applied;  // in the order of the settings table
  std::vector<KeptChange> kept;
};

ReloadPlan PlanReload(const config::ServerSettings& running,
                      const config::ServerSettings& read);

// The one warning about the kept changes: "kept until a restart: port 5123
// (file says 5124), store embedded (file says redis)"; "" if none.
std::string KeptWarning(const std::vector<KeptChange>& kept);
// The info line about the applied changes: "applied: verbose normal -> debug,
// max_connections 0 -> 10"; "nothing to apply" if none.
std::string AppliedSummary(const std::vector<AppliedChange>& applied);

// Whether the reload table has a row for `key` (a settings table key).
bool ReloadKnows(const std::string& key);

// spdlog's level for a `verbose` value (0 off .. 6 trace).
spdlog::level::level_enum LogLevelFor(int verbose);

}  // namespace server

#endif  // SERVER_RELOAD_H_
