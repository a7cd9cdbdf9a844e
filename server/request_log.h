// One info line per event in a request's life in the server, in one fixed
// shape an operator can grep (docs/operations.md, "Request log"):
//
//   request EVENT [0xSEQ:0xOID:0xVER] cookie=0xCOOKIE action=ACTION DETAILS
//
// EVENT is received, placed, sent, done, dropped or cancelled; the FID
// (the item's dfid) and the action are in Lustre's own forms, so that a
// line is found from what `lfs hsm_state`, the MDT's active_requests or a
// copytool's log says; DETAILS are `key=value` words. Grepping
// "cookie=0x1f " (with the space) gives one request's whole story.
//
// These lines are on the path of every request: nothing is formatted when
// info is not logged (RequestEventsLogged), and the whole line (head and
// details) is formatted once, into one buffer reused from line to line,
// and handed to the logger as it is (no temporary strings, no second
// formatting pass).
//
// Thread-safety: the event loop's thread only, as the server.
#ifndef SERVER_REQUEST_LOG_H_
#define SERVER_REQUEST_LOG_H_

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "hsm/hal.h"
#include "server/item.h"

namespace server {

enum class RequestEvent {
  kReceived,   // from Lustre, or a `queue` command
  kPlaced,     // the queue it waits in, and why when a policy chose
  kSent,       // handed to a mover
  kDone,       // the mover's result, and how long since received
  kDropped,    // forgotten without running (failed or ended at Lustre)
  kCancelled,  // by Lustre's cancel
  kRetry,      // sent again by Lustre after a retryable failure: where to
};

const char* RequestEventName(RequestEvent event);

// The line, without the level and time the log adds.
std::string FormatRequestEvent(RequestEvent event, const hsm_action_item& hai,
                               std::string_view details);

// The details of a `placed` line: the queue `item` waits in ("queue=any",
// "queue=mover:ID", "queue=locating" while the restore locality helper is
// asked), the policy that chose it, and `why` when given (reason=...).
std::string PlacedDetails(const Item& item, std::string_view why = {});
void AppendPlacedDetails(fmt::memory_buffer* out, const Item& item,
                         std::string_view why = {});
// Logs the `placed` line of `item` (details as PlacedDetails).
void LogPlacedEvent(const Item& item, std::string_view why = {});

// The logger of these lines: by default the default logger; the server
// gives them one of their own (named kRequestLoggerName) on the same sink,
// whose lines the sink may hold until the end of the event loop's turn
// (server/log_sink.h). When that sink is the logger's only one, the lines
// go straight into it (BufferedFdSink::HoldLine), not through spdlog's
// logger: the same text, held and flushed as before. Set before any
// thread logs; the logger's sinks are not changed afterwards.
inline constexpr const char* kRequestLoggerName = "request";
void SetRequestLogger(std::shared_ptr<spdlog::logger> logger);
spdlog::logger* RequestLogger();

inline bool RequestEventsLogged() {
  return RequestLogger()->should_log(spdlog::level::info);
}

// Appends "request EVENT [FID] cookie=0x... action=ACTION" to *line.
void AppendRequestEventHead(fmt::memory_buffer* line, RequestEvent event,
                            const hsm_action_item& hai);
// The calling thread's line buffer, reused (its capacity stays).
fmt::memory_buffer& RequestLineBuffer();
// Logs `line` as it is, at info, on the request logger, stamped now.
void LogRequestLine(const fmt::memory_buffer& line);
// The same, stamped `unix_ns` (ns since the Unix epoch): the lines of one
// batch (a `done` of many items, a `recv` reply) share one clock read,
// taken when the batch is handled, instead of one each.
void LogRequestLine(const fmt::memory_buffer& line, int64_t unix_ns);

// The whole line in the calling thread's line buffer, returned.
template <typename... Args>
const fmt::memory_buffer& FormatRequestLine(RequestEvent event,
                                            const hsm_action_item& hai,
                                            fmt::format_string<Args...> details,
                                            Args&&... args) {
  fmt::memory_buffer& line = RequestLineBuffer();
  line.clear();
  AppendRequestEventHead(&line, event, hai);
  const size_t head = line.size();
  line.push_back(' ');
  fmt::format_to(std::back_inserter(line), details,
                 std::forward<Args>(args)...);
  if (line.size() == head + 1) line.resize(head);  // no details
  return line;
}

// Logs the event at info; `details` formatted only if it is logged.
template <typename... Args>
void LogRequestEvent(RequestEvent event, const hsm_action_item& hai,
                     fmt::format_string<Args...> details, Args&&... args) {
  if (!RequestEventsLogged()) return;
  LogRequestLine(
      FormatRequestLine(event, hai, details, std::forward<Args>(args)...));
}

// As LogRequestEvent, the line stamped `unix_ns`.
template <typename... Args>
void LogRequestEventAt(int64_t unix_ns, RequestEvent event,
                       const hsm_action_item& hai,
                       fmt::format_string<Args...> details, Args&&... args) {
  if (!RequestEventsLogged()) return;
  LogRequestLine(
      FormatRequestLine(event, hai, details, std::forward<Args>(args)...),
      unix_ns);
}

// The two lines every request has on the drain's path, written without a
// format string (fmt's run-time formatting of their details was a tenth of
// the server's time per request); the text is what LogRequestEventAt gives
// for "mover={}" and "mover={} status={} duration_ms={}{}" (" retry=yes"
// when `retry`), request_log_test compares both.
void LogSentEventAt(int64_t unix_ns, const hsm_action_item& hai,
                    std::string_view mover);
void LogDoneEventAt(int64_t unix_ns, const hsm_action_item& hai,
                    std::string_view mover, int64_t status, int64_t duration_ms,
                    bool retry);

}  // namespace server

#endif  // SERVER_REQUEST_LOG_H_
