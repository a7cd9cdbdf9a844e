#include "config/settings.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <string_view>

#include "config/settings_table.h"

namespace config {

namespace {

template <typename E>
struct Named {
  std::string_view name;
  E value;
};

constexpr Named<StoreKind> kStoreKinds[] = {{"auto", StoreKind::kAuto},
                                            {"redis", StoreKind::kRedis},
                                            {"embedded", StoreKind::kEmbedded},
                                            {"none", StoreKind::kNone}};
constexpr Named<FairShareBy> kFairShareBys[] = {
    {"tag", FairShareBy::kTag},
    {"uid", FairShareBy::kUid},
    {"gid", FairShareBy::kGid},
    {"projid", FairShareBy::kProjid}};

template <typename E, size_t N>
std::string_view NameIn(const Named<E> (&names)[N], E value) {
  for (const Named<E>& n : names)
    if (n.value == value) return n.name;
  return "?";
}

template <typename E, size_t N>
std::optional<E> ValueIn(const Named<E> (&names)[N], std::string_view name) {
  for (const Named<E>& n : names)
    if (n.name == name) return n.value;
  return std::nullopt;
}

}  // namespace

std::string_view Name(StoreKind kind) { return NameIn(kStoreKinds, kind); }
std::string_view Name(FairShareBy by) { return NameIn(kFairShareBys, by); }

std::optional<StoreKind> ParseStoreKind(std::string_view name) {
  return ValueIn(kStoreKinds, name);
}

std::optional<FairShareBy> ParseFairShareBy(std::string_view name) {
  return ValueIn(kFairShareBys, name);
}

std::ostream& operator<<(std::ostream& out, StoreKind kind) {
  return out << Name(kind);
}

std::ostream& operator<<(std::ostream& out, FairShareBy by) {
  return out << Name(by);
}

namespace {

// Applies the file's entries with the rows of `table`; keys of
// `other_table` (the other program's) are skipped silently, others warned
// about.
template <typename Settings, typename Other>
bool ApplyFile(const ConfigText& file, std::span<const Setting<Settings>> table,
               std::span<const Setting<Other>> other_table, Settings* settings,
               std::vector<std::string>* warnings, std::string* error) {
  for (const ConfigEntry& entry : file.entries) {
    if (entry.value.empty()) {
      warnings->push_back(EntryError(file, entry, "no value, line ignored"));
      continue;
    }
    const Setting<Settings>* row = FindSetting(table, entry.key);
    if (!row) {
      if (!FindSetting(other_table, entry.key))
        warnings->push_back(EntryError(file, entry, "unknown key, ignored"));
      continue;
    }
    ValueContext context{.source = ValueContext::Source::kFile,
                         .line = entry.line,
                         .unit = row->unit};
    bool ok = row->apply(entry.value, settings, &context);
    for (const std::string& w : context.warnings)
      warnings->push_back(EntryError(file, entry, w));
    if (!ok) {
      *error = EntryError(file, entry, context.error);
      return false;
    }
  }
  return true;
}

// Applies the COORDINATOOL_* variables of the rows of `table`, in table
// order. Remarks go to *warnings when given.
template <typename Settings>
bool ApplyEnv(const EnvLookup& env, std::span<const Setting<Settings>> table,
              Settings* settings, std::vector<std::string>* warnings,
              std::string* error) {
  std::string value;
  for (const Setting<Settings>& row : table) {
    if (!row.env || row.flag_value || !env(row.env, &value)) continue;
    ValueContext context{.source = ValueContext::Source::kEnvironment,
                         .unit = row.unit};
    // A list key's variable replaces the file's list, as an option does
    // (a refused value is an error: nothing is left to use the list).
    if (row.clear && !row.env_bad_is_warning) row.clear(settings);
    bool ok = row.apply(value, settings, &context);
    if (warnings)
      for (const std::string& w : context.warnings)
        warnings->push_back(fmt::format("{}: {}", row.env, w));
    if (ok) continue;
    if (row.env_bad_is_warning) {
      if (warnings)
        warnings->push_back(
            fmt::format("{}: {}, ignored", row.env, context.error));
      continue;
    }
    *error = fmt::format("{}: {}", row.env, context.error);
    return false;
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
  if (s.fair_share_by != FairShareBy::kTag || !s.fair_share_tag.empty())
    return true;
  // Per-owner limits count by the fair-share owner: without one, every
  // restore would be one owner's.
  const std::pair<const char*, uint32_t> limits[] = {
      {"max_running_restores_per_owner", s.max_running_restores_per_owner},
      {"max_queued_restores_per_owner", s.max_queued_restores_per_owner}};
  for (const auto& [key, value] : limits) {
    if (value == 0) continue;
    const std::string name = key;
    const ConfigEntry* limit = FindEntry(
        file, false, [&name](const std::string& k) { return k == name; });
    *error = EntryError(file, limit ? *limit : ConfigEntry{name, "", 0},
                        name + " without fair_share_tag or fair_share_by");
    return false;
  }
  if (s.fair_share_weights.empty()) return true;
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
  if (s.store != StoreKind::kNone || !s.redis_configured) return;
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
  return ApplyFile(file, ServerSettingTable(), ClientSettingTable(), settings,
                   warnings, error) &&
         CheckServerPolicies(file, settings, warnings, error);
}

bool ApplyClientFile(const ConfigText& file, ClientSettings* settings,
                     std::vector<std::string>* warnings, std::string* error) {
  return ApplyFile(file, ClientSettingTable(), ServerSettingTable(), settings,
                   warnings, error);
}

bool ApplyServerEnv(const EnvLookup& env, ServerSettings* settings,
                    std::vector<std::string>* warnings, std::string* error) {
  return ApplyEnv(env, ServerSettingTable(), settings, warnings, error);
}

bool ApplyClientEnv(const EnvLookup& env, ClientSettings* settings,
                    std::string* error) {
  return ApplyEnv(env, ClientSettingTable(), settings, nullptr, error);
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
