// coordinatool-upcall: the upcall of LU-10968 (docs/upcall.md). A Lustre MDT
// carrying that patch runs it, as root with an empty environment, as
//   coordinatool-upcall ACTION FSNAME ARCHIVE_ID FLAGS DATA FID...
// for the actions in its hsm.upcall_mask, and the request's RPC waits for
// it. It puts the request in the coordinatool server's durable queue and
// exits 0 only once the server says it is stored; otherwise it exits with
// an errno (which the MDT gives the request) after one line on stderr. It
// never touches Lustre.
//
// Its settings are coordinatool-client's (/etc/coordinatool.conf, or the
// file of --config: the MDT gives no environment).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "client/token_file.h"
#include "client/upcall/upcall_client.h"
#include "common/version.h"
#include "config/settings.h"
#include "protocol/upcall.h"

namespace {

constexpr const char* kUsage =
    "usage: coordinatool-upcall [--config FILE] ACTION FSNAME ARCHIVE_ID "
    "FLAGS DATA FID...\n"
    "  run by a Lustre MDT carrying the LU-10968 patch (hsm.upcall_path);\n"
    "  ACTION is ARCHIVE or REMOVE. Exits 0 once the coordinatool server\n"
    "  stored the request, else an errno after one line on stderr.\n";

// How long the server may take to store the request: the MDT's RPC waits
// for us, so this stays well below a client's RPC timeout.
constexpr int kReplyTimeoutMs = 20'000;

int Fail(int code, const std::string& message) {
  fprintf(stderr, "coordinatool-upcall: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string config_path;
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    fputs(kUsage, stdout);
    return 0;
  }
  if (!args.empty() && args[0] == "--version") {
    printf("coordinatool-upcall %s\n", common::kVersion);
    return 0;
  }
  if (!args.empty() && args[0] == "--config") {
    if (args.size() < 2) return Fail(EINVAL, "--config needs a FILE");
    config_path = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  protocol::UpcallRequest request;
  std::string error;
  if (!protocol::ParseUpcallArgs(args, &request, &error))
    return Fail(EINVAL, "bad arguments: " + error);

  config::ClientSettings settings;
  std::vector<std::string> warnings;
  if (!config::LoadClientSettings(config_path, config::ProcessEnvironment(),
                                  &settings, &warnings, &error))
    return Fail(EINVAL, error);
  std::string token;
  if (!settings.token_file.empty() &&
      !client::ReadTokenFile(settings.token_file, &token, &error))
    return Fail(EACCES, error);
  int rc = client::upcall::QueueUpcall(settings, token, request,
                                       kReplyTimeoutMs, &error);
  if (rc != 0)
    return Fail(
        rc, std::string(request.action == HSMA_REMOVE ? "REMOVE" : "ARCHIVE") +
                " of " + std::to_string(request.fids.size()) +
                " files not queued: " + error);
  return 0;
}
