// Per-mover control from coordinatool-client (docs/operations.md,
// maintenance of one mover node): `--drain-mover ID` and `--resume-mover
// ID` send `drain` or `resume` and print what the mover still runs;
// `--wait SECONDS` after a drain polls the status until that mover runs
// nothing, within the bound.
//
// Thread-safety: pure functions, and a wait that only calls what it is
// given.
#ifndef CLIENT_MOVER_CONTROL_H_
#define CLIENT_MOVER_CONTROL_H_

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "protocol/messages.h"

namespace client {

// What mover `id` runs according to a status reply (the sum of its
// current_* counts); nullopt when the status does not list it (forgotten
// once its grace time ended: it runs nothing the server knows of).
std::optional<int64_t> RunningOn(const boost::json::object& status,
                                 std::string_view id);

// The operator's line for a drain or resume reply (status 0):
// "mover m1 drained; it still runs 1 restore, 0 remove, 3 archive".
std::string Describe(const protocol::MoverControlReply& reply);

enum class WaitEnd {
  kIdle,       // the mover runs nothing
  kForgotten,  // the server no longer knows it (runs nothing there)
  kTimedOut,   // it still ran `running` items when the bound passed
  kError,      // the status could not be read (`error`)
};
struct WaitOutcome {
  WaitEnd end = WaitEnd::kIdle;
  int64_t running = 0;
  std::string error;
};

// Reads the status (`read_status`: one reply, false with *error) every
// `period` until mover `id` runs nothing or `limit` passed since the call
// (one last reading at the bound). `sleep` waits a duration (tests step a
// ManualClock instead).
WaitOutcome WaitUntilIdle(
    std::string_view id,
    const std::function<bool(boost::json::object*, std::string*)>& read_status,
    const common::Clock& clock, common::Clock::Duration period,
    common::Clock::Duration limit,
    const std::function<void(common::Clock::Duration)>& sleep);

class Session;

// WaitUntilIdle over `session` (a status every second, each within
// `reply_timeout_ms`), printing the end to `out` or `err`. Returns the
// exit code: 0 when the mover runs nothing (or is forgotten), 2 when it
// still runs items after `limit`, 1 when the status cannot be read.
int WaitForDrained(Session& session, const std::string& id,
                   std::chrono::seconds limit, int reply_timeout_ms,
                   std::ostream& out, std::ostream& err);

}  // namespace client

#endif  // CLIENT_MOVER_CONTROL_H_
