// ct-posix: the Lustre HSM simulator's lhsmtool_posix. See copytool.h.
#include <csignal>
#include <cstdio>

#include "copytool/posix/copytool.h"
#include "copytool/posix/options.h"

namespace {

ct::Copytool* g_copytool = nullptr;

void OnSignal(int) {
  if (g_copytool != nullptr) g_copytool->Wake();
}

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace

int main(int argc, char** argv) {
  ct::ParseResult parsed = ct::ParseOptions(argc, argv);
  if (!parsed.options) {
    std::fprintf(parsed.exit_code == 0 ? stdout : stderr, "%s\n",
                 parsed.message.c_str());
    return parsed.exit_code;
  }
  llapi_msg_set_level(parsed.options->verbosity);
  ct::Copytool copytool(*parsed.options);
  g_copytool = &copytool;
  InstallSignalHandlers();
  const int rc = copytool.Run();
  g_copytool = nullptr;
  return rc;
}
