#include "client/mover_control.h"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>
#include <thread>

#include "client/session.h"

namespace client {

namespace json = boost::json;

std::optional<int64_t> RunningOn(const json::object& status,
                                 std::string_view id) {
  const json::value* clients = status.if_contains("clients");
  if (!clients || !clients->is_array()) return std::nullopt;
  for (const json::value& client : clients->get_array()) {
    if (!client.is_object()) continue;
    const json::object& o = client.get_object();
    const json::value* name = o.if_contains("client_id");
    if (!name || !name->is_string() || name->get_string() != id) continue;
    int64_t running = 0;
    for (const char* key :
         {"current_restore", "current_remove", "current_archive"}) {
      const json::value* v = o.if_contains(key);
      if (v && v->is_int64()) running += v->get_int64();
      if (v && v->is_uint64()) running += static_cast<int64_t>(v->get_uint64());
    }
    return running;
  }
  return std::nullopt;
}

std::string Describe(const protocol::MoverControlReply& reply) {
  return fmt::format(
      "mover {} {}{}; it still runs {} restore, {} remove, {} archive",
      reply.client_id, reply.drain ? "drained" : "resumed",
      reply.connected ? "" : " (disconnected, within its grace time)",
      reply.current[0], reply.current[1], reply.current[2]);
}

WaitOutcome WaitUntilIdle(
    std::string_view id,
    const std::function<bool(json::object*, std::string*)>& read_status,
    const common::Clock& clock, common::Clock::Duration period,
    common::Clock::Duration limit,
    const std::function<void(common::Clock::Duration)>& sleep) {
  const common::Clock::TimePoint deadline = clock.Now() + limit;
  WaitOutcome outcome;
  for (;;) {
    json::object status;
    if (!read_status(&status, &outcome.error)) {
      outcome.end = WaitEnd::kError;
      return outcome;
    }
    std::optional<int64_t> running = RunningOn(status, id);
    if (!running) {
      outcome.end = WaitEnd::kForgotten;
      outcome.running = 0;
      return outcome;
    }
    outcome.running = *running;
    if (*running == 0) {
      outcome.end = WaitEnd::kIdle;
      return outcome;
    }
    const common::Clock::TimePoint now = clock.Now();
    if (now >= deadline) {
      outcome.end = WaitEnd::kTimedOut;
      return outcome;
    }
    sleep(std::min(period, deadline - now));
  }
}

int WaitForDrained(Session& session, const std::string& id,
                   std::chrono::seconds limit, int reply_timeout_ms,
                   std::ostream& out, std::ostream& err) {
  common::SteadyClock clock;
  // Verbose 0: the counters and the movers, never the queues.
  const json::object request = protocol::ToJson(protocol::StatusRequest{0});
  auto read = [&](json::object* status, std::string* error) {
    return session.Call(request, status, reply_timeout_ms, error);
  };
  auto sleep = [](common::Clock::Duration d) {
    std::this_thread::sleep_for(d);
  };
  WaitOutcome outcome =
      WaitUntilIdle(id, read, clock, std::chrono::seconds(1), limit, sleep);
  switch (outcome.end) {
    case WaitEnd::kIdle:
      out << fmt::format("mover {} runs nothing\n", id);
      return 0;
    case WaitEnd::kForgotten:
      out << fmt::format(
          "mover {} is no longer known to the server (gone past its grace "
          "time): it runs nothing there\n",
          id);
      return 0;
    case WaitEnd::kTimedOut:
      err << fmt::format("mover {} still runs {} items after {} s\n", id,
                         outcome.running, limit.count());
      return 2;
    case WaitEnd::kError:
      err << "status: " << outcome.error << "\n";
      return 1;
  }
  return 1;
}

}  // namespace client
