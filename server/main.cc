// coordinatool: the server daemon. See server.h.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <cstdlib>
#include <iostream>

#include "common/clock.h"
#include "config/settings.h"
#include "server/server.h"

namespace {

constexpr const char* kVersion = "0.1.0";

spdlog::level::level_enum SpdlogLevel(int verbose) {
  switch (verbose) {
    case 0:
      return spdlog::level::off;
    case 1:
      return spdlog::level::critical;
    case 2:
      return spdlog::level::err;
    case 3:
      return spdlog::level::warn;
    case 4:
      return spdlog::level::info;
    case 5:
      return spdlog::level::debug;
    default:
      return spdlog::level::trace;
  }
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  // Past a file-size limit (ulimit -f) a write fails with EFBIG, which the
  // store handles as a failed write, rather than killing the server.
  signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"coordinatool: Lustre HSM coordinator in userspace"};
  std::string config_path, host, port, redis_host, mount;
  std::optional<std::string> redis_host_opt;
  std::optional<int> redis_port;
  std::optional<int64_t> client_grace, stale_timeout;
  std::optional<int64_t> max_connections, connection_memory, liveness_timeout,
      handshake_timeout, oversized_timeout;
  std::optional<std::string> store_kind, state_dir, redis_socket, redis_user,
      redis_password;
  bool no_store = false;
  std::vector<uint32_t> archives;
  int more = 0, less = 0;
  app.add_option("-c,--config", config_path, "configuration file");
  app.add_option("-A,--archive", archives,
                 "archive id to register for (repeatable)")
      ->check(CLI::Range(1, INT32_MAX));
  app.add_option("-H,--host", host, "address to bind");
  app.add_option("-p,--port", port, "port to bind");
  app.add_option("--redis-host", redis_host_opt,
                 "Redis host (empty: no Redis)");
  app.add_option("--redis-port", redis_port, "Redis port")
      ->check(CLI::Range(0, 65535));
  app.add_option("--redis-socket", redis_socket,
                 "Redis unix socket (instead of host and port)");
  app.add_option("--redis-user", redis_user, "Redis ACL user");
  app.add_option("--redis-password", redis_password,
                 "Redis password (prefer COORDINATOOL_REDIS_PASSWORD)");
  app.add_option("--store", store_kind,
                 "where the state goes: auto, redis, embedded, none")
      ->check(CLI::IsMember({"auto", "redis", "embedded", "none"}));
  app.add_flag("--no-store", no_store,
               "keep the state in memory only (same as --store none)");
  app.add_option("--state-dir", state_dir,
                 "directory of the embedded store (default "
                 "/var/lib/coordinatool/FSNAME)");
  app.add_option("--stale-timeout", stale_timeout,
                 "milliseconds without progress after which a running item "
                 "is taken back (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--client-grace", client_grace,
                 "milliseconds a disconnected mover keeps its work")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-connections", max_connections,
                 "connections served at once (0: from the descriptor limit)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--connection-memory", connection_memory,
                 "MiB the messages of one connection may use while parsed")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--liveness-timeout", liveness_timeout,
                 "milliseconds of silence after which a mover connection is "
                 "dead (0: never)")
      ->check(CLI::Range(0, INT32_MAX));
  app.add_option("--handshake-timeout", handshake_timeout,
                 "milliseconds a new connection has to send ehlo (0: no bound)")
      ->check(CLI::Range(0, INT32_MAX));
  app.add_option("--oversized-timeout", oversized_timeout,
                 "milliseconds before an item no mover's buffer fits is failed "
                 "(0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("-v,--verbose", more, "more logging (repeatable)");
  app.add_flag("-q,--quiet", less, "less logging (repeatable)");
  app.set_version_flag("-V,--version",
                       std::string("Coordinatool version ") + kVersion);
  app.add_option("MOUNTPOINT", mount, "Lustre mount point")->required();
  CLI11_PARSE(app, argc, argv);

  auto logger = spdlog::stderr_color_mt("coordinatool");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  config::ServerSettings settings;
  std::vector<std::string> warnings;
  std::string error;
  if (!config::LoadServerSettings(config_path, config::ProcessEnvironment(),
                                  &settings, &warnings, &error)) {
    spdlog::critical("{}", error);
    return EXIT_FAILURE;
  }
  if (!host.empty()) settings.host = host;
  if (!port.empty()) settings.port = port;
  if (redis_host_opt || redis_port || redis_socket || redis_user ||
      redis_password)
    settings.redis_configured = true;
  if (redis_host_opt) settings.redis_host = *redis_host_opt;
  if (redis_port) settings.redis_port = static_cast<uint16_t>(*redis_port);
  if (client_grace) settings.client_grace_ms = *client_grace;
  if (stale_timeout) settings.stale_timeout_ms = *stale_timeout;
  if (max_connections) settings.max_connections = *max_connections;
  if (connection_memory) settings.connection_memory_mb = *connection_memory;
  if (liveness_timeout) settings.liveness_timeout_ms = *liveness_timeout;
  if (handshake_timeout) settings.handshake_timeout_ms = *handshake_timeout;
  if (oversized_timeout) settings.oversized_timeout_ms = *oversized_timeout;
  if (redis_socket) settings.redis_socket = *redis_socket;
  if (redis_user) settings.redis_user = *redis_user;
  if (redis_password) settings.redis_password = *redis_password;
  if (store_kind) settings.store = *store_kind;
  if (no_store) settings.store = "none";
  if (state_dir) settings.state_dir = *state_dir;
  if (!archives.empty()) settings.archive_ids = archives;
  settings.verbose = std::clamp(settings.verbose + more - less, 0, 6);
  spdlog::set_level(SpdlogLevel(settings.verbose));
  for (const std::string& warning : warnings) spdlog::warn("{}", warning);

  boost::asio::io_context io;
  common::SteadyClock clock;
  server::ServerOptions options{settings, mount};
  server::Server server(io, options, clock);
  if (!server.Start(&error)) {
    spdlog::critical("{}", error);
    return EXIT_FAILURE;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGQUIT);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (server.stopped()) {
          spdlog::warn("second signal {}: exiting now", signo);
          std::_Exit(EXIT_FAILURE);
        }
        server.Shutdown(fmt::format("signal {}", signo));
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  // Once shut down, leave the loop when only the signal wait is left.
  while (!io.stopped()) {
    io.run_one();
    if (server.stopped()) {
      io.poll();
      break;
    }
  }
  return EXIT_SUCCESS;
}
