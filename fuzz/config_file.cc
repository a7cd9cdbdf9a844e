// Fuzz target: the configuration file (config/config_file, config/settings):
// ParseConfigText, then the server's and the client's typed layer, then the
// value parsers on every value.
// Properties: no crash or undefined behaviour; entries are well formed
// (lower-case key without blanks, value without surrounding blanks, lines
// increasing); a refused file names the file; a value with bytes the parser
// did not read (a NUL) is never accepted.
#include "config/config_file.h"

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.h"
#include "fuzz/fuzz_util.h"

namespace {

bool Blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  config::ConfigText file = config::ParseConfigText("fuzz.conf", text);

  int last_line = 0;
  for (const config::ConfigEntry& entry : file.entries) {
    FUZZ_CHECK(!entry.key.empty());
    FUZZ_CHECK(entry.line > last_line);
    last_line = entry.line;
    for (char c : entry.key) {
      FUZZ_CHECK(!Blank(c) && c != '\n');
      FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    }
    FUZZ_CHECK(entry.value.find('\n') == std::string::npos);
    if (!entry.value.empty()) {
      FUZZ_CHECK(!Blank(entry.value.front()));
      FUZZ_CHECK(!Blank(entry.value.back()));
    }

    const bool has_nul = entry.value.find('\0') != std::string::npos;
    std::string warning, error;
    auto size_value = config::ParseSize(entry.value, &warning, &error);
    if (size_value) {
      FUZZ_CHECK(!has_nul);
    } else {
      FUZZ_CHECK(!error.empty());
    }
    auto integer = config::ParseInteger(entry.value, -1000, 1000);
    if (integer) {
      FUZZ_CHECK(!has_nul);
      FUZZ_CHECK(*integer >= -1000 && *integer <= 1000);
    }
    auto level = config::ParseLogLevel(entry.value);
    if (level) FUZZ_CHECK(*level >= 0 && *level <= 6);
  }

  {
    config::ServerSettings settings;
    std::vector<std::string> warnings;
    std::string error;
    if (!config::ApplyServerFile(file, &settings, &warnings, &error))
      FUZZ_CHECK(error.find("fuzz.conf") != std::string::npos);
  }
  {
    config::ClientSettings settings;
    std::vector<std::string> warnings;
    std::string error;
    if (!config::ApplyClientFile(file, &settings, &warnings, &error))
      FUZZ_CHECK(error.find("fuzz.conf") != std::string::npos);
  }
  // The environment layer, with variables named by the file's keys
  // ("coordinatool_max_restore 4" sets COORDINATOOL_MAX_RESTORE=4).
  config::EnvLookup env = [&file](const char* name, std::string* value) {
    std::string key(name);
    for (char& c : key) c = static_cast<char>(tolower(c));
    for (const config::ConfigEntry& entry : file.entries)
      if (entry.key == key) {
        *value = entry.value;
        return true;
      }
    return false;
  };
  {
    config::ServerSettings settings;
    std::vector<std::string> warnings;
    std::string error;
    if (!config::ApplyServerEnv(env, &settings, &warnings, &error))
      FUZZ_CHECK(!error.empty());
  }
  {
    config::ClientSettings settings;
    std::string error;
    if (!config::ApplyClientEnv(env, &settings, &error))
      FUZZ_CHECK(!error.empty());
  }
  return 0;
}
