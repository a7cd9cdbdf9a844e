// The coordinatool configuration file (docs/configuration.md, "The file"): one
// `key value` pair per line, keys case-insensitive, the value the rest of the
// line after the blanks following the key, trailing blanks removed, `#`
// comment lines and blank lines ignored. One file serves the server and every
// client; each side picks its own keys.
//
// Thread-safety: pure functions over values.
#ifndef CONFIG_CONFIG_FILE_H_
#define CONFIG_CONFIG_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace config {

struct ConfigEntry {
  std::string key;    // lower case
  std::string value;  // may be empty: a key with no value
  int line = 0;       // 1-based
};

struct ConfigText {
  std::string path;  // for messages
  std::vector<ConfigEntry> entries;
};

// Splits `text` into entries; never fails (bad values are the typed layer's
// concern).
ConfigText ParseConfigText(std::string_view path, std::string_view text);

// Reads and parses `path`. On failure returns nullopt and sets *error
// ("/etc/coordinatool.conf: No such file or directory").
std::optional<ConfigText> ReadConfigFile(const std::string& path,
                                         std::string* error);

// "PATH:LINE: key 'KEY': MESSAGE", the form of every configuration error.
std::string EntryError(const ConfigText& file, const ConfigEntry& entry,
                       std::string_view message);

// C strtol with automatic base (0x hex, leading 0 octal) that must consume
// the whole value and fit in [min, max].
std::optional<int64_t> ParseInteger(std::string_view text, int64_t min,
                                    int64_t max);

// Size syntax (docs/configuration.md, "Value syntax"): integer (automatic base)
// optionally followed by k/K, m/M, g/G (powers of 1024). -1 means unlimited and
// is returned as 2^32-1. Characters after the suffix letter are ignored with
// *warning set; any other trailing character, other negative values, and
// results above 2^32-1 are errors (nullopt, *error set).
std::optional<uint32_t> ParseSize(std::string_view text, std::string* warning,
                                  std::string* error);
inline constexpr uint32_t kUnlimited = 0xffffffffu;

// "host:port" or "[v6]:port" (decimal port in 1..65535, no leading zero):
// the host (without brackets) and the port; nullopt otherwise.
std::optional<std::pair<std::string, uint16_t>> ParseHostPort(
    std::string_view text);

// Log levels by name (off, fatal, error, warn, normal, info, debug; any case)
// to 0..6.
std::optional<int> ParseLogLevel(std::string_view text);

}  // namespace config

#endif  // CONFIG_CONFIG_FILE_H_
