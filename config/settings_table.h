// The one list of settings: for each key of the configuration file, its
// environment variable, its command-line option, the form of its value, its
// help line and how a value is parsed into ServerSettings or ClientSettings.
// The file parser, the environment, the command line (config/command_line.h)
// and --help are all driven by these two tables; docs/configuration.md
// describes every key and a test checks that the two agree.
//
// Adding a key: a member in settings.h, a row here (settings_table.cc), a
// row and a paragraph in docs/configuration.md.
//
// Thread-safety: the tables are immutable after first use.
#ifndef CONFIG_SETTINGS_TABLE_H_
#define CONFIG_SETTINGS_TABLE_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.h"

namespace config {

// Where a value comes from, and what its messages look like.
struct ValueContext {
  enum class Source { kFile, kEnvironment, kCommandLine };
  Source source = Source::kFile;
  int line = 0;  // in the file; 0 elsewhere
  // From the row (Setting::unit): what an integer counts, for the
  // environment's messages ("'x' is not a number of milliseconds").
  const char* unit = nullptr;
  std::string error = {};                  // why the value was refused
  std::vector<std::string> warnings = {};  // accepted, with remarks
};

template <typename Settings>
struct Setting {
  // Parses `value` into *settings; false with context->error set, and
  // *settings unchanged, when the value is refused.
  using Apply = bool (*)(std::string_view value, Settings* settings,
                         ValueContext* context);

  const char* key;               // in the file, lower case
  const char* env = nullptr;     // COORDINATOOL_* variable; nullptr: none
  const char* option = nullptr;  // CLI11 names ("-H,--host"); nullptr: none
  const char* value = "";        // the value's form, for help ("MS")
  const char* help = "";         // one line, for --help
  Apply apply = nullptr;
  const char* unit = nullptr;  // see ValueContext::unit
  // A repeatable key: each file line adds to the list; the first use of the
  // option on the command line replaces what the file and environment gave.
  void (*clear)(Settings* settings) = nullptr;
  // A command-line flag that stands for this value of the key (--no-store:
  // store none). Such a row is seen by the command line only.
  const char* flag_value = nullptr;
  // A bad value in the environment is a warning and is ignored (as the
  // original does for COORDINATOOL_REDIS_PORT) instead of an error.
  bool env_bad_is_warning = false;
};

using ServerSetting = Setting<ServerSettings>;
using ClientSetting = Setting<ClientSettings>;

// Keys the server reads; keys the movers (preload library) and
// coordinatool-client read.
std::span<const ServerSetting> ServerSettingTable();
std::span<const ClientSetting> ClientSettingTable();

// The row of `key` for the file and environment (never a flag row), or
// nullptr.
template <typename Settings>
const Setting<Settings>* FindSetting(std::span<const Setting<Settings>> table,
                                     std::string_view key) {
  for (const Setting<Settings>& row : table)
    if (!row.flag_value && key == row.key) return &row;
  return nullptr;
}

}  // namespace config

#endif  // CONFIG_SETTINGS_TABLE_H_
