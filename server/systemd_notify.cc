#include "server/systemd_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstring>

namespace server {
namespace {

void Notify(const std::string& state, const std::string& status) {
  // A newline would end the STATUS= field and start another assignment.
  std::string line = status;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  std::string message = state + "\nSTATUS=" + line;
  // unset_environment 0: the stop notification uses it later.
  int rc = sd_notify(0, message.c_str());
  if (rc < 0)
    spdlog::warn("cannot notify systemd ({}): {}", state, std::strerror(-rc));
}

}  // namespace

void NotifyReady(const std::string& status) { Notify("READY=1", status); }

void NotifyStopping(const std::string& status) { Notify("STOPPING=1", status); }

}  // namespace server
