// coordinatool: the server daemon. See server.h.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <cstdlib>
#include <iostream>

#include "common/clock.h"
#include "common/version.h"
#include "config/command_line.h"
#include "config/settings.h"
#include "config/settings_table.h"
#include "server/log_format.h"
#include "server/server.h"
#include "server/systemd_notify.h"

namespace {

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

// Runs the server until a signal stops it (a second signal exits at once).
int RunServer(const config::ServerSettings& settings,
              const std::string& mount) {
  std::string error;
  boost::asio::io_context io;
  common::SteadyClock clock;
  server::ServerOptions server_options{settings, mount};
  server::Server server(io, server_options, clock);
  if (!server.Start(&error)) {
    spdlog::critical("{}", error);
    return EXIT_FAILURE;
  }
  // Start() returns once the store is recovered, the server registered on
  // Lustre and listening: only now may systemd start what comes after it.
  server::NotifyReady(
      fmt::format("serving {} on {}:{}", mount, settings.host, server.port()));
  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGQUIT);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (server.stopped()) {
          spdlog::warn("second signal {}: exiting now", signo);
          std::_Exit(EXIT_FAILURE);
        }
        server::NotifyStopping(fmt::format("stopping: signal {}", signo));
        server.Shutdown(fmt::format("signal {}", signo));
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  // SIGHUP re-reads the TLS files (it used to end the daemon, the default
  // action).
  boost::asio::signal_set hangup(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup =
      [&](const boost::system::error_code& ec, int) {
        if (ec || server.stopped()) return;
        server.Reload();
        hangup.async_wait(on_hangup);
      };
  hangup.async_wait(on_hangup);
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

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  // Past a file-size limit (ulimit -f) a write fails with EFBIG, which the
  // store handles as a failed write, rather than killing the server.
  signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"coordinatool: Lustre HSM coordinator in userspace"};
  std::string config_path, mount;
  int more = 0, less = 0;
  app.add_option("-c,--config", config_path,
                 std::string("configuration file (default ") +
                     config::kDefaultConfigPath + ")");
  // Every setting's option, from the table (config/settings_table.cc).
  config::CommandLine<config::ServerSettings> options(
      &app, config::ServerSettingTable());
  app.add_flag("-v,--verbose", more, "more logging (repeatable)");
  app.add_flag("-q,--quiet", less, "less logging (repeatable)");
  app.set_version_flag("-V,--version",
                       std::string("Coordinatool version ") + common::kVersion);
  app.add_option("MOUNTPOINT", mount, "Lustre mount point")->required();
  app.footer(config::EnvironmentHelp(config::ServerSettingTable()));
  CLI11_PARSE(app, argc, argv);

  auto logger = spdlog::stderr_color_mt("coordinatool");
  spdlog::set_default_logger(logger);
  // Peer bytes in messages are escaped: one log call, one line.
  spdlog::set_formatter(server::EscapingLogFormatter());

  config::ServerSettings settings;
  std::vector<std::string> warnings;
  std::string error;
  if (!config::LoadServerSettings(config_path, config::ProcessEnvironment(),
                                  &settings, &warnings, &error)) {
    spdlog::critical("{}", error);
    return EXIT_FAILURE;
  }
  if (!options.Apply(&settings, &error)) {
    spdlog::critical("{}", error);
    return EXIT_FAILURE;
  }
  settings.verbose = std::clamp(settings.verbose + more - less, 0, 6);
  spdlog::set_level(SpdlogLevel(settings.verbose));
  for (const std::string& warning : warnings) spdlog::warn("{}", warning);

  return RunServer(settings, mount);
}
