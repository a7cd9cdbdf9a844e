#include "server/reload.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <string_view>

namespace server {

namespace {

using config::ServerSettings;
using S = ServerSettings;

// One key: how it reads for a message, how its value is taken from a new
// reading, and whether that change is applied while the server runs.
struct Row {
  const char* key;
  std::string (*show)(const S& s);
  void (*take)(const S& read, S* to);
  // Whether a change of this key is applied now (running: the settings the
  // server runs with, read: the new reading); nullptr: restart only.
  bool (*live)(const S& running, const S& read) = nullptr;
  bool secret = false;  // compared, never shown
};

template <auto M>
std::string Show(const S& s) {
  return fmt::format("{}", s.*M);
}

template <auto M>
void Take(const S& read, S* to) {
  to->*M = read.*M;
}

bool Always(const S&, const S&) { return true; }

std::string ShowVerbose(const S& s) {
  static constexpr const char* kNames[] = {"off",    "fatal", "error", "warn",
                                           "normal", "info",  "debug"};
  // Past debug (-v on the command line), the number.
  if (s.verbose >= 0 && s.verbose < 7) return kNames[s.verbose];
  return std::to_string(s.verbose);
}

std::string ShowSentinels(const S& s) {
  return fmt::format("{}", fmt::join(s.redis_sentinels, " "));
}

// A secret is compared as it is and never shown.
std::string ShowPassword(const S& s) { return s.redis_password; }

std::string ShowStore(const S& s) { return std::string(Name(s.store)); }

std::string ShowFairShareBy(const S& s) {
  return std::string(Name(s.fair_share_by));
}

std::string ShowArchiveIds(const S& s) {
  return fmt::format("{}", fmt::join(s.archive_ids, " "));
}

template <auto M>
std::string ShowWords(const S& s) {
  return fmt::format("{}", fmt::join(s.*M, " "));
}

// Rules without their line numbers: moving a rule in the file is no change.
std::string ShowHostRules(const S& s) {
  std::vector<std::string> rules;
  for (const config::HostAffinityRule& r : s.archive_on_hosts)
    rules.push_back(fmt::format("{} {}", r.tag, fmt::join(r.hosts, " ")));
  return fmt::format("{}", fmt::join(rules, "; "));
}

std::string ShowChRules(const S& s) {
  std::vector<std::string> rules;
  for (const config::ConsistentHashRule& r : s.archive_on_hosts_ch)
    rules.push_back(
        fmt::format("{} {} {}", r.tag, r.count, fmt::join(r.hosts, " ")));
  return fmt::format("{}", fmt::join(rules, "; "));
}

void TakeMovers(const S& read, S* to) {
  to->movers = read.movers;
  to->mover_lines = read.mover_lines;
}

std::string ShowBatch(const S& s) {
  return fmt::format("{} {}", s.batch_idle_sec, s.batch_max_sec);
}

std::string ShowRestoreSlices(const S& s) {
  return fmt::format("{} {}", s.restore_slice_idle_sec,
                     s.restore_slice_max_sec);
}

void TakeBatch(const S& read, S* to) {
  to->batch_idle_sec = read.batch_idle_sec;
  to->batch_max_sec = read.batch_max_sec;
}

// The slice times change live while batching stays on (or off): the slots
// and the hints they hold stay; turning it on or off changes how waiting
// archives are grouped.
bool BatchingKept(const S& running, const S& read) {
  return running.batching() == read.batching();
}

std::string ShowWeights(const S& s) {
  std::vector<std::string> weights;
  for (const auto& [owner, weight] : s.fair_share_weights)
    weights.push_back(fmt::format("{} {}", owner, weight));
  return fmt::format("{}", fmt::join(weights, "; "));
}

bool FairShareOn(const S& s) {
  return !s.fair_share_tag.empty() ||
         s.fair_share_by != config::FairShareBy::kTag;
}

// Weights count from the next restore sent on; they apply to the fair share
// the server runs (whose tag and kind a reload keeps).
bool WeightsApply(const S& running, const S&) { return FairShareOn(running); }

// Restart-only rows never take anything.
void TakeNothing(const S&, S*) {}

const Row kRows[] = {
    {"host", Show<&S::host>, TakeNothing},
    {"port", Show<&S::port>, TakeNothing},
    {"http_port", Show<&S::http_port>, TakeNothing},
    {"verbose", ShowVerbose, Take<&S::verbose>, Always},
    {"archive_id", ShowArchiveIds, TakeNothing},
    {"redis_host", Show<&S::redis_host>, TakeNothing},
    {"redis_port", Show<&S::redis_port>, TakeNothing},
    {"redis_sentinels", ShowSentinels, TakeNothing},
    {"redis_master_name", Show<&S::redis_master_name>, TakeNothing},
    {"redis_wait_replicas", Show<&S::redis_wait_replicas>, TakeNothing},
    {"redis_wait_timeout_ms", Show<&S::redis_wait_timeout_ms>, TakeNothing},
    {"redis_socket", Show<&S::redis_socket>, TakeNothing},
    {"redis_user", Show<&S::redis_user>, TakeNothing},
    {"redis_password", ShowPassword, TakeNothing, nullptr, true},
    {"ha_lease_ms", Show<&S::ha_lease_ms>, TakeNothing},
    {"ha_advertise", Show<&S::ha_advertise>, TakeNothing},
    {"store", ShowStore, TakeNothing},
    {"state_dir", Show<&S::state_dir>, TakeNothing},
    {"stale_timeout_ms", Show<&S::stale_timeout_ms>, Take<&S::stale_timeout_ms>,
     Always},
    {"client_grace_ms", Show<&S::client_grace_ms>, Take<&S::client_grace_ms>,
     Always},
    {"max_connections", Show<&S::max_connections>, Take<&S::max_connections>,
     Always},
    {"connection_memory_mb", Show<&S::connection_memory_mb>,
     Take<&S::connection_memory_mb>, Always},
    {"liveness_timeout_ms", Show<&S::liveness_timeout_ms>,
     Take<&S::liveness_timeout_ms>, Always},
    {"handshake_timeout_ms", Show<&S::handshake_timeout_ms>,
     Take<&S::handshake_timeout_ms>, Always},
    {"oversized_timeout_ms", Show<&S::oversized_timeout_ms>,
     Take<&S::oversized_timeout_ms>, Always},
    {"tls_cert", Show<&S::tls_cert>, TakeNothing},
    {"tls_key", Show<&S::tls_key>, TakeNothing},
    {"tls_ca", Show<&S::tls_ca>, TakeNothing},
    {"tls_client_cert", Show<&S::tls_client_cert>, TakeNothing},
    {"allow_insecure", Show<&S::allow_insecure>, TakeNothing},
    {"queue_check_lustre", Show<&S::queue_check_lustre>,
     Take<&S::queue_check_lustre>, Always},
    {"movers", ShowWords<&S::movers>, TakeMovers, Always},
    {"archive_on_hosts", ShowHostRules, Take<&S::archive_on_hosts>, Always},
    {"archive_on_hosts_ch", ShowChRules, Take<&S::archive_on_hosts_ch>, Always},
    {"batch_archives_slices_sec", ShowBatch, TakeBatch, BatchingKept},
    {"batch_archives_slots_per_client", Show<&S::batch_slots_per_client>,
     TakeNothing},
    {"batch_restores_slices_sec", ShowRestoreSlices, TakeNothing},
    {"restore_media_per_mover", Show<&S::restore_media_per_mover>, TakeNothing},
    {"reporting_dir", Show<&S::reporting_dir>, TakeNothing},
    {"reporting_hint", Show<&S::reporting_hint>, TakeNothing},
    {"reporting_schedule_interval_ms", Show<&S::reporting_schedule_interval_ms>,
     Take<&S::reporting_schedule_interval_ms>, Always},
    {"fair_share_tag", Show<&S::fair_share_tag>, TakeNothing},
    {"fair_share_by", ShowFairShareBy, TakeNothing},
    {"fair_share_weight", ShowWeights, Take<&S::fair_share_weights>,
     WeightsApply},
    {"archive_max_wait_sec", Show<&S::archive_max_wait_sec>,
     Take<&S::archive_max_wait_sec>, Always},
    {"restore_blocking_share", Show<&S::restore_blocking_share>,
     Take<&S::restore_blocking_share>, Always},
    {"max_running_restores_per_owner", Show<&S::max_running_restores_per_owner>,
     Take<&S::max_running_restores_per_owner>, Always},
    {"max_queued_restores_per_owner", Show<&S::max_queued_restores_per_owner>,
     Take<&S::max_queued_restores_per_owner>, Always},
    {"restore_locality_command", ShowWords<&S::restore_locality_command>,
     TakeNothing},
    {"restore_locality_timeout_ms", Show<&S::restore_locality_timeout_ms>,
     TakeNothing},
    {"retry_max_attempts", Show<&S::retry_max_attempts>,
     Take<&S::retry_max_attempts>, Always},
    {"auth_file", Show<&S::auth_file>, TakeNothing},
};

// Keys of the settings table that are another spelling of a row's key.
constexpr std::string_view kAliases[] = {"batch_archives_slice_sec"};

// "" reads badly in a message.
std::string Spelled(const std::string& value) {
  return value.empty() ? "(none)" : value;
}

}  // namespace

ReloadPlan PlanReload(const ServerSettings& running,
                      const ServerSettings& read) {
  ReloadPlan plan{.settings = running, .applied = {}, .kept = {}};
  for (const Row& row : kRows) {
    std::string was = row.show(running), now = row.show(read);
    // Redis: whether any redis_* key was given changes the store auto picks.
    if (was == now && std::string_view(row.key) == "redis_host" &&
        running.redis_configured != read.redis_configured) {
      was += running.redis_configured ? " (given)" : " (default)";
      now += read.redis_configured ? " (given)" : " (default)";
    }
    if (was == now) {
      // Same meaning; take the new lines of rules and movers for messages.
      if (row.live && row.live(running, read)) row.take(read, &plan.settings);
      continue;
    }
    if (row.secret) {
      was = was.empty() ? "" : "(hidden)";
      now = now.empty() ? "" : "(another, hidden)";
    }
    if (row.live && row.live(running, read)) {
      row.take(read, &plan.settings);
      plan.applied.push_back({row.key, Spelled(was), Spelled(now)});
    } else {
      plan.kept.push_back({row.key, Spelled(was), Spelled(now)});
    }
  }
  return plan;
}

std::string KeptWarning(const std::vector<KeptChange>& kept) {
  if (kept.empty()) return "";
  std::vector<std::string> parts;
  for (const KeptChange& k : kept)
    parts.push_back(
        fmt::format("{} {} (configuration says {})", k.key, k.running, k.read));
  return fmt::format("reload: these keys change only at a restart, kept: {}",
                     fmt::join(parts, ", "));
}

std::string AppliedSummary(const std::vector<AppliedChange>& applied) {
  if (applied.empty()) return "reload: no setting to change";
  std::vector<std::string> parts;
  for (const AppliedChange& a : applied)
    parts.push_back(fmt::format("{} {} -> {}", a.key, a.from, a.to));
  return fmt::format("reload: applied {}", fmt::join(parts, ", "));
}

bool ReloadKnows(const std::string& key) {
  if (std::find(std::begin(kAliases), std::end(kAliases), key) !=
      std::end(kAliases))
    return true;
  return std::any_of(std::begin(kRows), std::end(kRows),
                     [&](const Row& row) { return key == row.key; });
}

spdlog::level::level_enum LogLevelFor(int verbose) {
  switch (verbose) {
    case 0:
      return spdlog::level::off;
    case 1:
      return spdlog::level::critical;
    case 2:
      return spdlog::level::err;
    case 3:
      return spdlog::level::warn;
    case 4:
      return spdlog::level::info;
    case 5:
      return spdlog::level::debug;
    default:
      return spdlog::level::trace;
  }
}

}  // namespace server
