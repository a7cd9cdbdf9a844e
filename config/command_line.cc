#include "config/command_line.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

namespace config {

template <typename Settings>
CommandLine<Settings>::CommandLine(CLI::App* app,
                                   std::span<const Setting<Settings>> table) {
  for (const Setting<Settings>& row : table) {
    if (!row.option) continue;
    auto given = std::make_unique<Given>();
    given->row = &row;
    if (row.flag_value) {
      given->option = app->add_flag(row.option, row.help);
    } else {
      // The row's own parser checks the value on a scratch object, so that a
      // bad value stops the parse with CLI11's usual error.
      CLI::Validator check(
          [&row](std::string& value) -> std::string {
            Settings scratch;
            ValueContext context{.source = ValueContext::Source::kCommandLine,
                                 .unit = row.unit};
            return row.apply(value, &scratch, &context) ? "" : context.error;
          },
          "");
      given->option = app->add_option(row.option, given->values, row.help)
                          ->type_name(row.value)
                          ->check(check);
      if (row.clear)
        given->option->take_all();
      else
        given->option->expected(1)->multi_option_policy(
            CLI::MultiOptionPolicy::Throw);
    }
    given_.push_back(std::move(given));
  }
}

template <typename Settings>
bool CommandLine<Settings>::Apply(Settings* settings,
                                  std::string* error) const {
  for (const auto& given : given_) {
    if (given->option->count() == 0) continue;
    const Setting<Settings>& row = *given->row;
    std::vector<std::string> values = given->values;
    if (row.flag_value) values = {row.flag_value};
    if (row.clear) row.clear(settings);
    for (const std::string& value : values) {
      ValueContext context{.source = ValueContext::Source::kCommandLine,
                           .unit = row.unit};
      if (!row.apply(value, settings, &context)) {
        *error =
            fmt::format("{}: {}", given->option->get_name(), context.error);
        return false;
      }
    }
  }
  return true;
}

template <typename Settings>
std::string EnvironmentHelp(std::span<const Setting<Settings>> table) {
  std::string out =
      "Environment (over the configuration file, under the options):\n";
  out += fmt::format("  {:<36}{}\n", "COORDINATOOL_CONF",
                     "configuration file (as -c)");
  for (const Setting<Settings>& row : table)
    if (row.env && !row.flag_value)
      out += fmt::format("  {:<36}key {}\n", row.env, row.key);
  return out;
}

template class CommandLine<ServerSettings>;
template class CommandLine<ClientSettings>;
template std::string EnvironmentHelp(std::span<const ServerSetting>);
template std::string EnvironmentHelp(std::span<const ClientSetting>);

}  // namespace config
