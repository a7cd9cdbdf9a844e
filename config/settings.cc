#include "config/settings.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

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
                                       "archive_max_wait_sec"};
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
    auto words = Words(e.value);
    auto idle =
        words.empty() ? std::nullopt : ParseInteger(words[0], 0, UINT32_MAX);
    auto max = words.size() < 2 ? std::optional<int64_t>(0)
                                : ParseInteger(words[1], 0, UINT32_MAX);
    if (!idle || !max || words.size() > 2) {
      *error = EntryError(file, e, "expected IDLE [MAX] in seconds");
      return false;
    }
    s->batch_idle_sec = static_cast<uint32_t>(*idle);
    s->batch_max_sec = static_cast<uint32_t>(*max);
  } else if (k == "batch_archives_slots_per_client") {
    return IntegerEntry(file, e, 0, 1024, &s->batch_slots_per_client, error);
  } else if (k == "reporting_dir") {
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

bool ApplyServerFile(const ConfigText& file, ServerSettings* settings,
                     std::vector<std::string>* warnings, std::string* error) {
  return ApplyFile(file, settings, warnings, error, ApplyServerEntry);
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
