// coordinatool: the server daemon. See server.h.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string_view>

#include "common/clock.h"
#include "common/version.h"
#include "config/command_line.h"
#include "config/settings.h"
#include "config/settings_table.h"
#include "server/log_format.h"
#include "server/log_sink.h"
#include "server/reload.h"
#include "server/request_log.h"
#include "server/server.h"
#include "server/systemd_notify.h"

extern char** environ;

namespace {

// Reads the settings as at start: defaults, file, environment, command line.
using SettingsLoader =
    std::function<bool(config::ServerSettings* settings,
                       std::vector<std::string>* warnings, std::string* error)>;

// The COORDINATOOL_* variables as they are now: a reload reads the
// environment the server started with.
config::EnvLookup EnvironmentAtStart() {
  auto vars = std::make_shared<std::map<std::string, std::string>>();
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos || !entry.starts_with("COORDINATOOL_"))
      continue;
    (*vars)[std::string(entry.substr(0, eq))] =
        std::string(entry.substr(eq + 1));
  }
  return [vars](const char* name, std::string* value) {
    auto it = vars->find(name);
    if (it == vars->end()) return false;
    *value = it->second;
    return true;
  };
}

// Runs the server until a signal stops it (a second signal exits at once).
int RunServer(const config::ServerSettings& settings, const std::string& mount,
              SettingsLoader load_settings) {
  std::string error;
  boost::asio::io_context io;
  common::SteadyClock clock;
  server::ServerOptions server_options;
  server_options.settings = settings;
  server_options.mount = mount;
  server_options.load_settings = std::move(load_settings);
  server::Server server(io, server_options, clock);
  if (!server.Start(&error)) {
    spdlog::critical("{}", error);
    return EXIT_FAILURE;
  }
  server::RequestLogger()->flush();  // what recovery and start logged
  // Start() returns once the store is recovered, the server registered on
  // Lustre and listening: only now may systemd start what comes after it.
  server::NotifyReady(fmt::format("{} {} on {}:{}",
                                  server.leading() ? "serving" : "standby for",
                                  mount, settings.host, server.port()));
  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGQUIT);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (server.stopped()) {
          spdlog::warn("second signal {}: exiting now", signo);
          spdlog::default_logger()->flush();
          std::_Exit(EXIT_FAILURE);
        }
        server::NotifyStopping(fmt::format("stopping: signal {}", signo));
        server.Shutdown(fmt::format("signal {}", signo));
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  // SIGHUP reloads the configuration, the TLS and auth files (it used to
  // end the daemon, the default action).
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
    // The request lines of that turn in one write (server/log_sink.h).
    server::RequestLogger()->flush();
    if (server.stopped()) {
      io.poll();
      break;
    }
  }
  server::RequestLogger()->flush();
  spdlog::default_logger()->flush();
  // 75 after stepping down from leader (high availability): systemd's
  // Restart=on-failure starts it again, as a standby.
  return server.exit_status();
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

  // A terminal gets each line at once, in colour; a file, a pipe or the
  // journal gets the request log's lines by event-loop turn, one write
  // per turn rather than per line, and every other line at once
  // (server/log_sink.h).
  std::shared_ptr<spdlog::logger> logger;
  if (isatty(STDERR_FILENO)) {
    logger = spdlog::stderr_color_mt("coordinatool");
  } else {
    auto sink = std::make_shared<server::BufferedFdSink>(
        STDERR_FILENO, server::kRequestLoggerName);
    logger = std::make_shared<spdlog::logger>("coordinatool", sink);
    auto requests =
        std::make_shared<spdlog::logger>(server::kRequestLoggerName, sink);
    spdlog::register_logger(requests);
    server::SetRequestLogger(requests);
    // Held request lines wait at most a second (a quiet loop).
    spdlog::flush_every(std::chrono::seconds(1));
  }
  spdlog::set_default_logger(logger);
  // Peer bytes in messages are escaped: one log call, one line. Under
  // systemd, priority prefixes for the journal, and its time stamps.
  spdlog::set_formatter(
      server::EscapingLogFormatter(server::LogTargetOfStderr()));

  SettingsLoader load = [&, env = EnvironmentAtStart()](
                            config::ServerSettings* settings,
                            std::vector<std::string>* warnings,
                            std::string* error) {
    *settings = {};
    if (!config::LoadServerSettings(config_path, env, settings, warnings,
                                    error) ||
        !options.Apply(settings, error))
      return false;
    settings->verbose = std::clamp(settings->verbose + more - less, 0, 6);
    return true;
  };
  config::ServerSettings settings;
  std::vector<std::string> warnings;
  std::string error;
  if (!load(&settings, &warnings, &error)) {
    spdlog::critical("{}", error);
    return EXIT_FAILURE;
  }
  spdlog::set_level(server::LogLevelFor(settings.verbose));
  for (const std::string& warning : warnings) spdlog::warn("{}", warning);

  return RunServer(settings, mount, load);
}
