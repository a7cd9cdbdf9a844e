// sim-mdt: the simulated Lustre MDT daemon (see docs/simulator.md).
//
//   sim-mdt [--fsname NAME] [--set NAME=VALUE]... [--sync]
//           [--verbose|--quiet] MOUNT
#include <linux/lustre/lustre_user.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "common/version.h"
#include "sim/mdt/server.h"

int main(int argc, char** argv) {
  CLI::App app{"Simulated Lustre MDT with its HSM coordinator"};
  sim::mdt::ServerOptions options;
  bool verbose = false, quiet = false;
  app.add_option("--fsname", options.fsname, "filesystem name (default lustre)")
      ->check([](const std::string& s) {
        return s.empty() || s.size() > LUSTRE_MAXFSNAME
                   ? std::string("fsname must have 1 to 8 characters")
                   : std::string();
      });
  app.add_option("--set", options.settings,
                 "tunable NAME=VALUE, e.g. hsm.max_requests=100 or "
                 "hsm_control=stopped (repeatable)");
  std::string fuse_backing;
  app.add_option("--fuse", fuse_backing,
                 "serve MOUNT through FUSE; BACKING holds its files and "
                 ".lustre/ (the directory mode's tree)")
      ->type_name("BACKING");
  app.add_flag("--sync", options.sync, "fdatasync the journal at each write");
  auto* v = app.add_flag("-v,--verbose", verbose, "log debug messages");
  app.add_flag("-q,--quiet", quiet, "log only warnings and errors")
      ->excludes(v);
  app.add_option("MOUNT", options.mount, "directory to serve")->required();
  app.set_version_flag("-V,--version", std::string("sim-mdt (coordinatool) ") +
                                           common::kVersion);
  CLI11_PARSE(app, argc, argv);

  if (!fuse_backing.empty()) {
    options.fuse_mountpoint = options.mount;
    options.mount = fuse_backing;
  }
  auto logger = spdlog::stderr_logger_st("sim-mdt");
  logger->set_pattern("sim-mdt: %Y-%m-%d %H:%M:%S.%e %l: %v");
  logger->set_level(verbose ? spdlog::level::debug
                    : quiet ? spdlog::level::warn
                            : spdlog::level::info);
  spdlog::set_default_logger(logger);
  signal(SIGPIPE, SIG_IGN);

  boost::asio::io_context io(1);
  sim::mdt::Server server(&io, options);
  if (std::string error = server.Start(); !error.empty()) {
    spdlog::error("{}", error);
    return 1;
  }
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: flushing the journal and exiting", signo);
    server.Flush();
    io.stop();
  });
  const std::string& served =
      options.fuse_mountpoint.empty() ? options.mount : options.fuse_mountpoint;
  printf("sim-mdt: ready %s fsname=%s\n", served.c_str(),
         options.fsname.c_str());
  fflush(stdout);
  io.run();
  server.Flush();
  return 0;
}
