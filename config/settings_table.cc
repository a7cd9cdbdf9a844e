#include "config/settings_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>

#include "config/config_file.h"
#include "config/host_list.h"

namespace config {

namespace {

using Source = ValueContext::Source;

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kUint32Max = std::numeric_limits<uint32_t>::max();
constexpr int64_t kMaxConnections = 1 << 20;

// The settings type and member type of a member pointer.
template <auto M>
struct Member;
template <typename S, typename T, T S::*M>
struct Member<M> {
  using Settings = S;
  using Type = T;
};
template <auto M>
using SettingsOf = typename Member<M>::Settings;

std::vector<std::string> SplitWords(std::string_view value) {
  std::istringstream in{std::string(value)};
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string NotAnInteger(std::string_view value, int64_t min, int64_t max,
                         const ValueContext& c) {
  if (c.source == Source::kEnvironment && c.unit)
    return fmt::format("'{}' is not a {}", value, c.unit);
  return fmt::format("'{}' is not an integer in {}..{}", value, min, max);
}

template <auto M>
bool Text(std::string_view value, SettingsOf<M>* s, ValueContext*) {
  s->*M = std::string(value);
  return true;
}

// yes/no, true/false, on/off, 1/0, in any case.
template <auto M>
bool Boolean(std::string_view value, SettingsOf<M>* s, ValueContext* c) {
  std::string lower(value);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
  if (lower == "yes" || lower == "true" || lower == "on" || lower == "1") {
    s->*M = true;
  } else if (lower == "no" || lower == "false" || lower == "off" ||
             lower == "0") {
    s->*M = false;
  } else {
    c->error = fmt::format("'{}' is not one of yes, no", value);
    return false;
  }
  return true;
}

template <auto M>
bool WordList(std::string_view value, SettingsOf<M>* s, ValueContext*) {
  s->*M = SplitWords(value);
  return true;
}

template <auto M, int64_t Min, int64_t Max>
bool Integer(std::string_view value, SettingsOf<M>* s, ValueContext* c) {
  auto parsed = ParseInteger(value, Min, Max);
  if (!parsed) {
    c->error = NotAnInteger(value, Min, Max, *c);
    return false;
  }
  s->*M = static_cast<typename Member<M>::Type>(*parsed);
  return true;
}

// A TCP port, kept as text (the resolver takes it as such) but checked
// here: "70000" or "-1" would otherwise wrap around or be taken for a
// service name. `Min` is 0 for the port the server binds (0: the system
// picks a free one, which tests use) and 1 for ports to connect to.
template <auto M, int64_t Min>
bool Port(std::string_view value, SettingsOf<M>* s, ValueContext* c) {
  // Decimal digits only, no leading zero: strtoll would read "010" as
  // octal 8, "0x10" as 16.
  const bool digits = !value.empty() && value.size() <= 5 &&
                      (value.size() == 1 || value.front() != '0') &&
                      std::all_of(value.begin(), value.end(), [](char ch) {
                        return ch >= '0' && ch <= '9';
                      });
  auto parsed = digits ? ParseInteger(value, Min, 65535) : std::nullopt;
  if (!parsed) {
    c->error =
        fmt::format("'{}' is not a port number in {}..65535", value, Min);
    return false;
  }
  s->*M = std::to_string(*parsed);
  return true;
}

template <auto M, int64_t Min, int64_t Max>
bool AppendInteger(std::string_view value, SettingsOf<M>* s, ValueContext* c) {
  auto parsed = ParseInteger(value, Min, Max);
  if (!parsed) {
    c->error = NotAnInteger(value, Min, Max, *c);
    return false;
  }
  (s->*M).push_back(static_cast<typename Member<M>::Type::value_type>(*parsed));
  return true;
}

template <auto M>
void Clear(SettingsOf<M>* s) {
  (s->*M).clear();
}

template <auto M>
bool LogLevel(std::string_view value, SettingsOf<M>* s, ValueContext* c) {
  auto level = ParseLogLevel(value);
  if (!level) {
    c->error = fmt::format(
        "unknown log level '{}': one of off, fatal, error, warn, normal, "
        "info, debug",
        value);
    return false;
  }
  s->*M = *level;
  return true;
}

template <auto M>
bool Size(std::string_view value, SettingsOf<M>* s, ValueContext* c) {
  std::string warning;
  auto size = ParseSize(value, &warning, &c->error);
  if (!size) return false;
  if (!warning.empty()) c->warnings.push_back(warning);
  s->*M = *size;
  return true;
}

// Any redis_* key given, even with a value refused later, means the site
// wants Redis: store auto then picks it (settings.h, redis_configured).
template <ServerSetting::Apply Inner>
bool Redis(std::string_view value, ServerSettings* s, ValueContext* c) {
  s->redis_configured = true;
  return Inner(value, s, c);
}

// redis_sentinels HOST:PORT...: the whole list (a later line replaces it).
bool RedisSentinels(std::string_view value, ServerSettings* s,
                    ValueContext* c) {
  auto words = SplitWords(value);
  for (const std::string& word : words) {
    if (!ParseHostPort(word)) {
      c->error = fmt::format(
          "'{}' is not HOST:PORT (port in 1..65535, [v6]:PORT for IPv6)", word);
      return false;
    }
  }
  s->redis_sentinels = std::move(words);
  return true;
}

// ha_advertise HOST:PORT: the address a standby names (one word).
bool HaAdvertise(std::string_view value, ServerSettings* s, ValueContext* c) {
  if (!ParseHostPort(value)) {
    c->error = fmt::format(
        "'{}' is not HOST:PORT (port in 1..65535, [v6]:PORT for IPv6)", value);
    return false;
  }
  s->ha_advertise = std::string(value);
  return true;
}

// A `host` value of the client side: several servers (config/host_list.h).
bool HostList(std::string_view value, ClientSettings* s, ValueContext* c) {
  return SplitHostList(value, &s->hosts, &c->error);
}

bool TlsClientCert(std::string_view value, ServerSettings* s, ValueContext* c) {
  if (value != "none" && value != "optional" && value != "required") {
    c->error =
        fmt::format("'{}' is not one of none, optional, required", value);
    return false;
  }
  s->tls_client_cert = std::string(value);
  return true;
}

bool Store(std::string_view value, ServerSettings* s, ValueContext* c) {
  auto kind = ParseStoreKind(value);
  if (!kind) {
    c->error =
        fmt::format("'{}' is not one of auto, redis, embedded, none", value);
    return false;
  }
  s->store = *kind;
  return true;
}

bool FairShareByValue(std::string_view value, ServerSettings* s,
                      ValueContext* c) {
  auto by = ParseFairShareBy(value);
  if (!by) {
    c->error = fmt::format("'{}' is not one of tag, uid, gid, projid", value);
    return false;
  }
  s->fair_share_by = *by;
  return true;
}

bool ArchiveOnHosts(std::string_view value, ServerSettings* s,
                    ValueContext* c) {
  auto words = SplitWords(value);
  if (words.size() < 2) {
    c->warnings.push_back("no host given, line ignored");
    return true;
  }
  s->archive_on_hosts.push_back(
      {words[0], {words.begin() + 1, words.end()}, c->line});
  return true;
}

bool ArchiveOnHostsCh(std::string_view value, ServerSettings* s,
                      ValueContext* c) {
  auto words = SplitWords(value);
  if (words.size() < 3) {
    c->error = "expected TAG COUNT HOST [HOST...]";
    return false;
  }
  auto count = ParseInteger(words[1], 0, kUint32Max);
  if (!count) {
    c->error = fmt::format("COUNT '{}' is not an integer in 0..{}", words[1],
                           kUint32Max);
    return false;
  }
  s->archive_on_hosts_ch.push_back({words[0],
                                    static_cast<uint32_t>(*count),
                                    {words.begin() + 2, words.end()},
                                    c->line});
  return true;
}

// IDLE [MAX] seconds of a slice (archive batches, tape media).
bool Slices(std::string_view value, ValueContext* c, uint32_t* idle_sec,
            uint32_t* max_sec) {
  auto words = SplitWords(value);
  auto idle =
      words.empty() ? std::nullopt : ParseInteger(words[0], 0, kUint32Max);
  auto max = words.size() < 2 ? std::optional<int64_t>(0)
                              : ParseInteger(words[1], 0, kUint32Max);
  if (!idle || !max || words.size() > 2) {
    c->error = "expected IDLE [MAX] in seconds";
    return false;
  }
  if (*max != 0 && *max < *idle) {
    c->error = fmt::format("MAX ({}) shorter than IDLE ({})", *max, *idle);
    return false;
  }
  *idle_sec = static_cast<uint32_t>(*idle);
  *max_sec = static_cast<uint32_t>(*max);
  return true;
}

bool Batch(std::string_view value, ServerSettings* s, ValueContext* c) {
  return Slices(value, c, &s->batch_idle_sec, &s->batch_max_sec);
}

bool RestoreSlices(std::string_view value, ServerSettings* s, ValueContext* c) {
  return Slices(value, c, &s->restore_slice_idle_sec,
                &s->restore_slice_max_sec);
}

// reporting_dir is joined to the mount point: it must stay under it.
bool IsBelowMount(std::string_view dir) {
  if (dir.starts_with('/')) return false;
  for (size_t start = 0; start <= dir.size();) {
    size_t end = std::min(dir.find('/', start), dir.size());
    if (dir.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

bool ReportingDir(std::string_view value, ServerSettings* s, ValueContext* c) {
  if (!IsBelowMount(value)) {
    c->error = fmt::format(
        "'{}' must be relative to the mount point, without '..'", value);
    return false;
  }
  s->reporting_dir = std::string(value);
  return true;
}

bool FairShareWeight(std::string_view value, ServerSettings* s,
                     ValueContext* c) {
  auto words = SplitWords(value);
  auto weight =
      words.size() == 2 ? ParseInteger(words[1], 1, 1000000) : std::nullopt;
  if (!weight) {
    c->error = "expected OWNER WEIGHT (1..1000000)";
    return false;
  }
  if (s->fair_share_weights.contains(words[0])) {
    c->error = fmt::format("weight of '{}' given twice", words[0]);
    return false;
  }
  s->fair_share_weights[words[0]] = static_cast<uint32_t>(*weight);
  return true;
}

// Appends the hosts of a `movers` line; a host listed again is harmless.
bool Movers(std::string_view value, ServerSettings* s, ValueContext* c) {
  for (std::string& host : SplitWords(value)) {
    auto it = std::find(s->movers.begin(), s->movers.end(), host);
    if (it != s->movers.end()) {
      c->warnings.push_back(
          fmt::format("host '{}' already listed at line {}", host,
                      s->mover_lines[it - s->movers.begin()]));
      continue;
    }
    s->movers.push_back(std::move(host));
    s->mover_lines.push_back(c->line);
  }
  return true;
}

// An errno by name (EIO) or number; nullopt if neither.
std::optional<int> ErrnoOf(std::string_view word) {
  if (auto n = ParseInteger(word, 1, 4095)) return static_cast<int>(*n);
  for (int e = 1; e < 4096; ++e) {
    const char* name = strerrorname_np(e);
    if (name && word == name) return e;
  }
  return std::nullopt;
}

// retry_errors ACTION ERRNO...: a file line adds to the action's list; the
// environment (several entries separated by ';') replaces the lists it
// names.
bool RetryErrors(std::string_view value, ClientSettings* s, ValueContext* c) {
  std::vector<std::pair<std::vector<int>*, std::vector<int>>> parsed;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = c->source == ValueContext::Source::kEnvironment
                     ? std::min(value.find(';', start), value.size())
                     : value.size();
    auto words = SplitWords(value.substr(start, end - start));
    start = end + 1;
    if (words.empty() && c->source == ValueContext::Source::kEnvironment)
      continue;
    if (words.size() < 2) {
      c->error = "expected ACTION ERRNO... (e.g. archive EIO ETIMEDOUT)";
      return false;
    }
    std::vector<int>* list = nullptr;
    if (words[0] == "archive") {
      list = &s->retry_errors_archive;
    } else if (words[0] == "remove") {
      list = &s->retry_errors_remove;
    } else if (words[0] == "restore") {
      c->error =
          "restores cannot be retried: Lustre sends a retried restore again "
          "bound to the failed copy's volatile file, and refuses the next "
          "copy's end (docs/policies.md, Retries)";
      return false;
    } else {
      c->error = fmt::format("unknown action '{}': expected archive or remove",
                             words[0]);
      return false;
    }
    std::vector<int> errnos;
    for (size_t i = 1; i < words.size(); ++i) {
      auto e = ErrnoOf(words[i]);
      if (!e) {
        c->error = fmt::format("'{}' is not an errno name or number", words[i]);
        return false;
      }
      if (*e == ECANCELED || *e == ENOSYS) {
        c->error = fmt::format(
            "{} cannot be retried: Lustre reads it as the end of a cancel",
            words[i]);
        return false;
      }
      if (std::find(errnos.begin(), errnos.end(), *e) == errnos.end())
        errnos.push_back(*e);
    }
    parsed.emplace_back(list, std::move(errnos));
  }
  for (auto& [list, errnos] : parsed) {
    if (c->source == ValueContext::Source::kEnvironment) list->clear();
    for (int e : errnos)
      if (std::find(list->begin(), list->end(), e) == list->end())
        list->push_back(e);
  }
  return true;
}

constexpr const char* kMilliseconds = "number of milliseconds";

using S = ServerSettings;

const ServerSetting kServerSettings[] = {
    {.key = "host",
     .env = "COORDINATOOL_HOST",
     .option = "-H,--host",
     .value = "HOST",
     .help = "address to bind",
     .apply = Text<&S::host>},
    {.key = "port",
     .env = "COORDINATOOL_PORT",
     .option = "-p,--port",
     .value = "PORT",
     .help = "port to bind (0: any free port)",
     .apply = Port<&S::port, 0>},
    {.key = "http_port",
     .env = "COORDINATOOL_HTTP_PORT",
     .option = "--http-port",
     .value = "PORT",
     .help = "port of the HTTP listener: metrics and dashboard (0: off)",
     .apply = Port<&S::http_port, 0>},
    {.key = "verbose",
     .env = "COORDINATOOL_VERBOSE",
     .value = "LEVEL",
     .help = "log level: off, fatal, error, warn, normal, info, debug",
     .apply = LogLevel<&S::verbose>},
    {.key = "archive_id",
     .option = "-A,--archive",
     .value = "ID",
     .help = "archive id to register for (repeatable)",
     .apply = AppendInteger<&S::archive_ids, 1, kInt32Max>,
     .clear = Clear<&S::archive_ids>},
    {.key = "redis_host",
     .env = "COORDINATOOL_REDIS_HOST",
     .option = "--redis-host",
     .value = "HOST",
     .help = "Redis host (empty: no Redis)",
     .apply = Redis<Text<&S::redis_host>>},
    {.key = "redis_port",
     .env = "COORDINATOOL_REDIS_PORT",
     .option = "--redis-port",
     .value = "PORT",
     .help = "Redis port",
     .apply = Redis<Integer<&S::redis_port, 1, 65535>>,
     .unit = "port",
     .env_bad_is_warning = true},
    {.key = "redis_socket",
     .env = "COORDINATOOL_REDIS_SOCKET",
     .option = "--redis-socket",
     .value = "PATH",
     .help = "Redis unix socket (instead of host and port)",
     .apply = Redis<Text<&S::redis_socket>>},
    {.key = "redis_user",
     .env = "COORDINATOOL_REDIS_USER",
     .option = "--redis-user",
     .value = "USER",
     .help = "Redis ACL user",
     .apply = Redis<Text<&S::redis_user>>},
    {.key = "redis_password",
     .env = "COORDINATOOL_REDIS_PASSWORD",
     .option = "--redis-password",
     .value = "PASSWORD",
     .help = "Redis password (prefer COORDINATOOL_REDIS_PASSWORD)",
     .apply = Redis<Text<&S::redis_password>>},
    {.key = "redis_sentinels",
     .env = "COORDINATOOL_REDIS_SENTINELS",
     .option = "--redis-sentinels",
     .value = "HOST:PORT...",
     .help = "Redis sentinels to find the master through (with "
             "redis_master_name; replaces redis_host, redis_port, "
             "redis_socket)",
     .apply = Redis<RedisSentinels>},
    {.key = "redis_master_name",
     .env = "COORDINATOOL_REDIS_MASTER_NAME",
     .option = "--redis-master-name",
     .value = "NAME",
     .help = "name the sentinels monitor the Redis master under",
     .apply = Redis<Text<&S::redis_master_name>>},
    {.key = "redis_wait_replicas",
     .env = "COORDINATOOL_REDIS_WAIT_REPLICAS",
     .option = "--redis-wait-replicas",
     .value = "N",
     .help = "Redis replicas that must have a change (WAIT) before it counts "
             "as stored (0: the master's reply is enough)",
     .apply = Redis<Integer<&S::redis_wait_replicas, 0, 1000>>},
    {.key = "redis_wait_timeout_ms",
     .env = "COORDINATOOL_REDIS_WAIT_TIMEOUT_MS",
     .option = "--redis-wait-timeout",
     .value = "MS",
     .help = "milliseconds WAIT waits for the replicas before the change is "
             "retried (the store is unwritable meanwhile)",
     .apply = Redis<Integer<&S::redis_wait_timeout_ms, 1, 600000>>,
     .unit = kMilliseconds},
    {.key = "ha_lease_ms",
     .env = "COORDINATOOL_HA_LEASE_MS",
     .option = "--ha-lease",
     .value = "MS",
     .help = "high availability: the leader's lease in Redis, in "
             "milliseconds (0: off; needs the Redis store)",
     .apply = Integer<&S::ha_lease_ms, 0, 3600000>,
     .unit = kMilliseconds},
    {.key = "ha_advertise",
     .env = "COORDINATOOL_HA_ADVERTISE",
     .option = "--ha-advertise",
     .value = "HOST:PORT",
     .help = "high availability: the address standbys send movers and "
             "clients to while this server leads (default: host:port)",
     .apply = HaAdvertise},
    {.key = "store",
     .env = "COORDINATOOL_STORE",
     .option = "--store",
     .value = "KIND",
     .help = "where the state goes: auto, redis, embedded, none",
     .apply = Store},
    {.key = "store",
     .option = "--no-store",
     .help = "keep the state in memory only (same as --store none)",
     .apply = Store,
     .flag_value = "none"},
    {.key = "state_dir",
     .env = "COORDINATOOL_STATE_DIR",
     .option = "--state-dir",
     .value = "DIR",
     .help = "directory of the embedded store (default "
             "/var/lib/coordinatool/FSNAME)",
     .apply = Text<&S::state_dir>},
    {.key = "stale_timeout_ms",
     .env = "COORDINATOOL_STALE_TIMEOUT_MS",
     .option = "--stale-timeout",
     .value = "MS",
     .help = "milliseconds without progress after which a running item is "
             "taken back (0: never)",
     .apply = Integer<&S::stale_timeout_ms, 0, kInt64Max>,
     .unit = kMilliseconds},
    {.key = "client_grace_ms",
     .env = "COORDINATOOL_CLIENT_GRACE",
     .option = "--client-grace",
     .value = "MS",
     .help = "milliseconds a disconnected mover keeps its work",
     .apply = Integer<&S::client_grace_ms, 0, kInt64Max>,
     .unit = kMilliseconds},
    {.key = "max_connections",
     .env = "COORDINATOOL_MAX_CONNECTIONS",
     .option = "--max-connections",
     .value = "N",
     .help = "connections served at once (0: from the descriptor limit)",
     .apply = Integer<&S::max_connections, 0, kMaxConnections>,
     .unit = "number of connections"},
    {.key = "connection_memory_mb",
     .env = "COORDINATOOL_CONNECTION_MEMORY_MB",
     .option = "--connection-memory",
     .value = "MIB",
     .help = "MiB the messages of one connection may use while parsed",
     .apply = Integer<&S::connection_memory_mb, 1, kMaxConnections>,
     .unit = "number of MiB"},
    {.key = "liveness_timeout_ms",
     .env = "COORDINATOOL_LIVENESS_TIMEOUT_MS",
     .option = "--liveness-timeout",
     .value = "MS",
     .help = "milliseconds of silence after which a mover connection is dead "
             "(0: never)",
     .apply = Integer<&S::liveness_timeout_ms, 0, kInt32Max>,
     .unit = kMilliseconds},
    {.key = "handshake_timeout_ms",
     .env = "COORDINATOOL_HANDSHAKE_TIMEOUT_MS",
     .option = "--handshake-timeout",
     .value = "MS",
     .help = "milliseconds a new connection has to send ehlo (0: no bound)",
     .apply = Integer<&S::handshake_timeout_ms, 0, kInt32Max>,
     .unit = kMilliseconds},
    {.key = "oversized_timeout_ms",
     .env = "COORDINATOOL_OVERSIZED_TIMEOUT_MS",
     .option = "--oversized-timeout",
     .value = "MS",
     .help = "milliseconds before an item no mover's buffer fits is failed "
             "(0: never)",
     .apply = Integer<&S::oversized_timeout_ms, 0, kInt64Max>,
     .unit = kMilliseconds},
    {.key = "tls_cert",
     .env = "COORDINATOOL_TLS_CERT",
     .option = "--tls-cert",
     .value = "PEM",
     .help = "server certificate (and chain): TLS on the port",
     .apply = Text<&S::tls_cert>},
    {.key = "tls_key",
     .env = "COORDINATOOL_TLS_KEY",
     .option = "--tls-key",
     .value = "PEM",
     .help = "private key of tls_cert (default: in the tls_cert file)",
     .apply = Text<&S::tls_key>},
    {.key = "tls_ca",
     .env = "COORDINATOOL_TLS_CA",
     .option = "--tls-ca",
     .value = "PEM",
     .help = "CA bundle verifying client certificates",
     .apply = Text<&S::tls_ca>},
    {.key = "tls_client_cert",
     .env = "COORDINATOOL_TLS_CLIENT_CERT",
     .option = "--tls-client-cert",
     .value = "none|optional|required",
     .help = "client certificates (default: optional with tls_ca, else none)",
     .apply = TlsClientCert},
    {.key = "allow_insecure",
     .env = "COORDINATOOL_ALLOW_INSECURE",
     .option = "--allow-insecure",
     .value = "yes|no",
     .help = "listen on a host other than loopback without TLS and "
             "authentication (docs/security.md)",
     .apply = Boolean<&S::allow_insecure>},
    {.key = "queue_check_lustre",
     .env = "COORDINATOOL_QUEUE_CHECK_LUSTRE",
     .option = "--queue-check-lustre",
     .value = "yes|no",
     .help = "queue takes only requests Lustre holds (false: any, for "
             "benchmarks and tests only)",
     .apply = Boolean<&S::queue_check_lustre>},
    {.key = "movers",
     .value = "HOST...",
     .help = "the mover ids this site runs (repeatable)",
     .apply = Movers},
    {.key = "archive_on_hosts",
     .value = "TAG HOST...",
     .help = "archives whose data holds TAG go to one of the HOSTs",
     .apply = ArchiveOnHosts},
    {.key = "archive_on_hosts_ch",
     .value = "TAG COUNT HOST...",
     .help = "archives whose data holds TAG go to a HOST by hash of its value",
     .apply = ArchiveOnHostsCh},
    {.key = "batch_archives_slices_sec",
     .value = "IDLE [MAX]",
     .help = "archive batching by hint: slice idle and maximum seconds",
     .apply = Batch},
    {.key = "batch_archives_slice_sec",
     .value = "IDLE [MAX]",
     .help = "same as batch_archives_slices_sec",
     .apply = Batch},
    {.key = "batch_archives_slots_per_client",
     .value = "N",
     .help = "batch slots per mover",
     .apply = Integer<&S::batch_slots_per_client, 0, 1024>},
    {.key = "batch_restores_slices_sec",
     .value = "IDLE [MAX]",
     .help = "recalls in tape order: a medium's slice idle and maximum "
             "seconds",
     .apply = RestoreSlices},
    {.key = "restore_media_per_mover",
     .value = "N",
     .help = "recalls in tape order: media a mover holds at once",
     .apply = Integer<&S::restore_media_per_mover, 1, 1024>},
    {.key = "reporting_dir",
     .value = "DIR",
     .help = "report files directory, relative to the mount point",
     .apply = ReportingDir},
    {.key = "reporting_hint",
     .value = "NAME",
     .help = "the data tag naming an item's report file",
     .apply = Text<&S::reporting_hint>},
    {.key = "reporting_schedule_interval_ms",
     .value = "MS",
     .help = "period of the progress lines in report files (0: none)",
     .apply = Integer<&S::reporting_schedule_interval_ms, 0, kInt64Max>},
    {.key = "fair_share_tag",
     .value = "TAG",
     .help = "restores are shared between the values of this data tag",
     .apply = Text<&S::fair_share_tag>},
    {.key = "fair_share_by",
     .value = "tag|uid|gid|projid",
     .help = "whose share a restore counts against",
     .apply = FairShareByValue},
    {.key = "fair_share_weight",
     .value = "OWNER WEIGHT",
     .help = "an owner's weight in the fair share (default 1)",
     .apply = FairShareWeight},
    {.key = "archive_max_wait_sec",
     .value = "SEC",
     .help = "archives older than this go before restores (0: off)",
     .apply = Integer<&S::archive_max_wait_sec, 0, kInt32Max>},
    {.key = "restore_blocking_share",
     .value = "PERCENT",
     .help = "blocking restores first, at most this share while others wait "
             "(0: off)",
     .apply = Integer<&S::restore_blocking_share, 0, 99>},
    {.key = "max_running_restores_per_owner",
     .value = "N",
     .help = "restores of one fair-share owner running at once (0: no limit)",
     .apply = Integer<&S::max_running_restores_per_owner, 0, 1000000>},
    {.key = "max_queued_restores_per_owner",
     .value = "N",
     .help = "restores of one fair-share owner queued at once, beyond which "
             "new ones fail with EDQUOT (0: no cap)",
     .apply = Integer<&S::max_queued_restores_per_owner, 0, 100000000>},
    {.key = "restore_locality_command",
     .value = "CMD ARG...",
     .help = "helper naming the preferred mover of each new restore",
     .apply = WordList<&S::restore_locality_command>},
    {.key = "restore_locality_timeout_ms",
     .value = "MS",
     .help = "how long one locality lookup may take",
     .apply = Integer<&S::restore_locality_timeout_ms, 1, kInt32Max>},
    {.key = "retry_max_attempts",
     .value = "N",
     .help = "attempts of a request its movers end with HP_FLAG_RETRY",
     .apply = Integer<&S::retry_max_attempts, 1, 1000>},
    {.key = "auth_file",
     .env = "COORDINATOOL_AUTH_FILE",
     .option = "--auth-file",
     .value = "PATH",
     .help = "roles of tokens and certificates (empty: no authentication)",
     .apply = Text<&S::auth_file>},
};

using C = ClientSettings;

const ClientSetting kClientSettings[] = {
    {.key = "host",
     .env = "COORDINATOOL_HOST",
     .option = "-H,--host",
     .value = "HOST[,HOST...]",
     .help = "server hosts, tried in order (HOST or HOST:PORT; repeatable)",
     .apply = HostList,
     .clear = Clear<&C::hosts>},
    {.key = "port",
     .env = "COORDINATOOL_PORT",
     .option = "-p,--port",
     .value = "PORT",
     .help = "server port",
     .apply = Port<&C::port, 1>},
    {.key = "verbose",
     .env = "COORDINATOOL_VERBOSE",
     .value = "LEVEL",
     .help = "log level: off, fatal, error, warn, normal, info, debug",
     .apply = LogLevel<&C::verbose>},
    {.key = "client_id",
     .env = "COORDINATOOL_CLIENT_ID",
     .value = "ID",
     .help = "the mover's id (default: the host name up to its first dot)",
     .apply = Text<&C::client_id>},
    {.key = "max_restore",
     .env = "COORDINATOOL_MAX_RESTORE",
     .value = "SIZE",
     .help = "restores a mover runs at once (-1: unlimited)",
     .apply = Size<&C::max_restore>},
    {.key = "max_archive",
     .env = "COORDINATOOL_MAX_ARCHIVE",
     .value = "SIZE",
     .help = "archives a mover runs at once (-1: unlimited)",
     .apply = Size<&C::max_archive>},
    {.key = "max_remove",
     .env = "COORDINATOOL_MAX_REMOVE",
     .value = "SIZE",
     .help = "removes a mover runs at once (-1: unlimited)",
     .apply = Size<&C::max_remove>},
    {.key = "hal_size",
     .env = "COORDINATOOL_HAL_SIZE",
     .value = "SIZE",
     .help = "bytes of the mover's receive buffer",
     .apply = Size<&C::hal_size>},
    {.key = "client_tls",
     .env = "COORDINATOOL_CLIENT_TLS",
     .value = "yes|no",
     .help = "connect to the server with TLS",
     .apply = Boolean<&C::client_tls>},
    {.key = "client_tls_ca",
     .env = "COORDINATOOL_CLIENT_TLS_CA",
     .value = "FILE",
     .help = "CA bundle verifying the server (sets client_tls)",
     .apply = Text<&C::client_tls_ca>},
    {.key = "client_tls_cert",
     .env = "COORDINATOOL_CLIENT_TLS_CERT",
     .value = "FILE",
     .help = "certificate shown to the server (PEM)",
     .apply = Text<&C::client_tls_cert>},
    {.key = "client_tls_key",
     .env = "COORDINATOOL_CLIENT_TLS_KEY",
     .value = "FILE",
     .help = "private key of client_tls_cert (PEM)",
     .apply = Text<&C::client_tls_key>},
    {.key = "client_tls_server_name",
     .env = "COORDINATOOL_CLIENT_TLS_SERVER_NAME",
     .value = "NAME",
     .help = "name the server's certificate must carry (default: host)",
     .apply = Text<&C::client_tls_server_name>},
    {.key = "token_file",
     .env = "COORDINATOOL_TOKEN_FILE",
     .option = "--token-file",
     .value = "PATH",
     .help = "file holding the token sent to the server (mode 600)",
     .apply = Text<&C::token_file>},
    {.key = "connect_wait_ms",
     .env = "COORDINATOOL_CONNECT_WAIT_MS",
     .value = "MS",
     .help = "how long a mover waits for the server at start (-1: for ever, "
             "0: not at all)",
     .apply = Integer<&C::connect_wait_ms, -1, kInt64Max>,
     .unit = kMilliseconds},
    {.key = "retry_errors",
     .env = "COORDINATOOL_RETRY_ERRORS",
     .value = "ACTION ERRNO...",
     .help = "errors of a copytool's archive or remove ended as retryable",
     .apply = RetryErrors},
};

}  // namespace

std::span<const ServerSetting> ServerSettingTable() { return kServerSettings; }
std::span<const ClientSetting> ClientSettingTable() { return kClientSettings; }

}  // namespace config
