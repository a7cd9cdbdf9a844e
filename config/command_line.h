// The command-line half of the settings tables (config/settings_table.h):
// adds one CLI11 option per row that has one, with the row's help line,
// checks each value with the row's parser while CLI11 parses (a bad value
// is refused before anything starts, naming the option), and applies the
// given options over what the file and the environment set: the command
// line has the last word. --help ends with the environment variables.
//
// Thread-safety: one object per parse, used by one thread.
#ifndef CONFIG_COMMAND_LINE_H_
#define CONFIG_COMMAND_LINE_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/settings_table.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace config {

template <typename Settings>
class CommandLine {
 public:
  // Adds the options of `table` to `app`, which must outlive this object.
  CommandLine(CLI::App* app, std::span<const Setting<Settings>> table);
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // After app parsed: applies the options given, in table order (a flag row
  // after the key's own option: --no-store wins over --store). False with
  // *error if a value is refused (values were already checked while
  // parsing, so only a check against the rest of *settings can fail).
  bool Apply(Settings* settings, std::string* error) const;

 private:
  struct Given {
    const Setting<Settings>* row = nullptr;
    CLI::Option* option = nullptr;
    std::vector<std::string> values;  // one unless the key is repeatable
  };
  // Pointers into these are held by CLI11: never resized after construction.
  std::vector<std::unique_ptr<Given>> given_;
};

// "Environment (...):" and one line per variable of `table`, for --help.
template <typename Settings>
std::string EnvironmentHelp(std::span<const Setting<Settings>> table);

}  // namespace config

#endif  // CONFIG_COMMAND_LINE_H_
