#include "config/settings.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string_view>

namespace config {

namespace {

const char* const kServerOnlyKeys[] = {"redis_host",
                                       "redis_port",
                                       "redis_socket",
                                       "redis_user",
                                       "redis_password",
                                       "store",
                                       "state_dir",
                                       "stale_timeout_ms",
                                       "archive_id",
                                       "client_grace_ms",
                                       "archive_on_hosts",
                                       "archive_on_hosts_ch",
                                       "batch_archives_slices_sec",
                                       "batch_archives_slice_sec",
                                       "batch_archives_slots_per_client",
                                       "reporting_dir",
                                       "reporting_hint",
                                       "reporting_schedule_interval_ms",
                                       "fair_share_tag",
                                       "fair_share_weight",
                                       "archive_max_wait_sec",
                                       "fair_share_by",
                                       "restore_locality_command",
                                       "restore_locality_timeout_ms",
                                       "movers",
                                       "max_connections",
                                       "connection_memory_mb",
                                       "liveness_timeout_ms",
                                       "handshake_timeout_ms",
                                       "oversized_timeout_ms"};
const char* const kClientOnlyKeys[] = {"client_id", "max_restore",
                                       "max_archive", "max_remove", "hal_size"};

bool IsOneOf(const std::string& key, const auto& keys) {
  for (const char* k : keys)
    if (key == k) return true;
  return false;
}

}  // namespace

bool IsStoreKind(const std::string& value) {
  return value == "auto" || value == "redis" || value == "embedded" ||
         value == "none";
}

namespace {

std::vector<std::string> Words(const std::string& value) {
  std::istringstream in(value);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// Parses an integer value of `entry` into *out or explains why not.
template <typename T>
bool IntegerEntry(const ConfigText& file, const ConfigEntry& entry, int64_t min,
                  int64_t max, T* out, std::string* error) {
  auto value = ParseInteger(entry.value, min, max);
  if (!value) {
    *error = EntryError(
        file, entry,
        fmt::format("'{}' is not an integer in {}..{}", entry.value, min, max));
    return false;
  }
  *out = static_cast<T>(*value);
  return true;
}

bool LogLevelEntry(const ConfigText& file, const ConfigEntry& e, int* out,
                   std::string* error) {
  auto level = ParseLogLevel(e.value);
  if (!level) {
    *error =
        EntryError(file, e, fmt::format("unknown log level '{}'", e.value));
    return false;
  }
  *out = *level;
  return true;
}

bool IsFairShareKind(const std::string& value) {
  return value == "tag" || value == "uid" || value == "gid" ||
         value == "projid";
}

// reporting_dir is joined to the mount point: it must stay under it.
bool IsBelowMount(const std::string& dir) {
  if (dir.starts_with('/')) return false;
  for (size_t start = 0; start <= dir.size();) {
    size_t end = std::min(dir.find('/', start), dir.size());
    if (std::string_view(dir).substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

bool BatchEntry(const ConfigText& file, const ConfigEntry& e, ServerSettings* s,
                std::string* error) {
  auto words = Words(e.value);
  auto idle =
      words.empty() ? std::nullopt : ParseInteger(words[0], 0, UINT32_MAX);
  auto max = words.size() < 2 ? std::optional<int64_t>(0)
                              : ParseInteger(words[1], 0, UINT32_MAX);
  if (!idle || !max || words.size() > 2) {
    *error = EntryError(file, e, "expected IDLE [MAX] in seconds");
    return false;
  }
  if (*max != 0 && *max < *idle) {
    *error = EntryError(
        file, e, fmt::format("MAX ({}) shorter than IDLE ({})", *max, *idle));
    return false;
  }
  s->batch_idle_sec = static_cast<uint32_t>(*idle);
  s->batch_max_sec = static_cast<uint32_t>(*max);
  return true;
}

// Appends the hosts of a `movers` line; a host listed again is harmless.
void MoversEntry(const ConfigText& file, const ConfigEntry& e,
                 ServerSettings* s, std::vector<std::string>* warnings) {
  for (std::string& host : Words(e.value)) {
    auto it = std::find(s->movers.begin(), s->movers.end(), host);
    if (it != s->movers.end()) {
      warnings->push_back(
          EntryError(file, e,
                     fmt::format("host '{}' already listed at line {}", host,
                                 s->mover_lines[it - s->movers.begin()])));
      continue;
    }
    s->movers.push_back(std::move(host));
    s->mover_lines.push_back(e.line);
  }
}

bool ApplyServerEntry(const ConfigText& file, const ConfigEntry& e,
                      ServerSettings* s, std::vector<std::string>* warnings,
                      std::string* error) {
  const std::string& k = e.key;
  if (k.starts_with("redis_")) s->redis_configured = true;
  if (k == "host") {
    s->host = e.value;
  } else if (k == "port") {
    s->port = e.value;
  } else if (k == "verbose") {
    return LogLevelEntry(file, e, &s->verbose, error);
  } else if (k == "redis_host") {
    s->redis_host = e.value;
  } else if (k == "redis_port") {
    return IntegerEntry(file, e, 0, 65535, &s->redis_port, error);
  } else if (k == "redis_socket") {
    s->redis_socket = e.value;
  } else if (k == "redis_user") {
    s->redis_user = e.value;
  } else if (k == "redis_password") {
    s->redis_password = e.value;
  } else if (k == "store") {
    if (!IsStoreKind(e.value)) {
      *error = EntryError(
          file, e,
          fmt::format("'{}' is not one of auto, redis, embedded, none",
                      e.value));
      return false;
    }
    s->store = e.value;
  } else if (k == "state_dir") {
    s->state_dir = e.value;
  } else if (k == "stale_timeout_ms") {
    return IntegerEntry(file, e, 0, INT64_MAX, &s->stale_timeout_ms, error);
  } else if (k == "archive_id") {
    uint32_t id;
    if (!IntegerEntry(file, e, 1, INT32_MAX, &id, error)) return false;
    s->archive_ids.push_back(id);
  } else if (k == "client_grace_ms") {
    return IntegerEntry(file, e, 0, INT64_MAX, &s->client_grace_ms, error);
  } else if (k == "max_connections") {
    return IntegerEntry(file, e, 0, 1 << 20, &s->max_connections, error);
  } else if (k == "connection_memory_mb") {
    return IntegerEntry(file, e, 1, 1 << 20, &s->connection_memory_mb, error);
  } else if (k == "liveness_timeout_ms") {
    return IntegerEntry(file, e, 0, INT32_MAX, &s->liveness_timeout_ms, error);
  } else if (k == "handshake_timeout_ms") {
    return IntegerEntry(file, e, 0, INT32_MAX, &s->handshake_timeout_ms, error);
  } else if (k == "oversized_timeout_ms") {
    return IntegerEntry(file, e, 0, INT64_MAX, &s->oversized_timeout_ms, error);
  } else if (k == "archive_on_hosts") {
    auto words = Words(e.value);
    if (words.size() < 2) {
      warnings->push_back(EntryError(file, e, "no host given, line ignored"));
      return true;
    }
    s->archive_on_hosts.push_back(
        {words[0], {words.begin() + 1, words.end()}, e.line});
  } else if (k == "archive_on_hosts_ch") {
    auto words = Words(e.value);
    if (words.size() < 3) {
      *error = EntryError(file, e, "expected TAG COUNT HOST [HOST...]");
      return false;
    }
    auto count = ParseInteger(words[1], 0, UINT32_MAX);
    if (!count) {
      *error = EntryError(file, e,
                          fmt::format("COUNT '{}' is not an integer in 0..{}",
                                      words[1], UINT32_MAX));
      return false;
    }
    s->archive_on_hosts_ch.push_back({words[0],
                                      static_cast<uint32_t>(*count),
                                      {words.begin() + 2, words.end()},
                                      e.line});
  } else if (k == "batch_archives_slices_sec" ||
             k == "batch_archives_slice_sec") {
    return BatchEntry(file, e, s, error);
  } else if (k == "batch_archives_slots_per_client") {
    return IntegerEntry(file, e, 0, 1024, &s->batch_slots_per_client, error);
  } else if (k == "reporting_dir") {
    if (!IsBelowMount(e.value)) {
      *error = EntryError(
          file, e,
          fmt::format("'{}' must be relative to the mount point, without '..'",
                      e.value));
      return false;
    }
    s->reporting_dir = e.value;
  } else if (k == "reporting_hint") {
    s->reporting_hint = e.value;
  } else if (k == "reporting_schedule_interval_ms") {
    return IntegerEntry(file, e, 0, INT64_MAX,
                        &s->reporting_schedule_interval_ms, error);
  } else if (k == "fair_share_tag") {
    s->fair_share_tag = e.value;
  } else if (k == "fair_share_weight") {
    auto words = Words(e.value);
    auto weight =
        words.size() == 2 ? ParseInteger(words[1], 1, 1000000) : std::nullopt;
    if (!weight) {
      *error = EntryError(file, e, "expected OWNER WEIGHT (1..1000000)");
      return false;
    }
    if (s->fair_share_weights.contains(words[0])) {
      *error = EntryError(file, e,
                          fmt::format("weight of '{}' given twice", words[0]));
      return false;
    }
    s->fair_share_weights[words[0]] = static_cast<uint32_t>(*weight);
  } else if (k == "archive_max_wait_sec") {
    return IntegerEntry(file, e, 0, INT32_MAX, &s->archive_max_wait_sec, error);
  } else if (k == "fair_share_by") {
    if (!IsFairShareKind(e.value)) {
      *error = EntryError(
          file, e,
          fmt::format("'{}' is not one of tag, uid, gid, projid", e.value));
      return false;
    }
    s->fair_share_by = e.value;
  } else if (k == "restore_locality_command") {
    s->restore_locality_command = Words(e.value);
  } else if (k == "restore_locality_timeout_ms") {
    return IntegerEntry(file, e, 1, INT32_MAX, &s->restore_locality_timeout_ms,
                        error);
  } else if (k == "movers") {
    MoversEntry(file, e, s, warnings);
  } else if (!IsOneOf(k, kClientOnlyKeys)) {
    warnings->push_back(EntryError(file, e, "unknown key, ignored"));
  }
  return true;
}

bool SizeEntry(const ConfigText& file, const ConfigEntry& e, uint32_t* out,
               std::vector<std::string>* warnings, std::string* error) {
  std::string warning, why;
  auto size = ParseSize(e.value, &warning, &why);
  if (!size) {
    *error = EntryError(file, e, why);
    return false;
  }
  if (!warning.empty()) warnings->push_back(EntryError(file, e, warning));
  *out = *size;
  return true;
}

bool ApplyClientEntry(const ConfigText& file, const ConfigEntry& e,
                      ClientSettings* s, std::vector<std::string>* warnings,
                      std::string* error) {
  const std::string& k = e.key;
  if (k == "host") {
    s->host = e.value;
  } else if (k == "port") {
    s->port = e.value;
  } else if (k == "client_id") {
    s->client_id = e.value;
  } else if (k == "max_restore") {
    return SizeEntry(file, e, &s->max_restore, warnings, error);
  } else if (k == "max_archive") {
    return SizeEntry(file, e, &s->max_archive, warnings, error);
  } else if (k == "max_remove") {
    return SizeEntry(file, e, &s->max_remove, warnings, error);
  } else if (k == "hal_size") {
    return SizeEntry(file, e, &s->hal_size, warnings, error);
  } else if (k == "verbose") {
    return LogLevelEntry(file, e, &s->verbose, error);
  } else if (!IsOneOf(k, kServerOnlyKeys)) {
    warnings->push_back(EntryError(file, e, "unknown key, ignored"));
  }
  return true;
}

template <typename Settings, typename ApplyEntry>
bool ApplyFile(const ConfigText& file, Settings* settings,
               std::vector<std::string>* warnings, std::string* error,
               ApplyEntry apply) {
  for (const ConfigEntry& entry : file.entries) {
    if (entry.value.empty()) {
      warnings->push_back(EntryError(file, entry, "no value, line ignored"));
      continue;
    }
    if (!apply(file, entry, settings, warnings, error)) return false;
  }
  return true;
}

}  // namespace

std::string DefaultClientId() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  std::string id(name);
  return id.substr(0, id.find('.'));
}

namespace {

// The variables server and clients share.
bool ApplyCommonEnv(const EnvLookup& env, int* verbose, std::string* host,
                    std::string* port, std::string* error) {
  std::string v;
  if (env("COORDINATOOL_VERBOSE", &v)) {
    auto level = ParseLogLevel(v);
    if (!level) {
      *error = fmt::format("COORDINATOOL_VERBOSE: unknown log level '{}'", v);
      return false;
    }
    *verbose = *level;
  }
  if (env("COORDINATOOL_HOST", &v)) *host = v;
  if (env("COORDINATOOL_PORT", &v)) *port = v;
  return true;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const char* name, std::string* value) {
    const char* v = getenv(name);
    if (!v) return false;
    *value = v;
    return true;
  };
}

namespace {

// Checks of the policy keys against each other, once the whole file is read:
// each names the line of the entry it is about. A conflict that would make
// a rule or a key silently useless is an error; a key that merely has no
// effect is a warning, as the original ignores it.

// The first (or last) entry of `file` with a value whose key `matches`;
// entries without value were skipped, so they are not candidates.
template <typename Match>
const ConfigEntry* FindEntry(const ConfigText& file, bool last, Match matches) {
  const ConfigEntry* found = nullptr;
  for (const ConfigEntry& e : file.entries) {
    if (e.value.empty() || !matches(e.key)) continue;
    found = &e;
    if (!last) break;
  }
  return found;
}

const ConfigEntry* LastEntry(const ConfigText& file, std::string_view key) {
  return FindEntry(file, true,
                   [key](const std::string& k) { return k == key; });
}

// A host rule of either kind, for the checks across kinds.
struct RuleView {
  const char* key;
  int line;
  const std::string* tag;
  const std::vector<std::string>* hosts;
};

std::vector<RuleView> RulesByLine(const ServerSettings& s) {
  std::vector<RuleView> rules;
  for (const HostAffinityRule& r : s.archive_on_hosts)
    rules.push_back({"archive_on_hosts", r.line, &r.tag, &r.hosts});
  for (const ConsistentHashRule& r : s.archive_on_hosts_ch)
    rules.push_back({"archive_on_hosts_ch", r.line, &r.tag, &r.hosts});
  std::sort(
      rules.begin(), rules.end(),
      [](const RuleView& a, const RuleView& b) { return a.line < b.line; });
  return rules;
}

// "line 3" or "lines 3, 5": where the movers were declared.
std::string MoverLines(const ServerSettings& s) {
  std::vector<int> lines;
  for (int line : s.mover_lines)
    if (std::find(lines.begin(), lines.end(), line) == lines.end())
      lines.push_back(line);
  return fmt::format("{} {}", lines.size() == 1 ? "line" : "lines",
                     fmt::join(lines, ", "));
}

// What is wrong with rules[index], or empty when it is sound.
std::string RuleProblem(const ServerSettings& s,
                        const std::vector<RuleView>& rules, size_t index) {
  const RuleView& rule = rules[index];
  const std::vector<std::string>& hosts = *rule.hosts;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (std::find(hosts.begin(), hosts.begin() + i, hosts[i]) !=
        hosts.begin() + i)
      return fmt::format(
          "host '{}' listed twice: it would get twice its share of the {}",
          hosts[i],
          std::string_view(rule.key) == "archive_on_hosts" ? "draws"
                                                           : "hash ring");
    if (!s.movers.empty() &&
        std::find(s.movers.begin(), s.movers.end(), hosts[i]) == s.movers.end())
      return fmt::format("unknown host '{}' (not in movers, {})", hosts[i],
                         MoverLines(s));
  }
  // Rules are consulted last-first and one with hosts always yields a
  // mover: the last rule of a tag hides the earlier ones.
  for (size_t j = rules.size(); j-- > index + 1;)
    if (*rules[j].tag == *rule.tag)
      return fmt::format(
          "tag '{}' is also ruled at line {}, which takes precedence: this "
          "rule never applies",
          *rule.tag, rules[j].line);
  return "";
}

bool CheckHostRules(const ConfigText& file, const ServerSettings& s,
                    std::string* error) {
  std::vector<RuleView> rules = RulesByLine(s);
  for (size_t i = 0; i < rules.size(); ++i) {
    std::string problem = RuleProblem(s, rules, i);
    if (problem.empty()) continue;
    *error = EntryError(file, {rules[i].key, "", rules[i].line}, problem);
    return false;
  }
  return true;
}

bool CheckFairShare(const ConfigText& file, const ServerSettings& s,
                    std::string* error) {
  if (s.fair_share_weights.empty() || s.fair_share_by != "tag" ||
      !s.fair_share_tag.empty())
    return true;
  const ConfigEntry* weight = FindEntry(file, false, [](const std::string& k) {
    return k == "fair_share_weight";
  });
  *error = EntryError(
      file, weight ? *weight : ConfigEntry{"fair_share_weight", "", 0},
      "fair_share_weight without fair_share_tag or "
      "fair_share_by");
  return false;
}

void CheckBatching(const ConfigText& file, const ServerSettings& s,
                   std::vector<std::string>* warnings) {
  const ConfigEntry* slots = LastEntry(file, "batch_archives_slots_per_client");
  if (!slots || s.batching() || s.batch_slots_per_client == 0) return;
  warnings->push_back(EntryError(
      file, *slots,
      "batching is off (no batch_archives_slices_sec, or IDLE 0): ignored"));
}

// Reporting takes both keys: with one, it is turned off rather than
// half-configured.
void CheckReporting(const ConfigText& file, ServerSettings* s,
                    std::vector<std::string>* warnings) {
  if (s->reporting_dir.empty() == s->reporting_hint.empty()) return;
  const ConfigEntry* given = LastEntry(
      file, s->reporting_dir.empty() ? "reporting_hint" : "reporting_dir");
  warnings->push_back(EntryError(
      file, given ? *given : ConfigEntry{"reporting_dir", "", 0},
      "reporting needs both reporting_dir and reporting_hint; reporting off"));
  s->reporting_dir.clear();
  s->reporting_hint.clear();
}

void CheckStore(const ConfigText& file, const ServerSettings& s,
                std::vector<std::string>* warnings) {
  if (s.store != "none" || !s.redis_configured) return;
  const ConfigEntry* store = LastEntry(file, "store");
  const ConfigEntry* redis = FindEntry(file, false, [](const std::string& k) {
    return k.starts_with("redis_");
  });
  if (!store || !redis) return;
  warnings->push_back(EntryError(
      file, *store,
      fmt::format("store none keeps nothing: the redis_* keys (line {}) are "
                  "ignored",
                  redis->line)));
}

bool CheckServerPolicies(const ConfigText& file, ServerSettings* s,
                         std::vector<std::string>* warnings,
                         std::string* error) {
  if (!CheckHostRules(file, *s, error) || !CheckFairShare(file, *s, error))
    return false;
  CheckBatching(file, *s, warnings);
  CheckReporting(file, s, warnings);
  CheckStore(file, *s, warnings);
  return true;
}

}  // namespace

bool ApplyServerFile(const ConfigText& file, ServerSettings* settings,
                     std::vector<std::string>* warnings, std::string* error) {
  return ApplyFile(file, settings, warnings, error, ApplyServerEntry) &&
         CheckServerPolicies(file, settings, warnings, error);
}

bool ApplyClientFile(const ConfigText& file, ClientSettings* settings,
                     std::vector<std::string>* warnings, std::string* error) {
  return ApplyFile(file, settings, warnings, error, ApplyClientEntry);
}

bool ApplyServerEnv(const EnvLookup& env, ServerSettings* s,
                    std::vector<std::string>* warnings, std::string* error) {
  std::string v;
  if (!ApplyCommonEnv(env, &s->verbose, &s->host, &s->port, error))
    return false;
  for (const char* name :
       {"COORDINATOOL_REDIS_HOST", "COORDINATOOL_REDIS_PORT",
        "COORDINATOOL_REDIS_SOCKET", "COORDINATOOL_REDIS_USER",
        "COORDINATOOL_REDIS_PASSWORD"})
    if (env(name, &v)) s->redis_configured = true;
  if (env("COORDINATOOL_REDIS_HOST", &v)) s->redis_host = v;
  if (env("COORDINATOOL_REDIS_PORT", &v)) {
    auto port = ParseInteger(v, 0, 65535);
    if (port)
      s->redis_port = static_cast<uint16_t>(*port);
    else
      warnings->push_back(fmt::format(
          "COORDINATOOL_REDIS_PORT: '{}' is not a port, ignored", v));
  }
  if (env("COORDINATOOL_CLIENT_GRACE", &v)) {
    auto grace = ParseInteger(v, 0, INT64_MAX);
    if (!grace) {
      *error = fmt::format(
          "COORDINATOOL_CLIENT_GRACE: '{}' is not a number of milliseconds", v);
      return false;
    }
    s->client_grace_ms = *grace;
  }
  if (env("COORDINATOOL_REDIS_SOCKET", &v)) s->redis_socket = v;
  if (env("COORDINATOOL_REDIS_USER", &v)) s->redis_user = v;
  if (env("COORDINATOOL_REDIS_PASSWORD", &v)) s->redis_password = v;
  if (env("COORDINATOOL_STATE_DIR", &v)) s->state_dir = v;
  if (env("COORDINATOOL_STORE", &v)) {
    if (!IsStoreKind(v)) {
      *error = fmt::format(
          "COORDINATOOL_STORE: '{}' is not one of auto, redis, embedded, none",
          v);
      return false;
    }
    s->store = v;
  }
  if (env("COORDINATOOL_STALE_TIMEOUT_MS", &v)) {
    auto timeout = ParseInteger(v, 0, INT64_MAX);
    if (!timeout) {
      *error = fmt::format(
          "COORDINATOOL_STALE_TIMEOUT_MS: '{}' is not a number of "
          "milliseconds",
          v);
      return false;
    }
    s->stale_timeout_ms = *timeout;
  }
  struct {
    const char* name;
    int64_t min, max;
    int64_t* out;
    const char* unit;
  } numbers[] = {
      {"COORDINATOOL_MAX_CONNECTIONS", 0, 1 << 20, &s->max_connections,
       "number of connections"},
      {"COORDINATOOL_CONNECTION_MEMORY_MB", 1, 1 << 20,
       &s->connection_memory_mb, "number of MiB"},
      {"COORDINATOOL_LIVENESS_TIMEOUT_MS", 0, INT32_MAX,
       &s->liveness_timeout_ms, "number of milliseconds"},
      {"COORDINATOOL_HANDSHAKE_TIMEOUT_MS", 0, INT32_MAX,
       &s->handshake_timeout_ms, "number of milliseconds"},
      {"COORDINATOOL_OVERSIZED_TIMEOUT_MS", 0, INT64_MAX,
       &s->oversized_timeout_ms, "number of milliseconds"},
  };
  for (const auto& n : numbers) {
    if (!env(n.name, &v)) continue;
    auto value = ParseInteger(v, n.min, n.max);
    if (!value) {
      *error = fmt::format("{}: '{}' is not a {}", n.name, v, n.unit);
      return false;
    }
    *n.out = *value;
  }
  return true;
}

bool ApplyClientEnv(const EnvLookup& env, ClientSettings* s,
                    std::string* error) {
  std::string v;
  if (!ApplyCommonEnv(env, &s->verbose, &s->host, &s->port, error))
    return false;
  if (env("COORDINATOOL_CLIENT_ID", &v)) s->client_id = v;
  struct {
    const char* name;
    uint32_t* out;
  } sizes[] = {{"COORDINATOOL_MAX_RESTORE", &s->max_restore},
               {"COORDINATOOL_MAX_ARCHIVE", &s->max_archive},
               {"COORDINATOOL_MAX_REMOVE", &s->max_remove},
               {"COORDINATOOL_HAL_SIZE", &s->hal_size}};
  for (auto& size : sizes) {
    if (!env(size.name, &v)) continue;
    std::string warning, why;
    auto parsed = ParseSize(v, &warning, &why);
    if (!parsed) {
      *error = fmt::format("{}: {}", size.name, why);
      return false;
    }
    *size.out = *parsed;
  }
  return true;
}

namespace {

// Applies the configuration file, if any, with `apply`.
template <typename Settings, typename Apply>
bool LoadFile(const std::string& cli_path, const EnvLookup& env,
              Settings* settings, std::vector<std::string>* warnings,
              std::string* error, Apply apply) {
  ConfigPath path = ResolveConfigPath(cli_path, env);
  std::string read_error;
  auto file = ReadConfigFile(path.path, &read_error);
  if (!file) {
    if (!path.required) return true;
    *error = read_error;
    return false;
  }
  return apply(*file, settings, warnings, error);
}

}  // namespace

bool LoadServerSettings(const std::string& cli_path, const EnvLookup& env,
                        ServerSettings* settings,
                        std::vector<std::string>* warnings,
                        std::string* error) {
  return LoadFile(cli_path, env, settings, warnings, error, ApplyServerFile) &&
         ApplyServerEnv(env, settings, warnings, error);
}

bool LoadClientSettings(const std::string& cli_path, const EnvLookup& env,
                        ClientSettings* settings,
                        std::vector<std::string>* warnings,
                        std::string* error) {
  return LoadFile(cli_path, env, settings, warnings, error, ApplyClientFile) &&
         ApplyClientEnv(env, settings, error);
}

ConfigPath ResolveConfigPath(const std::string& cli_path,
                             const EnvLookup& env) {
  if (!cli_path.empty()) return {cli_path, true};
  std::string v;
  if (env("COORDINATOOL_CONF", &v) && !v.empty()) return {v, true};
  return {kDefaultConfigPath, false};
}

}  // namespace config
