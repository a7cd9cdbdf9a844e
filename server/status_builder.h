// StatusBuilder: the `status` reply (docs/protocol.md): counters of the
// Scheduler, the store and re-dispatch safety, one entry per mover and per
// anonymous client, and with verbose 6 the item lists, which StatusStream
// writes a slice at a time as the peer reads. The original's fields keep
// their meaning; what it lacked (failures apart, ages of the oldest waiting
// requests, the kind of each connection) comes in fields beside them.
//
// What it needs of the mover table and of the server comes as a plain view
// (StatusView), so that it neither knows connections nor owns any state.
//
// Thread-safety: none; the server's event loop owns it.
#ifndef SERVER_STATUS_BUILDER_H_
#define SERVER_STATUS_BUILDER_H_

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "server/ha_status.h"
#include "server/item.h"
#include "server/redispatch.h"
#include "server/scheduler.h"
#include "server/status_stream.h"

namespace server {

// One mover known by id, as status shows it.
struct MoverStatusView {
  MoverId id;
  // "init", "ready", "waiting" while connected; "disconnected" within its
  // grace time.
  std::string state;
  bool connected = false;
  int64_t disconnected_unix_ns = 0;  // while disconnected
  std::array<uint64_t, kItemTypeCount> done{};
  bool draining = false;  // an admin drained it
};

// A connection without a mover id (a client, or a mover that gave none).
struct AnonymousStatusView {
  MoverId id;  // its peer address
  std::string state;
  // "mover" (it asked for work or runs some), else what it is: "admin",
  // "monitor" (by its role, with authentication), "client".
  std::string kind = "client";
};

struct StatusView {
  size_t connections = 0;
  int locked = 0;     // 0 unlocked, 1 locked, 2 lock and quit
  std::string store;  // the store's description
  bool store_writable = true;
  std::string instance;  // this run's id (server/reconcile.h); "" omitted
  // Connected movers first, then disconnected ones, as they are listed.
  std::vector<MoverStatusView> movers;
  std::vector<AnonymousStatusView> anonymous;
  // Retries of requests movers ended with HP_FLAG_RETRY (server/
  // retry_memory.h); empty: left out.
  boost::json::object retries;
  // New restores failed with EDQUOT: their owner was at
  // max_queued_restores_per_owner.
  uint64_t restores_over_queue_cap = 0;
  // High availability (docs/high-availability.md); nullopt: off.
  std::optional<HaStatusView> ha;
};

class StatusBuilder {
 public:
  // `stopped`: true once the server stopped (waiting items of a dump still
  // being written are left out then).
  StatusBuilder(const Scheduler& scheduler, const Redispatch& redispatch,
                const common::Clock& clock, std::function<bool()> stopped);

  // The whole reply at `verbose` (6: with the item lists), ready to send.
  std::shared_ptr<StatusStream> Build(const StatusView& view,
                                      int verbose) const;

  // Parts of it (also for tests).
  boost::json::object Counters(const StatusView& view) const;
  boost::json::object RedispatchStatus(int verbose) const;
  // `stream` receives the item lists (verbose 6).
  boost::json::object MoverStatus(const MoverStatusView& mover, int verbose,
                                  StatusStream& stream) const;
  boost::json::object AnonymousStatus(const AnonymousStatusView& a) const;
  // Renders a waiting item of a status snapshot, if it still waits.
  StatusStream::Render WaitingEntry() const;

 private:
  // The media a mover holds (recalls in tape order).
  boost::json::array Media(const MoverId& id) const;
  boost::json::array Batches(const MoverId& id, int verbose,
                             StatusStream& stream) const;
  void AddItemLists(boost::json::object& o, StatusStream& stream) const;
  double AgeSeconds(int64_t since_unix_ns) const;

  const Scheduler& scheduler_;
  const Redispatch& redispatch_;
  const common::Clock& clock_;
  const std::function<bool()> stopped_;
};

}  // namespace server

#endif  // SERVER_STATUS_BUILDER_H_
