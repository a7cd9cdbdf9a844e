// The servers a mover or the client connects to: the `host` key of the
// client side takes several (`host1,host2`, repeated lines, the
// COORDINATOOL_HOST variable with commas), tried in order
// (docs/configuration.md, `host`). Each entry is a host name or address, or
// HOST:PORT ([V6]:PORT for an IPv6 address) for a server on another port
// than the `port` key's. A bare IPv6 address (several colons, no brackets)
// is a host, as the original read it.
//
// Thread-safety: pure functions over values.
#ifndef CONFIG_HOST_LIST_H_
#define CONFIG_HOST_LIST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace config {

struct ClientSettings;

struct ServerAddress {
  std::string host;
  std::string port;
  // "host:port", "[v6]:port": for logs and messages.
  std::string ToString() const;
  bool operator==(const ServerAddress&) const = default;
};

// One entry: "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6
// address. `default_port` fills a missing port. nullopt with *error on an
// empty entry, empty brackets or a port that is not 1..65535.
std::optional<ServerAddress> ParseServerAddress(std::string_view text,
                                                std::string_view default_port,
                                                std::string* error);

// A value of the `host` key: entries separated by commas, blanks around
// them ignored. Each entry is checked (ParseServerAddress) and kept as
// text. False with *error naming the bad entry.
bool SplitHostList(std::string_view value, std::vector<std::string>* hosts,
                   std::string* error);

// The servers of `settings`, in order: its hosts with the port key filled
// in where an entry has none; "coordinatool" when no host was given.
std::vector<ServerAddress> ServerAddresses(const ClientSettings& settings);

}  // namespace config

#endif  // CONFIG_HOST_LIST_H_
