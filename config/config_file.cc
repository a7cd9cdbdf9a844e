#include "config/config_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace config {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

ConfigText ParseConfigText(std::string_view path, std::string_view text) {
  ConfigText out;
  out.path = path;
  int line_no = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t start = 0;
    while (start < line.size() && IsBlank(line[start])) ++start;
    line.remove_prefix(start);
    if (line.empty() || line.front() == '#') continue;
    size_t key_end = 0;
    while (key_end < line.size() && !IsBlank(line[key_end])) ++key_end;
    std::string_view value = line.substr(key_end);
    while (!value.empty() && IsBlank(value.front())) value.remove_prefix(1);
    while (!value.empty() && IsBlank(value.back())) value.remove_suffix(1);
    out.entries.push_back(
        {Lower(line.substr(0, key_end)), std::string(value), line_no});
  }
  return out;
}

std::optional<ConfigText> ReadConfigFile(const std::string& path,
                                         std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = fmt::format("{}: {}", path, strerror(errno));
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseConfigText(path, buffer.str());
}

std::string EntryError(const ConfigText& file, const ConfigEntry& entry,
                       std::string_view message) {
  return fmt::format("{}:{}: key '{}': {}", file.path, entry.line, entry.key,
                     message);
}

std::optional<int64_t> ParseInteger(std::string_view text, int64_t min,
                                    int64_t max) {
  if (text.empty() || IsBlank(text.front())) return std::nullopt;
  std::string copy(text);
  errno = 0;
  char* end = nullptr;
  long long value = strtoll(copy.c_str(), &end, 0);
  if (errno != 0 || end != copy.c_str() + copy.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

std::optional<std::pair<std::string, uint16_t>> ParseHostPort(
    std::string_view text) {
  std::string host;
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) return std::nullopt;
  }
  // Decimal digits only: ParseInteger would read "010" as octal.
  const bool digits = !port.empty() && port.size() <= 5 &&
                      (port.size() == 1 || port.front() != '0') &&
                      std::all_of(port.begin(), port.end(),
                                  [](char c) { return c >= '0' && c <= '9'; });
  auto value = digits ? ParseInteger(port, 1, 65535) : std::nullopt;
  if (host.empty() || !value) return std::nullopt;
  return std::make_pair(std::move(host), static_cast<uint16_t>(*value));
}

std::optional<uint32_t> ParseSize(std::string_view text, std::string* warning,
                                  std::string* error) {
  warning->clear();
  if (text.find('\0') != std::string_view::npos) {
    // strtoll would stop there and take what precedes for the whole value.
    std::string shown;
    for (char c : text)
      shown += c == '\0' ? std::string("\\x00") : std::string(1, c);
    *error = fmt::format("'{}': a size cannot contain a NUL byte", shown);
    return std::nullopt;
  }
  std::string copy(text);
  errno = 0;
  char* end = nullptr;
  long long value = strtoll(copy.c_str(), &end, 0);
  if (copy.empty() || end == copy.c_str() || errno != 0) {
    *error = fmt::format("'{}' is not a size", text);
    return std::nullopt;
  }
  unsigned long long multiplier = 1;
  if (*end != '\0') {
    switch (*end) {
      case 'k':
      case 'K':
        multiplier = 1ULL << 10;
        break;
      case 'm':
      case 'M':
        multiplier = 1ULL << 20;
        break;
      case 'g':
      case 'G':
        multiplier = 1ULL << 30;
        break;
      default:
        *error =
            fmt::format("'{}': unexpected '{}' after the number", text, *end);
        return std::nullopt;
    }
    if (end[1] != '\0')
      *warning =
          fmt::format("'{}': ignoring '{}' after the unit", text, end + 1);
  }
  if (value == -1) return kUnlimited;
  if (value < 0) {
    *error =
        fmt::format("'{}': negative sizes other than -1 are invalid", text);
    return std::nullopt;
  }
  unsigned long long result =
      static_cast<unsigned long long>(value) * multiplier;
  if (result / multiplier != static_cast<unsigned long long>(value) ||
      result > kUnlimited) {
    *error = fmt::format("'{}' is larger than 4294967295", text);
    return std::nullopt;
  }
  return static_cast<uint32_t>(result);
}

std::optional<int> ParseLogLevel(std::string_view text) {
  static constexpr const char* kNames[] = {"off",    "fatal", "error", "warn",
                                           "normal", "info",  "debug"};
  std::string lower = Lower(text);
  for (int i = 0; i < 7; ++i)
    if (lower == kNames[i]) return i;
  return std::nullopt;
}

}  // namespace config
