// coordinatool-locate-table: the reference restore-locality helper (see
// docs/restore-locality.md). For each lookup read on stdin, answers on stdout
// the mover that a table gives for the value of one tag of the item's hsm
// data, when that mover is connected; otherwise no preference (null); and the
// medium and position the table gives for that value, if any.
//
// Usage: coordinatool-locate-table --tag TAG= TABLE_FILE
// TABLE_FILE has one `VALUE MOVER [MEDIUM [POSITION]]` per line (MOVER `-`:
// none); blank lines and lines whose first word starts with '#' are
// skipped. A table that cannot be read or has
// a malformed line is reported as file:line on stderr, exit status 2. The
// program exits 0 at the end of its input.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/version.h"
#include "policy/tag.h"

namespace {

namespace json = boost::json;

constexpr const char* kName = "coordinatool-locate-table";

struct Entry {
  std::string mover;   // empty: none
  std::string medium;  // empty: none
  std::optional<uint64_t> position;
};
using Table = std::unordered_map<std::string, Entry>;  // by value

constexpr const char* kExpected = "expected 'VALUE MOVER [MEDIUM [POSITION]]'";

// A position: decimal digits only, up to 2^64-1.
std::optional<uint64_t> ParsePosition(const std::string& text) {
  if (text.empty() || text.size() > 20 ||
      text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  unsigned long long value = 0;
  for (char c : text) {
    const unsigned digit = static_cast<unsigned>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// Reads `path` into *table; on failure returns "path[:line]: why".
std::optional<std::string> ReadTable(const std::string& path, Table* table) {
  std::ifstream in(path);
  if (!in) return fmt::format("{}: {}", path, std::strerror(errno));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream words(line);
    std::string value, mover, medium, position, extra;
    if (!(words >> value) || value[0] == '#') continue;
    if (!(words >> mover) ||
        (words >> medium && words >> position && words >> extra)) {
      return fmt::format("{}:{}: {}", path, number, kExpected);
    }
    Entry entry{mover == "-" ? "" : mover, medium, std::nullopt};
    if (!position.empty()) {
      entry.position = ParsePosition(position);
      if (!entry.position)
        return fmt::format(
            "{}:{}: position '{}' is not an integer from 0 to "
            "2^64-1",
            path, number, position);
    }
    if (!table->emplace(value, std::move(entry)).second) {
      return fmt::format("{}:{}: duplicate value '{}'", path, number, value);
    }
  }
  if (in.bad()) return fmt::format("{}: {}", path, std::strerror(errno));
  return std::nullopt;
}

bool Connected(const json::array& movers, std::string_view mover) {
  for (const json::value& m : movers) {
    if (m.is_string() && m.get_string() == mover) return true;
  }
  return false;
}

// The answer to one request line, or nullopt when it has no usable id (then
// *error says why).
std::optional<std::string> Answer(const Table& table, std::string_view tag,
                                  std::string_view line, std::string* error) {
  json::parse_options options;
  options.allow_invalid_utf8 = true;  // hsm data is any bytes
  boost::system::error_code ec;
  json::value request = json::parse(line, ec, {}, options);
  const json::object* o = ec ? nullptr : request.if_object();
  const json::value* id = o ? o->if_contains("id") : nullptr;
  if (!id || !(id->is_uint64() || id->is_int64())) {
    *error = ec ? ec.message() : "no integer 'id'";
    return std::nullopt;
  }
  json::value mover = nullptr;
  const Entry* entry = nullptr;
  const json::value* data = o->if_contains("data");
  const json::value* movers = o->if_contains("movers");
  if (data && data->is_string() && movers && movers->is_array()) {
    std::optional<std::string_view> value =
        policy::TagValue(data->get_string(), tag);
    auto it = value ? table.find(std::string(*value)) : table.end();
    if (it != table.end()) entry = &it->second;
    if (entry && !entry->mover.empty() &&
        Connected(movers->get_array(), entry->mover)) {
      mover = entry->mover;
    }
  }
  json::object answer;
  answer["id"] = *id;
  answer["mover"] = std::move(mover);
  if (entry && !entry->medium.empty()) {
    answer["medium"] = entry->medium;
    if (entry->position) answer["position"] = *entry->position;
  }
  return json::serialize(answer);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "reference restore-locality helper of coordinatool: "
      "answers lookups from a VALUE MOVER [MEDIUM [POSITION]] table"};
  std::string tag, table_path;
  app.add_option("--tag", tag, "tag of the hsm data to look up, e.g. tape=")
      ->required();
  app.add_option("table", table_path,
                 "file of 'VALUE MOVER [MEDIUM [POSITION]]' lines")
      ->required();
  app.set_version_flag(
      "--version", std::string("coordinatool-locate-table (coordinatool) ") +
                       common::kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (tag.empty() || tag.back() != '=') tag += '=';

  Table table;
  if (auto error = ReadTable(table_path, &table)) {
    std::cerr << kName << ": " << *error << "\n";
    return 2;
  }

  std::string line, error;
  while (std::getline(std::cin, line)) {
    std::optional<std::string> answer = Answer(table, tag, line, &error);
    if (!answer) {
      std::cerr << kName << ": request ignored: " << error << "\n";
      continue;
    }
    // One line per answer, flushed: the server is waiting for it.
    std::cout << *answer << '\n' << std::flush;
    if (!std::cout) return 1;
  }
  return 0;
}
