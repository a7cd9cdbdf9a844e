// Logging through llapi's message sink, so -v/-q (llapi_msg_set_level)
// filter the copytool's messages as lhsmtool_posix's are. Each line gets
// lhsmtool_posix's prefix: "<epoch.usec> [<tid>]: ".
//
// Thread-safety: safe from any thread (llapi_error is).
#ifndef COPYTOOL_POSIX_LOG_H_
#define COPYTOOL_POSIX_LOG_H_

#include <fmt/format.h>

#include <string>
#include <utility>

#include "hsm/lustreapi.h"

namespace ct {

// "<epoch.usec> [<tid>]: "
std::string LogPrefix();

template <typename... Args>
void Log(llapi_message_level level, fmt::format_string<Args...> format,
         Args&&... args) {
  const std::string text =
      LogPrefix() + fmt::format(format, std::forward<Args>(args)...);
  llapi_error(static_cast<llapi_message_level>(level | LLAPI_MSG_NO_ERRNO), 0,
              "%s", text.c_str());
}

// Like Log, followed by ": <strerror(-rc)> (<rc>)"; `rc` is a negative errno.
template <typename... Args>
void LogError(int rc, fmt::format_string<Args...> format, Args&&... args) {
  const std::string text =
      LogPrefix() + fmt::format(format, std::forward<Args>(args)...);
  llapi_error(LLAPI_MSG_ERROR, rc, "%s", text.c_str());
}

}  // namespace ct

#endif  // COPYTOOL_POSIX_LOG_H_
