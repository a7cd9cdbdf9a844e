// Server: the `upcall` command (docs/upcall.md). A Lustre carrying the
// LU-10968 patch runs coordinatool-upcall instead of queueing archives and
// removes in its coordinator; the upcall sends them here, and exits 0 only
// once this reply says they are durable. They become upcalled items
// (protocol/upcall.h): scheduled as any item, handed to upcall workers only.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>

#include "protocol/upcall.h"
#include "server/request_log.h"
#include "server/server.h"

namespace server {

namespace json = boost::json;

void Server::Upcall(Connection& c, const json::object& m) {
  protocol::UpcallRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "upcall", EINVAL, error);
  if (request.fsname != lustre_.fsname())
    return Reply(c, "upcall", EINVAL,
                 fmt::format("filesystem '{}': this server serves '{}'",
                             request.fsname, lustre_.fsname()));
  if (!store_->writable())
    return Reply(c, "upcall", EAGAIN,
                 "the store cannot persist new requests now, retry later");
  const int64_t now_ns = clock_.UnixNanos();
  // Cookies no held item has (one a previous run gave, should the clock
  // have gone back since).
  std::vector<protocol::WireItem> items;
  for (;;) {
    items = protocol::UpcallItems(
        request, upcall_cookies_.Take(request.fids.size(), now_ns), now_ns);
    bool clash = false;
    for (const protocol::WireItem& wire : items)
      clash |= scheduler_.Find(ItemId::Of(wire.item.hai)) != nullptr;
    if (!clash) break;
  }
  protocol::UpcallReply reply;
  for (protocol::WireItem& wire : items) {
    if (!placement_.AddListed(wire)) continue;
    ++reply.enqueued;
    metrics_.Received(*TypeOfAction(wire.item.hai.hai_action),
                      RequestSource::kQueue, wire.archive_id);
    if (RequestEventsLogged()) {
      LogRequestEvent(RequestEvent::kReceived, wire.item.hai,
                      "from=upcall client={} archive_id={}", c.id,
                      protocol::LustreArchiveOf(wire.archive_id));
      LogPlaced(scheduler_.Find(ItemId::Of(wire.item.hai)));
    }
  }
  spdlog::info("{}: upcall: {} {} of archive {} queued", c.id, reply.enqueued,
               request.action == HSMA_REMOVE ? "removes" : "archives",
               request.archive_id);
  // The upcall exits 0 on this reply: only once every item is durable.
  SendWhenDurable(c, protocol::ToJson(reply), true);
  DispatchAll();
}

}  // namespace server
