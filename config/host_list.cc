#include "config/host_list.h"

#include <fmt/format.h>

#include <algorithm>

#include "config/config_file.h"
#include "config/settings.h"

namespace config {

namespace {

std::string_view Trim(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

// Decimal digits without a leading zero, 1..65535: "010" or "0x10" would
// be read as another number by a resolver.
bool IsPort(std::string_view text) {
  if (text.empty() || text.size() > 5 || text.front() == '0') return false;
  if (!std::all_of(text.begin(), text.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  return ParseInteger(text, 1, 65535).has_value();
}

}  // namespace

std::string ServerAddress::ToString() const {
  if (host.find(':') != std::string::npos)
    return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::optional<ServerAddress> ParseServerAddress(std::string_view text,
                                                std::string_view default_port,
                                                std::string* error) {
  text = Trim(text);
  ServerAddress address;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close == 1) {
      *error = fmt::format("'{}' is not a host: [IPV6] or [IPV6]:PORT", text);
      return std::nullopt;
    }
    address.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) {
        *error = fmt::format("'{}': expected ':PORT' after ']'", text);
        return std::nullopt;
      }
      port = rest.substr(1);
      if (port.empty()) {
        *error = fmt::format("'{}': no port after ':'", text);
        return std::nullopt;
      }
    }
  } else {
    const size_t colon = text.find(':');
    // Two colons or more: a bare IPv6 address, the whole of it the host.
    if (colon != std::string_view::npos &&
        text.find(':', colon + 1) == std::string_view::npos) {
      address.host = std::string(text.substr(0, colon));
      port = text.substr(colon + 1);
      if (port.empty()) {
        *error = fmt::format("'{}': no port after ':'", text);
        return std::nullopt;
      }
    } else {
      address.host = std::string(text);
    }
  }
  if (address.host.empty()) {
    *error = text.empty() ? std::string("empty host")
                          : fmt::format("'{}': empty host", text);
    return std::nullopt;
  }
  if (address.host.find_first_of(" \t,") != std::string::npos) {
    *error = fmt::format("'{}' is not a host", address.host);
    return std::nullopt;
  }
  if (!port.empty() && !IsPort(port)) {
    *error =
        fmt::format("'{}': '{}' is not a port number in 1..65535", text, port);
    return std::nullopt;
  }
  address.port = std::string(port.empty() ? default_port : port);
  return address;
}

bool SplitHostList(std::string_view value, std::vector<std::string>* hosts,
                   std::string* error) {
  const std::string_view whole = Trim(value);
  std::vector<std::string> parsed;
  for (;;) {
    const size_t comma = value.find(',');
    const std::string_view entry = Trim(value.substr(0, comma));
    if (!ParseServerAddress(entry, "1", error)) {
      if (entry.empty()) *error = fmt::format("empty host in '{}'", whole);
      return false;
    }
    parsed.emplace_back(entry);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  hosts->insert(hosts->end(), parsed.begin(), parsed.end());
  return true;
}

std::vector<ServerAddress> ServerAddresses(const ClientSettings& settings) {
  std::vector<ServerAddress> servers;
  std::string ignored;
  for (const std::string& host : settings.hosts)
    if (auto address = ParseServerAddress(host, settings.port, &ignored))
      servers.push_back(std::move(*address));
  if (servers.empty()) servers.push_back({"coordinatool", settings.port});
  return servers;
}

}  // namespace config
