// The server's log line format: time, level, and the message escaped
// (common/escape.h). Messages carry what peers chose (mover ids, error
// texts, hsm data, parse errors quoting their bytes); escaping the whole
// message in the formatter, rather than at each call, leaves no call that
// can forget it: one log call is one line, whatever a peer sent.
//
// Thread-safety: the formatter is spdlog's, used under its sink's lock.
#ifndef SERVER_LOG_FORMAT_H_
#define SERVER_LOG_FORMAT_H_

#include <spdlog/formatter.h>

#include <memory>

namespace server {

// "2026-12-06T17:45:00.123 info <escaped message>", the level coloured on
// a colour sink.
std::unique_ptr<spdlog::formatter> EscapingLogFormatter();

}  // namespace server

#endif  // SERVER_LOG_FORMAT_H_
