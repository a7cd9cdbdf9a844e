#include "server/server.h"

#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "auth/auth_file.h"
#include "common/version.h"
#include "protocol/byte_string.h"
#include "protocol/item_scan.h"
#include "protocol/messages.h"
#include "protocol/mover_id.h"
#include "protocol/upcall.h"
#include "protocol/wire_text.h"
#include "server/exposure.h"
#include "server/reload.h"
#include "server/request_log.h"
#include "server/standby_reply.h"
#include "server/timed_store.h"
#include "store/null_store.h"
#include "store/open_store.h"
#include "store/store.h"

namespace server {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

uint32_t LimitOf(int64_t value) {
  return value < 0 || value >= kUnlimited ? kUnlimited
                                          : static_cast<uint32_t>(value);
}

const char* StateName(Connection::State state) {
  switch (state) {
    case Connection::State::kInit:
      return "init";
    case Connection::State::kReady:
      return "ready";
    case Connection::State::kWaiting:
      return "waiting";
  }
  return "?";
}

// Reads the store's requests and assignments, before anything is changed.
// A stored item whose host rules were applied before it was stored (a
// re-announced item the store had lost) names its mover (kPlacedOnKey):
// recovery places it there as it is.
// Each request's store handle goes with it (WireItem::store_handle), into
// its Item.
struct Recovered : store::LoadVisitor {
  struct Assignment {
    std::string key, mover;
    store::Handle handle;
  };
  std::vector<protocol::WireItem> requests;
  std::unordered_map<std::string, std::string> placed_on;  // key -> mover
  // Keys and handles of unreadable requests.
  std::vector<std::pair<std::string, store::Handle>> dropped;
  std::vector<Assignment> assignments;

  void ExpectRequests(size_t count) override { requests.reserve(count); }
  bool KeepsHandles() const override { return true; }
  void OnRequest(std::string_view key, std::string_view text,
                 store::Handle handle) override {
    protocol::WireItem wire;
    std::string_view placed;
    std::string placed_by_dom, why;
    // The writer's own form (Placement::Put) without a DOM; anything else
    // parsed and judged as always.
    if (!protocol::ScanItemText(text, kPlacedOnKey, &wire, &placed)) {
      why = ReadWithDom(text, &wire, &placed_by_dom);
      placed = placed_by_dom;
    }
    if (why.empty() && !TypeOfAction(wire.item.hai.hai_action))
      why = "not an archive, restore or remove";
    if (why.empty() && !store::IsRequestKey(key, wire.item.hai.hai_cookie,
                                            wire.item.hai.hai_dfid))
      why = "key does not match the item's cookie and dfid";
    if (!why.empty()) {
      spdlog::error("store: request {} dropped: {}: {:.200}", key, why, text);
      dropped.emplace_back(key, handle);
      return;
    }
    if (!placed.empty()) placed_on.emplace(key, placed);
    wire.store_handle = handle;
    requests.push_back(std::move(wire));
  }

  // The item in `text` parsed into a DOM: "" or why it is unreadable.
  // *placed: its kPlacedOnKey when that is a string.
  static std::string ReadWithDom(std::string_view text,
                                 protocol::WireItem* wire,
                                 std::string* placed) {
    // The DOM's memory from a block on the stack.
    unsigned char memory[4096];
    json::monotonic_resource resource(memory, sizeof(memory));
    boost::system::error_code ec;
    json::value value = json::parse(text, ec, &resource);
    if (ec) return ec.message();
    if (!value.is_object()) return "not an object";
    std::string why;
    if (!protocol::ItemFromJson(value.get_object(), wire, &why))
      return why.empty() ? "bad item" : why;
    if (const json::value* found = value.get_object().if_contains(kPlacedOnKey);
        found && found->is_string())
      *placed = found->get_string();
    return "";
  }
  void OnAssignment(std::string_view key, std::string_view mover,
                    store::Handle handle) override {
    assignments.push_back({std::string(key), std::string(mover), handle});
  }
};

// Liveness checks run on the event loop, this many per turn: each is an
// MDS round trip on Lustre (well under a millisecond on a healthy MDS), so
// a turn stays short and other peers are served between batches.
constexpr size_t kChecksPerTurn = 32;

// Placement's options from the settings; sets the Scheduler's fair share
// and makes the reporter (report files) that placement also writes to.
PlacementOptions PlacementOptionsOf(asio::io_context& io,
                                    const ServerOptions& options,
                                    Scheduler& scheduler,
                                    std::optional<policy::Reporter>& reporter) {
  const config::ServerSettings& s = options.settings;
  PlacementOptions placement;
  placement.mount = options.mount;
  placement.archive_on_hosts = s.archive_on_hosts;
  placement.archive_on_hosts_ch = s.archive_on_hosts_ch;
  placement.owner_kind = SetUpFairShare(s, scheduler);
  if (!s.restore_locality_command.empty()) {
    policy::LocatorOptions locator;
    locator.command = s.restore_locality_command;
    locator.timeout = std::chrono::milliseconds(s.restore_locality_timeout_ms);
    placement.locator =
        std::make_unique<policy::Locator>(io, std::move(locator));
  }
  if (!s.reporting_dir.empty() && !s.reporting_hint.empty())
    reporter.emplace(options.mount + "/" + s.reporting_dir, s.reporting_hint);
  placement.reporter = reporter ? &*reporter : nullptr;
  return placement;
}

// The core's rules, from the settings.
CoreOptions CoreOptionsOf(const config::ServerSettings& s,
                          const Liveness& liveness) {
  using std::chrono::milliseconds;
  CoreOptions o;
  o.grace = milliseconds(s.client_grace_ms);
  o.stale = milliseconds(std::max<int64_t>(0, s.stale_timeout_ms));
  // Report files are written only with both settings.
  if (!s.reporting_dir.empty() && !s.reporting_hint.empty())
    o.report =
        milliseconds(std::max<int64_t>(0, s.reporting_schedule_interval_ms));
  o.liveness = liveness.check_period();
  o.oversized = milliseconds(std::max<int64_t>(0, s.oversized_timeout_ms));
  return o;
}

// What each new connection gets from the settings: its memory bound and
// TCP keepalive.
void SetConnectionOptions(const config::ServerSettings& s,
                          ConnectionOptions* options) {
  options->max_message_memory = static_cast<size_t>(s.connection_memory_mb)
                                << 20;
  KeepaliveSettings keepalive =
      KeepaliveFor(std::chrono::milliseconds(s.liveness_timeout_ms));
  options->keepalive_idle_s = keepalive.idle_s;
  options->keepalive_interval_s = keepalive.interval_s;
  options->keepalive_count = keepalive.count;
}

}  // namespace

Server::Server(asio::io_context& io, ServerOptions options,
               const common::Clock& clock)
    : io_(io),
      options_(std::move(options)),
      clock_(clock),
      listener_(
          io, clock, MaxConnectionsFor(options_.settings.max_connections),
          [this] { return connections_.size(); },
          [this](asio::ip::tcp::socket socket) {
            Accepted(std::move(socket));
          }),
      liveness_(
          {std::chrono::milliseconds(options_.settings.handshake_timeout_ms),
           std::chrono::milliseconds(options_.settings.liveness_timeout_ms)}),
      store_(std::make_unique<store::NullStore>()),
      redispatch_(clock),
      id_holders_([this](const std::string& id) {
        return movers_.Find(id) != nullptr;
      }),
      core_(clock, CoreOptionsOf(options_.settings, liveness_), scheduler_,
            redispatch_, movers_, *this),
      timer_(io),
      metrics_(clock, common::kVersion),
      placement_(scheduler_, *store_,
                 PlacementOptionsOf(io, options_, scheduler_, reporter_),
                 PlacementHooksOf()),
      status_(scheduler_, redispatch_, clock, [this] { return stopped_; }) {
  const config::ServerSettings& s = options_.settings;
  connection_options_.max_message_bytes = options_.max_message_bytes;
  SetConnectionOptions(s, &connection_options_);
  if (s.batching())
    scheduler_.SetBatching({std::chrono::seconds(s.batch_idle_sec),
                            std::chrono::seconds(s.batch_max_sec),
                            s.batch_slots_per_client});
  if (s.tape_order())  // the first stage of the restore chain
    scheduler_.SetTapeOrder({std::chrono::seconds(s.restore_slice_idle_sec),
                             std::chrono::seconds(s.restore_slice_max_sec),
                             s.restore_media_per_mover});
  scheduler_.SetArchiveMaxWait(std::chrono::seconds(s.archive_max_wait_sec));
  scheduler_.SetRestoreBlockingShare(s.restore_blocking_share);
  scheduler_.SetRestoreOwnerLimit(s.max_running_restores_per_owner);
  scheduler_.SetRestoreQueueCap(s.max_queued_restores_per_owner);
  // A retried request the memory forgets will not be recognised when it
  // comes back: its file stops waiting for it.
  retries_.SetForgottenHook(
      [this](const ItemId& key) { scheduler_.EndAwaitRetry(key); });
  if (const char* n = getenv("COORDINATOOL_TEST_KILL_AFTER_READS"))
    kill_after_reads_ = std::max(0, atoi(n));
}

Server::~Server() {
  if (lustre_fd_) lustre_fd_->release();
}

bool Server::OpenStore(std::string* error, uint64_t fence_epoch) {
  std::string fsname;
  if (LustreAgent::FindFsname(options_.mount, &fsname, error) < 0) return false;
  std::vector<std::string> warnings;
  auto opened = store::OpenStore(io_, options_.settings, fsname, &warnings,
                                 error, fence_epoch);
  for (const std::string& warning : warnings)
    spdlog::warn("store: {}", warning);
  if (!opened) {
    *error = "store: " + *error;
    return false;
  }
  // Timed: the metrics' store write latency.
  store_ = std::make_unique<TimedStore>(
      std::move(opened), clock_,
      [this](double seconds) { metrics_.StoreWrite(seconds); });
  placement_.set_store(*store_);
  outbox_ = std::make_unique<store::Outbox>(*store_);
  store_->SetHealthCallback([this](bool writable) { OnStoreHealth(writable); });
  return true;
}

bool Server::Recover(std::string* error) {
  Recovered found;
  if (!store_->Load(found, error)) {
    *error = fmt::format("store: {}: {}", store_->Describe(), *error);
    return false;
  }
  for (const auto& [key, handle] : found.dropped) store_->Forget(key, handle);
  // Arrival order: the timestamp each item got when first seen.
  // (The journal lists them in that order already, unless compacted.)
  auto by_arrival = [](const auto& a, const auto& b) {
    return a.timestamp_ns < b.timestamp_ns;
  };
  if (!std::is_sorted(found.requests.begin(), found.requests.end(), by_arrival))
    std::stable_sort(found.requests.begin(), found.requests.end(), by_arrival);
  // The scheduler's indexes sized once for all of them, not grown by
  // doubling (a rehash of every item each time) on the way.
  scheduler_.Reserve(scheduler_.size() + found.requests.size());
  // The store keeps each request under its key, RequestKey(cookie, dfid),
  // which Recovered checked against the item: the recovered identities
  // are distinct, and none is held when the scheduler starts empty.
  const bool unknown = scheduler_.size() == 0;
  static const std::string kNowhere;
  for (const protocol::WireItem& wire : found.requests) {
    const std::string* placed = &kNowhere;
    if (!found.placed_on.empty()) {
      auto it = found.placed_on.find(KeyOf(ItemId::Of(wire.item.hai)));
      if (it != found.placed_on.end()) placed = &it->second;
    }
    placement_.EnqueueRecovered(wire, *placed, unknown);
  }
  // Assignments by key (few: the work movers had in hand), matched against
  // the requests; an assignment without request is dropped.
  std::unordered_map<std::string_view, const Recovered::Assignment*> mover_of;
  for (const auto& assignment : found.assignments)
    mover_of[assignment.key] = &assignment;
  size_t running = 0;
  for (const protocol::WireItem& wire : found.requests) {
    if (mover_of.empty()) break;
    ItemId id = ItemId::Of(wire.item.hai);
    auto it = mover_of.find(KeyOf(id));
    if (it == mover_of.end()) continue;
    const std::string mover = it->second->mover;
    mover_of.erase(it);
    const Item* item = scheduler_.Find(id);
    if (!item) continue;  // a duplicate identity
    // Placeholder: a mover that has not come back yet, whose grace time
    // starts now.
    movers_.AddPlaceholder(mover, clock_.Now(), clock_.UnixNanos());
    protocol::WireItem claimed = item->ToWire();
    scheduler_.Claim(mover, claimed);
    ++running;
  }
  for (const auto& [key, assignment] : mover_of)
    store_->Unassign(key, assignment->handle);
  spdlog::info("recovered {} requests from {}, {} of them running on {} movers",
               found.requests.size(), store_->Describe(), running,
               movers_.entries().size());
  return true;
}

void Server::OnStoreHealth(bool writable) {
  if (store_->fenced()) {
    // Stepped down from a handler of its own, not from inside the store.
    asio::post(
        io_, [this] { StepDown("a write was fenced: another server leads"); });
    return;
  }
  if (!writable) {
    spdlog::error(
        "store {} cannot persist: not taking new requests from Lustre (they "
        "wait in Lustre) nor from queue commands until it is back; serving "
        "the {} requests held",
        store_->Describe(), scheduler_.size());
    return;
  }
  spdlog::warn("store {} is back: taking new requests again",
               store_->Describe());
  // What waited for the store leaves first, in order.
  outbox_->OnWritable();
  if (lustre_paused_) {
    lustre_paused_ = false;
    WatchLustre();
  }
}

PlacementHooks Server::PlacementHooksOf() {
  PlacementHooks hooks;
  hooks.presence = [this](const std::string& id) {
    const MoverEntry* mover = movers_.Find(id);
    if (!mover) return policy::MoverPresence::kUnknown;
    // A drained mover takes no new work: host rules prefer another of
    // their hosts, the locality helper's answer goes to any mover.
    return mover->connection && !mover->draining
               ? policy::MoverPresence::kConnected
               : policy::MoverPresence::kDisconnected;
  };
  hooks.connected = [this] {
    std::vector<MoverId> ids;
    for (const auto& [id, mover] : movers_.entries())
      if (mover.connection && !mover.draining) ids.push_back(id);
    return ids;
  };
  hooks.located = [this](const MoverId& mover) {
    std::shared_ptr<Connection> target =
        mover.empty() ? nullptr : movers_.ConnectionOf(mover);
    if (!target) return DispatchAll();
    DispatchTo(*target, ShareDivisor());
  };
  hooks.stopped = [this] { return stopped_; };
  return hooks;
}

void Server::StoreAssign(const ItemId& id, store::Handle handle,
                         const std::string& mover) {
  if (store_->persistent())
    store_->Assign(store::RequestKeyText(id.cookie, id.dfid), mover, handle);
}

void Server::StoreUnassign(const ItemId& id, store::Handle handle) {
  if (store_->persistent())
    store_->Unassign(store::RequestKeyText(id.cookie, id.dfid), handle);
}

void Server::StoreForget(const ItemId& id, store::Handle handle) {
  if (store_->persistent())
    store_->Forget(store::RequestKeyText(id.cookie, id.dfid), handle);
}

void Server::SendWhenDurable(Connection& c, json::object message,
                             bool acknowledges) {
  SendTextWhenDurable(c, json::serialize(message), acknowledges);
}

void Server::SendTextWhenDurable(Connection& c, std::string text,
                                 bool acknowledges) {
  if (lease_) {
    // High availability: a reply leaves only while the lease is held,
    // checked again when the store lets it go.
    if (!Serving()) return;
    std::weak_ptr<Connection> weak = c.weak_from_this();
    outbox_->Send(
        &c, acknowledges, [this, weak, text = std::move(text)]() mutable {
          if (!Serving()) return;
          if (auto connection = weak.lock(); connection && connection->open())
            connection->SendText(std::move(text));
        });
    return;
  }
  // A store that keeps nothing answers every sync at once, durable, and
  // the outbox never holds anything for it: the reply leaves now, without
  // the outbox's callbacks (two allocations per reply).
  if (!store_->persistent() && outbox_->held() == 0)
    return c.SendText(std::move(text));
  std::weak_ptr<Connection> weak = c.weak_from_this();
  outbox_->Send(&c, acknowledges, [weak, text = std::move(text)]() mutable {
    if (auto connection = weak.lock(); connection && connection->open())
      connection->SendText(std::move(text));
  });
}

void Server::CloseAfterReplies(Connection& c, const std::string& why) {
  c.StopHandling();
  // Nothing owed can be waiting for the store: as SendTextWhenDurable.
  if (!lease_ && !store_->persistent() && outbox_->held() == 0)
    return c.CloseWhenWritten(why);
  // Behind the replies of this connection, in order (store::Outbox); with
  // high availability, whether or not this server still serves them.
  std::weak_ptr<Connection> weak = c.weak_from_this();
  outbox_->Send(&c, /*needs_durable=*/false, [weak, why] {
    if (auto connection = weak.lock(); connection && connection->open())
      connection->CloseWhenWritten(why);
  });
}

void Server::OnUnreadable(Connection& c, const std::string& why) {
  CloseAfterReplies(c, why);
}

bool Server::Start(std::string* error) {
  const config::ServerSettings& s = options_.settings;
  if (!LoadAuth(error)) return false;
  const bool ha = s.ha_lease_ms > 0;
  if (ha && !store::UsesRedis(s)) {
    *error =
        "ha_lease_ms needs the Redis store (store redis, or redis_host, "
        "redis_socket or redis_sentinels): the lease and the state the "
        "servers share are in Redis";
    return false;
  }
  // A standby neither loads the state nor registers with Lustre: it does
  // both once it leads (TakeLead).
  if (!ha) {
    if (!OpenStore(error) || !Recover(error)) return false;
#ifdef __GLIBC__
    // The load's temporary copies (a million requests: hundreds of MiB)
    // are free now; give the pages back rather than keep them as resident
    // heap.
    malloc_trim(0);
#endif
    if (lustre_.Register(options_.mount, s.archive_ids, error) < 0)
      return false;
  }

  if (!StartTls(error)) return false;
  if (!s.queue_check_lustre)
    spdlog::warn(
        "queue_check_lustre is false: queue takes requests Lustre never "
        "made (a made-up REMOVE deletes an archive copy); for benchmarks "
        "and tests only");
  std::optional<Exposure> exposure = DecideListening(error);
  if (!exposure) return false;
  if (!listener_.Listen(exposure->listen_host, s.port, error)) return false;
  if (!StartHttp(exposure->listen_host, error)) return false;
  if (ha)
    spdlog::info("listening for {} on {}:{} (standby until it leads)",
                 options_.mount, exposure->listen_host, listener_.port());
  else
    spdlog::info("serving {} (fsname {}) on {}:{}", options_.mount,
                 lustre_.fsname(), exposure->listen_host, listener_.port());
  spdlog::info("serving at most {} connections", listener_.max_connections());
  spdlog::info("instance {}", reconcile_.instance());
  listener_.Start();
  if (ha) return StartHa(error);
  WatchLustre();
  core_.Start();
  ArmTimer();
  return true;
}

std::optional<Exposure> Server::DecideListening(std::string* error) {
  const config::ServerSettings& s = options_.settings;
  asio::ip::tcp::resolver resolver(io_);
  boost::system::error_code ec;
  auto endpoints =
      resolver.resolve(s.host, s.port, asio::ip::tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    *error =
        fmt::format("cannot resolve {}:{}: {}", s.host, s.port, ec.message());
    return std::nullopt;
  }
  ExposureInput in;
  in.host = s.host;
  // The address the listener binds: the first the host resolves to.
  in.address = endpoints.begin()->endpoint().address().to_string();
  in.allow_insecure = s.allow_insecure;
  in.tls = tls_ != nullptr;
  in.client_certs_required =
      tls_ && tls_->client_cert_mode() == tls::ClientCertMode::kRequired;
  in.auth = authorizer_.has_value();
  Exposure exposure = DecideExposure(in);
  for (const ExposureLine& line : exposure.lines) {
    if (line.warning)
      spdlog::warn("{}", line.text);
    else
      spdlog::info("{}", line.text);
  }
  return exposure;
}

void Server::Shutdown(const std::string& why) {
  if (stopped_) return;
  stopped_ = true;
  spdlog::info("shutting down: {}", why);
  if (lustre_fd_) {
    lustre_fd_->cancel();
    lustre_fd_->release();
    lustre_fd_.reset();
  }
  lustre_.Unregister();
  listener_.Stop();
  if (http_) http_->Stop();
  if (backlog_timer_) backlog_timer_->cancel();
  core_.Stop();
  timer_.cancel();
  for (auto& connection : std::vector(connections_.begin(), connections_.end()))
    connection->Close("server shutting down");
  // Assignments stay in the store (unlike the original: docs/redis.md,
  // differences from the original): the movers
  // keep running their items and re-announce them to the next server.
  // A leader stepping down does not wait long: what it still writes is
  // fenced once another leads.
  store_->Close(stepping_down_ ? 1'000 : 10'000);
  // Then the lease: released by a leader that stops on purpose, so that a
  // standby takes over at once and finds everything written above.
  if (lease_) lease_->Stop(/*release=*/leading_ && !stepping_down_);
}

bool Server::StartHa(std::string* error) {
  const config::ServerSettings& s = options_.settings;
  LeaseKeeperOptions lease;
  if (!store::RedisOptionsOf(s, &lease.redis, error)) return false;
  lease.ttl = std::chrono::milliseconds(s.ha_lease_ms);
  lease.advertise = s.ha_advertise;
  if (lease.advertise.empty())
    lease.advertise = s.host.find(':') == std::string::npos
                          ? fmt::format("{}:{}", s.host, listener_.port())
                          : fmt::format("[{}]:{}", s.host, listener_.port());
  // Test-only fault (tests/server/ha_test.cc): a leader that keeps
  // serving past its lease, stopped by fencing alone.
  lease.freeze_after_taking =
      getenv("COORDINATOOL_TEST_FREEZE_LEASE") != nullptr;
  LeaseEvents events;
  events.took_lead = [this](uint64_t epoch) { TakeLead(epoch); };
  events.stepped_down = [this](const std::string& why) { StepDown(why); };
  spdlog::info(
      "high availability: standby until this server holds the lease "
      "({} ms) in {}; it names itself {}",
      s.ha_lease_ms, store::DescribeRedis(lease.redis), lease.advertise);
  lease_ = std::make_unique<LeaseKeeper>(io_, clock_, std::move(lease),
                                         std::move(events));
  lease_->Start();
  return true;
}

void Server::TakeLead(uint64_t epoch) {
  if (stopped_ || leading_ || stepping_down_) return;
  const auto started = clock_.Now();
  const int64_t started_unix_ns = clock_.UnixNanos();
  spdlog::warn(
      "leadership: this server leads now (epoch {}): loading the state, "
      "registering with Lustre",
      epoch);
  std::string error;
  if (!OpenStore(&error, epoch) || !Recover(&error))
    return StepDown("takeover failed: " + error);
#ifdef __GLIBC__
  malloc_trim(0);
#endif
  if (lustre_.Register(options_.mount, options_.settings.archive_ids, &error) <
      0)
    return StepDown("takeover failed: " + error);
  leading_ = true;
  last_takeover_unix_ns_ = started_unix_ns;
  last_takeover_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                          clock_.Now() - started)
                          .count();
  // Loading may have outlasted the lease (renewed meanwhile by the
  // keeper's thread, unless Redis went away).
  if (!Serving()) return;
  spdlog::info(
      "leadership: took over in {} ms: serving {} (fsname {}) on {}:{}",
      last_takeover_ms_, options_.mount, lustre_.fsname(),
      options_.settings.host, listener_.port());
  WatchLustre();
  core_.Start();
  ArmTimer();
}

void Server::StepDown(const std::string& why) {
  if (stepping_down_ || stopped_) return;
  stepping_down_ = true;
  exit_status_ = kExitSteppedDown;
  if (lease_) lease_->StepDown(why);
  spdlog::critical(
      "stepping down: {}; exiting with status {} to start again as a "
      "standby",
      why, kExitSteppedDown);
  Shutdown("stepped down: " + why);
}

bool Server::Serving() {
  if (!lease_) return true;
  if (!leading_ || stepping_down_ || stopped_) return false;
  // Fenced: another server leads, whatever the local lease says.
  if (store_->fenced()) return false;
  if (lease_->Leading()) return true;
  // The lease's local end passed before the keeper's thread said so: from
  // this instant nothing goes out; the step-down runs from its own handler
  // (not from inside whatever asked).
  asio::post(io_, [this] { StepDown("the lease's local end has passed"); });
  return false;
}

std::optional<HaStatusView> Server::HaViewOf() const {
  if (!lease_) return std::nullopt;
  LeaseView lease = lease_->View();
  HaStatusView view;
  view.role = stepping_down_ ? RoleName(Role::kSteppedDown)
              : lease.role == Role::kLeader && !leading_ ? "taking-over"
                                                         : RoleName(lease.role);
  view.epoch = lease.epoch;
  view.lease_remaining_ms = lease.remaining.count();
  view.leader = lease.leader;
  view.last_takeover_unix_ns = last_takeover_unix_ns_;
  view.last_takeover_ms = last_takeover_ms_;
  return view;
}

bool Server::StartTls(std::string* error) {
  const config::ServerSettings& s = options_.settings;
  if (s.tls_cert.empty()) {
    if (!s.tls_key.empty() || !s.tls_ca.empty() || !s.tls_client_cert.empty())
      spdlog::warn(
          "tls_key, tls_ca and tls_client_cert have no effect "
          "without tls_cert: plain TCP");
    return true;
  }
  tls_ = tls::ServerTls::Load(
      {s.tls_cert, s.tls_key, s.tls_ca, s.tls_client_cert}, error);
  if (!tls_) return false;
  spdlog::info("TLS on: {}", tls_->description());
  return true;
}

void Server::Reload() {
  if (stopped_) return;
  spdlog::info("reload asked (SIGHUP)");
  if (!ReloadSettings()) return;
  if (tls_) {
    std::string error;
    if (tls_->Reload(&error))
      spdlog::info("TLS reloaded: new connections use {}", tls_->description());
    else
      spdlog::error("TLS reload failed, keeping {}: {}", tls_->description(),
                    error);
  }
  ReloadAuth();
}

bool Server::ReloadSettings() {
  if (!options_.load_settings) return true;
  config::ServerSettings read;
  std::vector<std::string> warnings;
  std::string error;
  if (!options_.load_settings(&read, &warnings, &error)) {
    spdlog::error(
        "reload refused, running on as before (settings, TLS and auth "
        "files unchanged): {}",
        error);
    return false;
  }
  for (const std::string& warning : warnings)
    spdlog::warn("reload: {}", warning);
  ReloadPlan plan = PlanReload(options_.settings, read);
  if (!plan.kept.empty()) spdlog::warn("{}", KeptWarning(plan.kept));
  // Said before a lower log level hides it.
  spdlog::info("{}", AppliedSummary(plan.applied));
  if (!plan.applied.empty()) ApplySettings(plan.settings);
  return true;
}

void Server::ApplySettings(const config::ServerSettings& s) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  if (options_.settings.queue_check_lustre && !s.queue_check_lustre)
    spdlog::warn(
        "queue_check_lustre is false now: queue takes requests Lustre never "
        "made; for benchmarks and tests only");
  options_.settings = s;
  spdlog::set_level(LogLevelFor(s.verbose));
  // Connections: the cap and the timeouts apply to every connection at
  // once; the memory bound and keepalive to the connections accepted from
  // now on (an open socket keeps its own).
  listener_.set_max_connections(MaxConnectionsFor(s.max_connections));
  SetConnectionOptions(s, &connection_options_);
  liveness_ = Liveness({milliseconds(s.handshake_timeout_ms),
                        milliseconds(s.liveness_timeout_ms)});
  core_.Reconfigure(CoreOptionsOf(s, liveness_));
  // Policies: for what is placed or sent from now on.
  if (scheduler_.batching() && s.batching())
    scheduler_.SetBatchTimes(seconds(s.batch_idle_sec),
                             seconds(s.batch_max_sec));
  scheduler_.SetArchiveMaxWait(seconds(s.archive_max_wait_sec));
  scheduler_.SetRestoreBlockingShare(s.restore_blocking_share);
  scheduler_.SetRestoreOwnerLimit(s.max_running_restores_per_owner);
  scheduler_.SetRestoreQueueCap(s.max_queued_restores_per_owner);
  if (!s.fair_share_tag.empty() || s.fair_share_by != config::FairShareBy::kTag)
    ResetFairShareWeights(s, scheduler_);
  placement_.SetHostRules(s.archive_on_hosts, s.archive_on_hosts_ch);
  ArmTimer();
  // A higher cap or an older archive's turn may give waiting movers work.
  DispatchAll();
}

void Server::NoteTlsFailure(const Connection& c) {
  spdlog::debug("{}: {}", c.peer(), c.tls_failure());
  common::LogThrottle& throttle =
      c.plaintext_refused() ? plaintext_refused_ : handshakes_failed_;
  if (!throttle.Count(clock_.Now())) return;
  spdlog::warn("{}: {} ({} such so far; logged again in a minute at most)",
               c.peer(), c.tls_failure(), throttle.count);
}

void Server::Accepted(asio::ip::tcp::socket socket) {
  auto connection = std::make_shared<Connection>(
      std::move(socket), *this, connection_options_,
      tls_ ? tls_->context() : nullptr);
  connection->connected_at = connection->last_heard = clock_.Now();
  connections_.insert(connection);
  spdlog::debug("{}: connected", connection->peer());
  connection->Start();
}

void Server::WatchLustre() {
  if (stopped_) return;
  if (!store_->writable()) {
    lustre_paused_ = true;
    return;
  }
  // Re-assign the descriptor on every wait: the channel's descriptor number
  // stays the same but the underlying socket may change when the library
  // reconnects, and epoll watches the old one.
  if (lustre_fd_) lustre_fd_->release();
  lustre_fd_.emplace(io_, lustre_.fd());
  lustre_fd_->async_wait(asio::posix::descriptor_base::wait_read,
                         [this](const boost::system::error_code& ec) {
                           if (ec || stopped_) return;
                           OnLustreReadable();
                         });
}

void Server::OnLustreReadable() {
  // Past the lease's end, nothing more is taken from Lustre.
  if (!Serving()) return;
  if (!store_->writable()) {
    // What Lustre sent stays in the channel until the store is back.
    lustre_paused_ = true;
    return;
  }
  std::string error;
  int rc = lustre_.Drain(
      [this](const hsm::DecodedHal& hal) { OnActionList(hal); }, &error);
  if (!error.empty()) spdlog::error("{}", error);
  if (rc == -ESHUTDOWN) return Shutdown("the filesystem is shutting down");
  if (rc < 0)
    return Shutdown(fmt::format("lost the Lustre channel: {}", strerror(-rc)));
  DispatchAll();
  WatchLustre();
}

void Server::OnActionList(const hsm::DecodedHal& hal) {
  if (hal.fsname != lustre_.fsname())
    spdlog::warn("action list for filesystem '{}' on a mount of '{}'",
                 hal.fsname, lustre_.fsname());
  int64_t now = clock_.UnixNanos();
  for (const hsm::ActionItem& item : hal.items) {
    protocol::WireItem wire;
    wire.item = item;
    wire.archive_id = hal.archive_id;
    wire.hal_flags = hal.flags;
    wire.timestamp_ns = now;
    if (item.hai.hai_action == HSMA_CANCEL) {
      OnLustreCancel(wire);
    } else if (TypeOfAction(item.hai.hai_action)) {
      if (kill_after_reads_ > 0 && --kill_after_reads_ == 0) {
        // Test-only fault (COORDINATOOL_TEST_KILL_AFTER_READS): read from
        // Lustre, not yet written to the store.
        spdlog::critical("test fault: killed after reading from Lustre");
        spdlog::default_logger()->flush();
        raise(SIGKILL);
      }
      if (PlaceReturning(wire)) continue;
      std::string owner;
      const auto added = placement_.AddNew(wire, &owner);
      if (added == Placement::AddOutcome::kOverQueueCap) {
        RefuseOverQueueCap(wire, owner);
        continue;
      }
      if (added == Placement::AddOutcome::kKnown) {
        if (spdlog::should_log(spdlog::level::debug))
          spdlog::debug("cookie {:#x} {} already known",
                        uint64_t{item.hai.hai_cookie},
                        hsm::FormatFid(item.hai.hai_dfid));
        continue;
      }
      metrics_.Received(*TypeOfAction(item.hai.hai_action),
                        RequestSource::kLustre, hal.archive_id);
      if (RequestEventsLogged()) {
        LogRequestEvent(RequestEvent::kReceived, item.hai,
                        "from=lustre archive_id={}", hal.archive_id);
        LogPlaced(scheduler_.Find(ItemId::Of(item.hai)));
      }
    } else {
      spdlog::error("cookie {:#x} {}: unknown action {}, failing it",
                    uint64_t{item.hai.hai_cookie},
                    hsm::FormatFid(item.hai.hai_fid),
                    uint32_t{item.hai.hai_action});
      lustre_.EndWithoutRunning(item.hai, EINVAL);
    }
  }
}

bool Server::PlaceReturning(const protocol::WireItem& wire) {
  const hsm_action_item& hai = wire.item.hai;
  const ItemId key = RetryMemory::KeyOf(hai);
  const RetryEntry* retry = retries_.Find(key);
  if (!retry || scheduler_.Find(ItemId::Of(hai))) return false;
  const uint32_t attempt = retry->failures + 1;
  const ItemType type = *TypeOfAction(hai.hai_action);
  // A restore comes back bound to its failed copy's volatile (Lustre keeps
  // the data FID a copy's progress or end named): no copy can begin it
  // again (docs/lustre.md, "Completion"), so it is failed at once.
  const bool bound =
      type == ItemType::kRestore && !hsm::operator==(hai.hai_dfid, hai.hai_fid);
  if (bound || retry->failures >= options_.settings.retry_max_attempts) {
    const int error = retry->last_error;
    spdlog::warn(
        "{} cookie {:#x}: {} attempts failed, the last with {}{}: "
        "failed at Lustre",
        hsm::FormatFid(hai.hai_fid), uint64_t{hai.hai_cookie}, retry->failures,
        error, bound ? ", and Lustre sent it again bound to that copy" : "");
    LogRequestEvent(RequestEvent::kDropped, hai,
                    "reason={} attempts={} status={}",
                    bound ? "bound" : "retries", retry->failures, error);
    if (reporter_) {
      reporter_->New(wire.item.data, hai.hai_dfid);
      reporter_->GiveUp(wire.item.data, hai.hai_dfid, retry->failures, error);
    }
    retries_.NoteGivenUp();
    retries_.Forget(key);
    scheduler_.EndAwaitRetry(key);  // the file's next request may start
    if (int rc = lustre_.EndWithoutRunning(hai, error); rc < 0)
      spdlog::warn("{} cookie {:#x}: cannot fail it at Lustre: {}",
                   hsm::FormatFid(hai.hai_fid), uint64_t{hai.hai_cookie},
                   strerror(-rc));
    return true;
  }
  // The least busy connected mover that has not failed it: its own queue.
  std::vector<std::pair<MoverId, uint64_t>> movers;
  for (const auto& [id, mover] : movers_.entries()) {
    if (!mover.connection || mover.draining || mover.stalled) continue;
    uint64_t running = 0;
    for (ItemType t : kDispatchOrder) running += scheduler_.Running(id, t);
    movers.emplace_back(id, running);
  }
  const MoverId target = ChooseRetryMover(movers, retry->failed_on);
  std::string failed_on;
  for (const MoverId& m : retry->failed_on)
    failed_on += (failed_on.empty() ? "" : ",") + m;
  if (!placement_.AddRetried(wire, target)) return true;  // known: skipped
  retries_.NoteReturned();
  metrics_.Received(type, RequestSource::kLustre, wire.archive_id);
  if (RequestEventsLogged()) {
    LogRequestEvent(RequestEvent::kReceived, hai, "from=lustre archive_id={}",
                    wire.archive_id);
    LogRequestEvent(RequestEvent::kRetry, hai,
                    "attempt={} failed_on={} last_status={} mover={}", attempt,
                    failed_on, retry->last_error,
                    target.empty() ? "any" : target);
    LogPlaced(scheduler_.Find(ItemId::Of(hai)), "retry");
  }
  if (reporter_)
    reporter_->Retry(wire.item.data, hai.hai_dfid,
                     target.empty() ? "any" : target, attempt);
  return true;
}

void Server::RefuseOverQueueCap(const protocol::WireItem& wire,
                                const std::string& owner) {
  const hsm_action_item& hai = wire.item.hai;
  const uint32_t cap = scheduler_.restore_queue_cap();
  spdlog::warn(
      "{} cookie {:#x}: owner '{}' has {} restores queued already: "
      "failed at Lustre with EDQUOT",
      hsm::FormatFid(hai.hai_fid), uint64_t{hai.hai_cookie}, owner, cap);
  LogRequestEvent(RequestEvent::kDropped, hai,
                  "reason=queued_cap owner={} cap={} status={}",
                  owner.empty() ? "-" : owner, cap, EDQUOT);
  if (reporter_) {
    reporter_->New(wire.item.data, hai.hai_dfid);
    reporter_->OverQueueCap(wire.item.data, hai.hai_dfid, owner, cap);
  }
  ++refused_over_queue_cap_;
  if (int rc = lustre_.EndWithoutRunning(hai, EDQUOT); rc < 0)
    spdlog::warn("{} cookie {:#x}: cannot fail it at Lustre: {}",
                 hsm::FormatFid(hai.hai_fid), uint64_t{hai.hai_cookie},
                 strerror(-rc));
}

void Server::OnLustreCancel(const protocol::WireItem& cancel) {
  protocol::WireItem target;
  MoverId mover;
  auto outcome = scheduler_.Cancel(cancel, &target, &mover);
  if (reporter_ && outcome != Scheduler::CancelOutcome::kUnknown)
    reporter_->Cancel(target.item.data, target.item.hai.hai_dfid,
                      outcome == Scheduler::CancelOutcome::kDequeued);
  switch (outcome) {
    case Scheduler::CancelOutcome::kUnknown:
      if (const ItemId key = RetryMemory::KeyOf(cancel.item.hai);
          scheduler_.EndAwaitRetry(key)) {
        // Cancelled while Lustre held it for its retry: it will not come
        // back, and its file's next request may start.
        retries_.Forget(key);
        spdlog::info("cancel of {:#x} {}, awaiting its retry: not awaited",
                     uint64_t{cancel.item.hai.hai_cookie},
                     hsm::FormatFid(cancel.item.hai.hai_fid));
        break;
      }
      spdlog::info("cancel of unknown request {:#x} {}",
                   uint64_t{cancel.item.hai.hai_cookie},
                   hsm::FormatFid(cancel.item.hai.hai_dfid));
      break;
    case Scheduler::CancelOutcome::kDequeued:
      metrics_.Cancelled(*TypeOfAction(target.item.hai.hai_action));
      LogRequestEvent(RequestEvent::kCancelled, target.item.hai,
                      "by=lustre was=waiting");
      movers_.Stopped(ItemId::Of(target.item.hai));
      redispatch_.Forget(ItemId::Of(target.item.hai));
      placement_.ForgetHeld(ItemId::Of(target.item.hai));
      StoreForget(ItemId::Of(target.item.hai), target.store_handle);
      // Only once forgotten for good: a cancelled request that came back
      // after a crash would be run. Held by pointer: clang cannot capture a
      // struct that ends with a flexible array member (hsm_action_item) by
      // copy.
      outbox_->Send(
          nullptr, true,
          [this, held = std::make_shared<protocol::WireItem>(target)] {
            if (!stopped_) AnswerCancelled(*held);
          });
      break;
    case Scheduler::CancelOutcome::kForwarded:
      LogRequestEvent(RequestEvent::kCancelled, target.item.hai,
                      "by=lustre was=running mover={} forwarded=yes", mover);
      break;
  }
}

void Server::AnswerCancelled(const protocol::WireItem& target) {
  int rc = lustre_.EndWithoutRunning(target.item.hai, ECANCELED);
  if (rc < 0)
    spdlog::warn("telling Lustre that {:#x} {} is cancelled: {}",
                 uint64_t{target.item.hai.hai_cookie},
                 hsm::FormatFid(target.item.hai.hai_dfid), strerror(-rc));
}

void Server::OnMessage(Connection& c, json::object& m) {
  c.last_heard = clock_.Now();
  protocol::Command command;
  std::string name, error;
  switch (protocol::ReadCommand(m, &command, &name, &error)) {
    case protocol::CommandRead::kMissing:
      spdlog::warn("{}: {}, closing", c.id, error);
      CloseAfterReplies(c, "no command");
      return;
    case protocol::CommandRead::kUnknown:
      spdlog::warn("{}: {}, closing", c.id, error);
      CloseAfterReplies(c, "unknown command");
      return;
    case protocol::CommandRead::kOk:
      break;
  }
  if (lease_ && !Serving()) {
    // A standby answers every message but status with the leader's
    // address and closes (docs/protocol.md, "The standby's answer"); it
    // answers status (its role) even without ehlo or token. A leader
    // stepping down answers nothing more.
    if (leading_ || stepping_down_) return;
    if (StandbyAnswers(command))
      return AnswerAsStandby(c, protocol::CommandName(command),
                             lease_->View().leader);
    return Status(c, m);
  }
  if (!Permitted(c, protocol::CommandName(command), m)) return;
  switch (command) {
    case protocol::Command::kAuth:
      return Auth(c, m);
    case protocol::Command::kEhlo:
      return Ehlo(c, m);
    case protocol::Command::kRecv:
      return Recv(c, m);
    case protocol::Command::kDone:
      return Done(c, m);
    case protocol::Command::kQueue:
      return Queue(c, m);
    case protocol::Command::kStatus:
      return Status(c, m);
    case protocol::Command::kLock:
      return Lock(c, m);
    case protocol::Command::kProgress:
      return Progress(c, m);
    case protocol::Command::kReconcile:
      return ReconcileWith(c, m);
    case protocol::Command::kDrain:
    case protocol::Command::kResume:
      return MoverControl(c, m, command == protocol::Command::kDrain);
    case protocol::Command::kShow:
      return Show(c, m);
    case protocol::Command::kList:
      return List(c, m);
    case protocol::Command::kHeartbeat:
      return;  // a sign of life, no reply
    case protocol::Command::kUpcall:
      return Upcall(c, m);
  }
}

void Server::Reply(Connection& c, const std::string& command, int status,
                   const std::string& error, json::object fields,
                   bool acknowledges) {
  // Zero numbers, empty strings and false are omitted from replies, as the
  // original does (readers take a missing field as zero).
  if (!error.empty()) spdlog::info("{}: {} refused: {}", c.id, command, error);
  SendWhenDurable(
      c, protocol::MakeReply(command, {status, error}, std::move(fields)),
      acknowledges);
}

void Server::Ehlo(Connection& c, const json::object& m) {
  if (c.state != Connection::State::kInit)
    return Reply(c, "ehlo", EINVAL, "Client cannot send EHLO twice");
  protocol::EhloRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "ehlo", EINVAL, error);
  const bool identified = request.id.has_value();
  // The id goes into logs, report files, the store and status replies.
  if (identified)
    if (auto why = protocol::MoverIdError(*request.id))
      return Reply(c, "ehlo", EINVAL, *why);
  const std::string id = request.id.value_or(c.peer());
  if (identified)
    if (auto refusal = CheckMoverId(c, id))
      return Reply(c, "ehlo", EACCES, *refusal);
  if (!TakeIdOver(c, id)) {
    // The reply keeps the original's words; the log names the id.
    spdlog::info("{}: ehlo as mover {}: that id is held by a live connection",
                 c.peer(), id);
    return Reply(c, "ehlo", EEXIST, "id already used by another client");
  }
  if (authorizer_ && identified) id_holders_.Claim(id, c.grant.name);
  c.archive_ids = std::move(request.archive_ids);
  // An upcall worker takes upcalled items only (protocol/upcall.h).
  if (request.upcall_worker) {
    for (uint32_t& a : c.archive_ids) a |= protocol::kUpcallArchiveBit;
    if (c.archive_ids.empty())
      c.archive_ids.push_back(protocol::kUpcallArchiveBit);
  }
  ++introduced_;  // c leaves kInit below
  c.id = id;
  c.identified = identified;
  c.state = Connection::State::kReady;
  c.sends_progress = request.progress;
  // Tells the mover that `progress` heartbeats are understood.
  protocol::EhloReply reply;
  reply.progress = true;
  reply.instance = reconcile_.instance();
  // A mover that announces heartbeats is asked for one when silent this
  // long, and is closed once silent for the liveness bound.
  if (liveness_.heartbeat_interval().count() > 0) {
    c.heartbeats = request.heartbeat;
    reply.heartbeat_ms = liveness_.heartbeat_interval().count();
  }
  json::object reply_json = protocol::ToJson(reply);
  // And many `done`s in one message (protocol/done_items.h).
  protocol::AnnounceDoneItems(&reply_json);
  // A mover that reads no acknowledgement of its `done`s gets none.
  c.quiet_done = protocol::SaysQuietDone(m);
  if (c.quiet_done) protocol::SayQuietDone(&reply_json);
  if (!identified) return SendWhenDurable(c, std::move(reply_json));
  Reconnect(c, request.hai_list);
  SendWhenDurable(c, std::move(reply_json));
  ArmTimer();
  DispatchAll();
}

bool Server::TakeIdOver(Connection& c, const std::string& id) {
  for (const auto& other : connections_) {
    if (other.get() == &c || other->state == Connection::State::kInit ||
        !other->open() || other->id != id)
      continue;
    // A holder silent past the liveness bound is taken for dead (a mover
    // restarted on a host that vanished, or stopped): the new connection
    // takes the id and its items over.
    if (!liveness_.MayTakeOver(TimesOf(*other), clock_.Now())) return false;
    spdlog::warn(
        "{}: takes mover id {} over from {}, silent for {} ms; closing that "
        "one",
        c.peer(), id, other->peer(),
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() -
                                                              other->last_heard)
            .count());
    other->Close("taken over by a new connection with the same id");
    break;
  }
  return true;
}

void Server::Reconnect(Connection& c,
                       std::vector<protocol::ListEntry>& hai_list) {
  const MoverId& id = c.id;
  movers_.Connect(id, c.shared_from_this());
  // Items this id was running: kept if re-announced, else placed again.
  std::vector<ItemId> set_aside;
  scheduler_.ForEachRunning(
      id, [&](const Item& item) { set_aside.push_back(item.id()); });
  std::vector<ItemId> claimed;
  for (protocol::ListEntry& entry : hai_list) {
    if (!entry.ok()) {
      spdlog::warn("{}: skipping a re-announced item: {}", id, entry.error);
      continue;
    }
    protocol::WireItem& wire = entry.item;
    if (wire.timestamp_ns == 0) wire.timestamp_ns = clock_.UnixNanos();
    ItemId item_id = ItemId::Of(wire.item.hai);
    const Item* found = scheduler_.Find(item_id);
    bool known = found != nullptr;
    if (found && !MayReannounce(c, *found)) continue;
    if (redispatch_.held(item_id)) {
      // Back with its mover: no check needed, its own affinity again.
      scheduler_.Reassign(item_id, placement_.TakeHeldAffinity(item_id));
      redispatch_.Forget(item_id);
    }
    if (!scheduler_.Claim(id, wire)) continue;
    // Unknown (the store lost it): its data is as the mover got it, host
    // rules already applied; recovery must not apply them again.
    if (!known) placement_.PutReannounced(wire, id);
    if (const Item* claimed_item = scheduler_.Find(item_id))
      StoreAssign(item_id, claimed_item->store_handle, id);
    movers_.Unrevoke(item_id);
    if (c.sends_progress) movers_.Started(item_id, id, clock_.Now());
    claimed.push_back(item_id);
  }
  std::erase_if(set_aside, [&](const ItemId& item) {
    return std::find(claimed.begin(), claimed.end(), item) != claimed.end();
  });
  core_.PlaceAgain(set_aside);
  spdlog::info("{}: mover {} ready, {} items re-announced", c.peer(), id,
               claimed.size());
}

void Server::Recv(Connection& c, const json::object& m) {
  protocol::RecvRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "recv", EINVAL, error);
  const int64_t max_archive = request.max_archive,
                max_restore = request.max_restore,
                max_remove = request.max_remove, max_bytes = request.max_bytes;
  c.limits.max_running[static_cast<int>(ItemType::kArchive)] =
      LimitOf(max_archive);
  c.limits.max_running[static_cast<int>(ItemType::kRestore)] =
      LimitOf(max_restore);
  c.limits.max_running[static_cast<int>(ItemType::kRemove)] =
      LimitOf(max_remove);
  c.limits.max_bytes = max_bytes < 0 ? kUnlimited : LimitOf(max_bytes);
  if (c.state != Connection::State::kReady)
    return Reply(c, "recv", EINVAL,
                 "Client must send EHLO first and not already be in RECV");
  if (max_bytes >= 0 && max_bytes < protocol::kMinRecvBytes)
    return Reply(c, "recv", EINVAL, "Buffer too small");
  const uint32_t slots = options_.settings.batch_slots_per_client;
  if (scheduler_.batching() && max_archive > 0 && max_archive % slots != 0 &&
      !c.warned_slots) {
    c.warned_slots = true;
    spdlog::warn(
        "{}: max_archive {} is not a multiple of the {} batch slots: each "
        "slot runs at most {}",
        c.id, max_archive, slots, (max_archive + slots - 1) / slots);
  }
  c.state = Connection::State::kWaiting;
  c.waiting_since = ++recv_order_;
  DispatchTo(c, ShareDivisor());
}

void Server::Done(Connection& c, const json::object& m) {
  if (protocol::IsDoneItems(m)) return DoneItems(c, m);
  protocol::DoneRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "done", EINVAL, error);
  Done(c, request);
}

void Server::OnHotCommand(Connection& c, const protocol::HotCommand& hot) {
  // As OnMessage, for a message read without a DOM: nothing in it but
  // what the command needs (the permission check reads the message only
  // for ehlo).
  c.last_heard = clock_.Now();
  static const json::object kNoMessage;
  if (!Permitted(c, protocol::CommandName(hot.command), kNoMessage)) return;
  if (hot.command == protocol::Command::kDone) {
    if (hot.batch) return DoneItems(c, hot.dones);
    return Done(c, hot.done);
  }
  Progress(c, hot.progress);
}

namespace {

const std::string& DoneReplyText() {
  static const std::string text = protocol::OkReplyText("done");
  return text;
}

}  // namespace

void Server::Done(Connection& c, const protocol::DoneRequest& request) {
  Ended ended = EndItem(c, request, clock_.UnixNanos());
  if (ended.status != 0) return Reply(c, "done", ended.status, ended.error);
  if (c.quiet_done) {
    // Taken: a quiet mover is told refusals only.
  } else if (ended.end_refused) {
    Reply(c, "done", 0, "");
  } else if (!store_->persistent() && outbox_->held() == 0) {
    c.SendText(std::string_view(DoneReplyText()));  // joins what is queued
  } else {
    SendTextWhenDurable(c, DoneReplyText());
  }
  if (ended.owner && ended.owner.get() != &c)
    DispatchTo(*ended.owner, ShareDivisor());
  DispatchTo(c, ShareDivisor());
  core_.MaybeQuit();
}

void Server::DoneItems(Connection& c, const json::object& m) {
  protocol::DoneItemsRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "done", EINVAL, error);
  DoneItems(c, request.items);
}

void Server::DoneItems(Connection& c,
                       std::span<const protocol::DoneItemsEntry> entries) {
  // The reader's path: entries it could not read are refused alone.
  EndItems(c, entries.size(), entries.data(), nullptr);
}

void Server::DoneItems(Connection& c,
                       std::span<const protocol::DoneRequest> dones) {
  // The hot path: every entry was read plainly (protocol/hot_command.h).
  EndItems(c, dones.size(), nullptr, dones.data());
}

void Server::EndItems(Connection& c, size_t count,
                      const protocol::DoneItemsEntry* entries,
                      const protocol::DoneRequest* dones) {
  protocol::DoneItemsReply reply;
  std::vector<std::shared_ptr<Connection>> owners;
  auto refuse = [&](size_t i, int status, const std::string& why) {
    reply.failed.push_back({static_cast<int64_t>(i), status,
                            fmt::format("items[{}]: {}", i, why)});
  };
  // One clock read for the batch: its lines and durations share it.
  const int64_t now_ns = clock_.UnixNanos();
  for (size_t i = 0; i < count; ++i) {
    if (entries && !entries[i].error.empty()) {
      refuse(i, EINVAL, entries[i].error);
      continue;
    }
    Ended ended = EndItem(c, entries ? entries[i].done : dones[i], now_ns);
    if (ended.status != 0) {
      refuse(i, ended.status, ended.error);
      continue;
    }
    ++reply.done;
    if (ended.owner && ended.owner.get() != &c &&
        std::find(owners.begin(), owners.end(), ended.owner) == owners.end())
      owners.push_back(std::move(ended.owner));
  }
  if (reply.failed.empty() && c.quiet_done) {
    // All taken: a quiet mover is told refusals only.
  } else if (reply.failed.empty()) {
    // The usual reply, written without a DOM (what ToJson(reply) gives).
    std::string text =
        fmt::format(R"({{"done":{},"command":"done"}})", reply.done);
    if (!store_->persistent() && outbox_->held() == 0)
      c.SendText(std::string_view(text));
    else
      SendTextWhenDurable(c, std::move(text));
  } else {
    reply.header = {
        reply.failed.front().status,
        fmt::format("{} of {} entries refused, first: {}", reply.failed.size(),
                    count, reply.failed.front().error)};
    spdlog::info("{}: done refused: {}", c.id, reply.header.error);
    SendWhenDurable(c, protocol::ToJson(reply));
  }
  for (const auto& owner : owners) DispatchTo(*owner, ShareDivisor());
  DispatchTo(c, ShareDivisor());
  core_.MaybeQuit();
}

Server::Ended Server::EndItem(Connection& c,
                              const protocol::DoneRequest& request,
                              int64_t now_ns) {
  Ended ended;
  const ItemId id = request.id;
  const int64_t status = request.status;
  const int64_t end_rc = request.end_rc;  // what Lustre answered to the end
  const Item* item = scheduler_.Find(id);
  if (auto refusal = CheckDoneOwner(c, id, &item)) {
    ended.status = EPERM;
    ended.error = std::move(*refusal);
    return ended;
  }
  if (item && end_rc < 0 && end_rc != -ENOENT && item->owner == c.id) {
    EndRefused(c, id, static_cast<int>(status), static_cast<int>(end_rc));
    ended.end_refused = true;
    return ended;
  }
  if (item) {
    // Received to done: the time Lustre's request spent in coordinatool.
    LogDoneEventAt(now_ns, item->hai, c.id, status,
                   (now_ns - item->timestamp_ns) / 1'000'000,
                   status != 0 && (request.hp_flags & HP_FLAG_RETRY));
    metrics_.Completed(item->type, c.id, static_cast<int>(status), item->since,
                       now_ns);
    // Ended retryable at Lustre: it comes back, and is known then.
    const ItemId retry_key = RetryMemory::KeyOf(item->hai);
    bool await_retry = false;
    if (status != 0 && (request.hp_flags & HP_FLAG_RETRY)) {
      retries_.Failed(retry_key, c.id, static_cast<int32_t>(status));
      // Its file stays busy until it is back (one action per file).
      await_retry = ComesBack(*item);
    } else {
      retries_.Forget(retry_key);
    }
    ended.owner = Finish(*item, static_cast<int>(status), await_retry, now_ns);
    // The arguments are built even when debug is off: checked first.
    if (spdlog::should_log(spdlog::level::debug))
      spdlog::debug("{}: done {} cookie {:#x} status {}", c.id,
                    hsm::FormatFid(id.dfid), id.cookie, status);
  }
  return ended;
}

std::optional<std::string> Server::CheckDoneOwner(const Connection& c,
                                                  const ItemId& id,
                                                  const Item** item) {
  if (!*item || (*item)->owner == c.id) return std::nullopt;
  if (!movers_.RevokedFrom(id, c.id)) {
    // Only the mover running an item may end it: another's done (a
    // confused or hostile peer, or an item still waiting) changes nothing.
    const bool running = (*item)->running();
    spdlog::warn("{}: done of {} cookie {:#x} refused: {}", c.id,
                 hsm::FormatFid(id.dfid), id.cookie,
                 running ? "runs on " + (*item)->owner.str()
                         : std::string("not running"));
    return running ? "item runs on another client" : "item is not running";
  }
  // The late result of a mover whose work was taken back: the item runs
  // elsewhere now.
  spdlog::info("{}: done of {} ignored: taken back, now on {}", c.id,
               hsm::FormatFid(id.dfid), (*item)->owner.str());
  movers_.Unrevoke(id);
  *item = nullptr;
  return std::nullopt;
}

bool Server::ComesBack(const Item& item) {
  const hsm_action_item& hai = item.hai;
  // Upcalled requests are not Lustre's: nothing sends them again.
  if (protocol::IsUpcalledCookie(hai.hai_cookie)) return false;
  hsm_current_action hca{};
  const int rc = lustre_.CurrentAction(hai.hai_fid, &hca);
  return JudgeCurrentAction(hai.hai_action, rc, hca) != RequestAtLustre::kEnded;
}

std::shared_ptr<Connection> Server::Finish(const Item& item, int status,
                                           bool await_retry) {
  return Finish(item, status, await_retry, clock_.UnixNanos());
}

std::shared_ptr<Connection> Server::Finish(const Item& item, int status,
                                           bool await_retry, int64_t now_ns) {
  const ItemId id = item.id();
  const MoverId owner = item.owner;
  const ItemType type = item.type;
  const store::Handle handle = item.store_handle;
  if (reporter_) reporter_->Done(item.data(), id.dfid, status);
  recent_done_.Add({id, item.hai.hai_fid, type, status, now_ns, owner});
  scheduler_.Done(item, status != 0, await_retry);  // `item` is gone
  StoreForget(id, handle);
  movers_.Ended(id);
  redispatch_.Forget(id);
  return movers_.CountDone(owner, type);
}

void Server::Queue(Connection& c, const json::object& m) {
  protocol::QueueRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "queue", EINVAL, error);
  for (const std::string& fsname : request.fsnames) {
    if (fsname != lustre_.fsname()) {
      // The reply keeps the original's words; the log says which.
      spdlog::info("{}: queue for filesystem '{}': this server serves '{}'",
                   c.id, fsname, lustre_.fsname());
      return Reply(c, "queue", EINVAL, "Bad fsname");
    }
  }
  if (!store_->writable())
    return Reply(c, "queue", EAGAIN,
                 "the store cannot persist new requests now, retry later");
  Taken taken = TakeItems(c, request.items, "queue");
  protocol::QueueReply reply;
  reply.enqueued = taken.added;
  reply.skipped = taken.known;
  reply.not_live = taken.not_live;
  reply.failed = std::move(taken.failed);
  if (!reply.failed.empty()) {
    spdlog::warn("{}: queue: {} items refused, first: index {}: {}", c.id,
                 reply.failed.size(), reply.failed.front().index,
                 reply.failed.front().error);
    reply.header = {EINVAL, taken.refused_by_lustre == 0
                                ? "Error while parsing hsm action items"
                                : "hsm action items refused"};
    spdlog::info("{}: queue refused: {}", c.id, reply.header.error);
  }
  // "enqueued N" only once the N are durable.
  SendWhenDurable(c, protocol::ToJson(reply), reply.enqueued > 0);
  DispatchAll();
}

Server::Taken Server::TakeItems(const Connection& c,
                                std::vector<protocol::ListEntry>& items,
                                const char* from) {
  Taken taken;
  int64_t index = 0;
  for (protocol::ListEntry& entry : items) {
    protocol::WireItem& wire = entry.item;
    if (!entry.ok()) {
      // One bad item is reported for itself; the others are queued.
      taken.failed.push_back({index++, std::move(entry.error)});
      continue;
    }
    ++index;
    if (wire.timestamp_ns == 0) wire.timestamp_ns = clock_.UnixNanos();
    // Known already: skipped, no need to ask Lustre.
    const bool known = scheduler_.Find(ItemId::Of(wire.item.hai)) != nullptr;
    if (!known && options_.settings.queue_check_lustre) {
      if (auto refusal = CheckQueued(wire.item.hai)) {
        taken.failed.push_back({index - 1, std::move(refusal->reason)});
        ++taken.refused_by_lustre;
        if (refusal->not_live) ++taken.not_live;
        continue;
      }
    }
    if (placement_.AddListed(wire)) {
      ++taken.added;
      metrics_.Received(*TypeOfAction(wire.item.hai.hai_action),
                        std::string_view(from) == "reconcile"
                            ? RequestSource::kReconcile
                            : RequestSource::kQueue,
                        wire.archive_id);
      if (RequestEventsLogged()) {
        LogRequestEvent(RequestEvent::kReceived, wire.item.hai,
                        "from={} client={} archive_id={}", from, c.id,
                        wire.archive_id);
        LogPlaced(scheduler_.Find(ItemId::Of(wire.item.hai)));
      }
    } else {
      ++taken.known;
    }
  }
  return taken;
}

void Server::ReconcileWith(Connection& c, const json::object& m) {
  protocol::ReconcileRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "reconcile", EINVAL, error);
  for (const std::string& fsname : request.queue.fsnames)
    if (fsname != lustre_.fsname())
      return Reply(c, "reconcile", EINVAL, "Bad fsname");
  if (!store_->writable())
    return Reply(c, "reconcile", EAGAIN,
                 "the store cannot persist changes now, retry later");
  // Lustre's list as identities, before TakeItems moves the entries.
  bool whole = true;
  const ListedIds listed = ListedIdsOf(request.queue.items, &whole);
  Reconcile::Pass pass = reconcile_.Begin(request.token, whole);
  Taken taken = TakeItems(c, request.queue.items, "reconcile");
  Reconcile::Verdict verdict = reconcile_.Decide(pass, scheduler_, listed);
  for (const ItemId& id : verdict.drop) DropGone(id);
  for (const ItemId& id : verdict.report) {
    const Item* item = scheduler_.Find(id);
    spdlog::warn(
        "cookie {:#x} {}: runs on {} but Lustre no longer has it (its end "
        "will be refused)",
        id.cookie, hsm::FormatFid(id.dfid),
        item ? item->owner.str() : std::string("?"));
  }
  protocol::ReconcileReply reply;
  reply.added = taken.added;
  reply.known = taken.known;
  reply.dropped = static_cast<int64_t>(verdict.drop.size());
  reply.refused = static_cast<int64_t>(taken.failed.size());
  reply.not_live = taken.not_live;
  reply.running_gone = static_cast<int64_t>(verdict.running_gone);
  reply.instance = reconcile_.instance();
  reply.add_only = pass.add_only_reason;
  reply.failed = std::move(taken.failed);
  // Items held from now on have an arrival number at or past the mark.
  reply.token = reconcile_.End(pass, scheduler_.next_seq());
  spdlog::info(
      "{}: reconcile: {} listed by Lustre, {} added, {} known, {} dropped, {} "
      "refused ({} no longer at Lustre), {} running but gone at Lustre{}",
      c.id, request.queue.items.size(), reply.added, reply.known, reply.dropped,
      reply.refused, reply.not_live, reply.running_gone,
      pass.add_only_reason.empty() ? "" : "; " + pass.add_only_reason);
  // The counts only once the additions and drops are durable.
  SendWhenDurable(c, protocol::ToJson(reply), true);
  DispatchAll();
}

void Server::DropGone(const ItemId& id) {
  const Item* item = scheduler_.Find(id);
  if (!item || item->running()) return;
  spdlog::info(
      "cookie {:#x} {} {}: dropped, never sent: Lustre no longer has it",
      id.cookie, hsm::FormatFid(id.dfid), TypeName(item->type));
  // And in the request log's one shape (docs/operations.md).
  LogRequestEvent(RequestEvent::kDropped, item->hai,
                  "reason=\"Lustre no longer has it\"");
  metrics_.Dropped(item->type);
  ForgetUnrun(id, false);
}

std::optional<QueueRefused> Server::CheckQueued(const hsm_action_item& hai) {
  hsm_current_action hca{};
  int rc = lustre_.CurrentAction(hai.hai_fid, &hca);
  return QueueRefusal(hai, rc, hca);
}

void Server::Status(Connection& c, const json::object& m) {
  protocol::StatusRequest request;
  protocol::Parse(m, &request);
  const int64_t verbose = request.verbose;
  auto stream = status_.Build(StatusViewOf(), static_cast<int>(verbose));
  std::weak_ptr<Connection> weak = c.weak_from_this();
  store_->Sync([weak, stream](bool) {
    if (auto connection = weak.lock(); connection && connection->open())
      connection->SendStream(stream);
  });
}

StatusView Server::StatusViewOf() const {
  StatusView view;
  view.connections = connections_.size();
  view.locked = static_cast<int>(core_.lock());
  view.store = store_->Describe();
  view.store_writable = store_->writable();
  view.instance = reconcile_.instance();
  view.ha = HaViewOf();
  view.retries = retries_.Status(options_.settings.retry_max_attempts, 100);
  // Requests whose return keeps their file busy (one action per file).
  view.retries["awaiting"] = scheduler_.counters().awaiting_retry;
  view.restores_over_queue_cap = refused_over_queue_cap_;
  for (bool connected : {true, false}) {
    for (const auto& [id, mover] : movers_.entries()) {
      if ((mover.connection != nullptr) != connected) continue;
      view.movers.push_back(
          {id, connected ? StateName(mover.connection->state) : "disconnected",
           connected, mover.disconnected_unix_ns, mover.done, mover.draining});
    }
  }
  for (const auto& connection : connections_) {
    if (connection->identified) continue;
    AnonymousStatusView a{connection->id, StateName(connection->state)};
    // A client that asks for work is a mover without an id; the others
    // (status, admin commands) are shown apart from movers.
    bool runs = false;
    for (ItemType type : kDispatchOrder)
      runs |= scheduler_.Running(connection->id, type) > 0;
    if (runs || connection->state == Connection::State::kWaiting)
      a.kind = "mover";
    else if (authorizer_ && connection->granted)
      a.kind = connection->grant.has(auth::Role::kAdmin)     ? "admin"
               : connection->grant.has(auth::Role::kMonitor) ? "monitor"
                                                             : "client";
    view.anonymous.push_back(std::move(a));
  }
  return view;
}

std::string Server::MetricsText() { return metrics_.Render(MetricsViewOf()); }

MetricsView Server::MetricsViewOf() const {
  MetricsView view;
  // The movers running items (an anonymous mover, named by its address, is
  // in the Scheduler only) and those the table knows (connected or in
  // their grace time).
  AddSchedulerState(scheduler_, &view);
  for (const auto& [id, entry] : movers_.entries()) {
    MetricsView::Mover& mover = view.movers[id];
    mover.known = true;
    mover.connected = entry.connection != nullptr;
    mover.draining = entry.draining;
  }
  for (const auto& c : connections_) {
    ConnectionKind kind = ConnectionKind::kAnonymous;
    if (c->identified)
      kind = ConnectionKind::kMover;
    else if (authorizer_ && c->granted && c->grant.has(auth::Role::kAdmin))
      kind = ConnectionKind::kAdmin;
    else if (authorizer_ && c->granted && c->grant.has(auth::Role::kMonitor))
      kind = ConnectionKind::kMonitor;
    ++view.connections[static_cast<size_t>(kind)];
  }
  view.store_writable = store_->writable();
  view.lock = static_cast<int>(core_.lock());
  view.report_errors = reporter_ ? reporter_->errors() : 0;
  view.locality_errors = placement_.locality_errors();
  view.process = metrics::ReadProcessStats();
  view.ha = HaViewOf();
  return view;
}

void Server::Show(Connection& c, const json::object& m) {
  protocol::ShowRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "show", EINVAL, error);
  Reply(c, "show", 0, "", item_query_.Show(request.fid));
}

void Server::List(Connection& c, const json::object& m) {
  protocol::ListRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "list", EINVAL, error);
  Reply(c, "list", 0, "", item_query_.List(request));
}

void Server::Lock(Connection& c, const json::object& m) {
  protocol::LockRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "lock", EINVAL, error);
  const int64_t locked = static_cast<int64_t>(request.locked);
  Reply(c, "lock", 0, "");
  const auto state = static_cast<LockState>(locked);
  const LockState previous = core_.SetLock(state);
  spdlog::info("{}: {}", c.id,
               state == LockState::kUnlocked ? "unlocked"
               : state == LockState::kLocked ? "locked"
                                             : "lock and quit");
  if (previous != LockState::kUnlocked && state == LockState::kUnlocked)
    DispatchAll();
  core_.MaybeQuit();
}

void Server::MoverControl(Connection& c, const json::object& m, bool drain) {
  const char* command = drain ? "drain" : "resume";
  protocol::MoverControlRequest request;
  std::string error;
  if (!protocol::Parse(m, drain, &request, &error))
    return Reply(c, command, EINVAL, error);
  protocol::MoverControlReply reply;
  reply.drain = drain;
  reply.client_id = request.client_id;
  // Who asked: the grant's name with an auth file, else the peer.
  const std::string who = c.grant.name.empty() ? c.peer() : c.grant.name;
  const DrainOutcome outcome = core_.SetDraining(request.client_id, drain);
  if (!outcome.known) {
    spdlog::info("{}: {} of mover {} refused: no mover known by that id", who,
                 command, request.client_id);
    reply.header = {ENOENT, "no mover known by id " + request.client_id +
                                " (connected or within its grace time)"};
    return SendWhenDurable(c, protocol::ToJson(reply));
  }
  reply.draining = drain;
  reply.connected = outcome.connected;
  for (ItemType type : kDispatchOrder)
    reply.current[static_cast<int>(type)] =
        outcome.running[static_cast<int>(type)];
  const auto& n = outcome.running;
  spdlog::info(
      "{}: mover {} {}{}, asked by {}; it runs restore {}, remove {}, archive "
      "{}",
      c.peer(), request.client_id, drain ? "drained" : "resumed",
      outcome.changed ? "" : " (already)", who, n[0], n[1], n[2]);
  SendWhenDurable(c, protocol::ToJson(reply));
}

void Server::DispatchAll() {
  if (core_.locked() || stopped_ || !Serving()) return;
  std::vector<Connection*> waiting;
  for (const auto& c : connections_)
    if (c->state == Connection::State::kWaiting) waiting.push_back(c.get());
  // Most recent recv first, as the original.
  std::sort(waiting.begin(), waiting.end(), [](Connection* a, Connection* b) {
    return a->waiting_since > b->waiting_since;
  });
  if (scheduler_.batching()) {
    // New batches go to the least busy movers first: fewest slots held,
    // then fewest archives running.
    auto busy = [this](Connection* c) {
      return std::make_pair(scheduler_.HeldSlots(c->id),
                            scheduler_.Running(c->id, ItemType::kArchive));
    };
    std::stable_sort(
        waiting.begin(), waiting.end(),
        [&](Connection* a, Connection* b) { return busy(a) < busy(b); });
  }
  size_t divisor = ShareDivisor();
  for (Connection* c : waiting) DispatchTo(*c, divisor);
  core_.NoteBatchDeadline();
  ArmTimer();
}

size_t Server::ShareDivisor() const {
  // Every introduced connection may take work soon (a busy mover asks again
  // as soon as it has room), so a burst is split between all of them, not
  // only those waiting right now.
  return std::max<size_t>(1, introduced_);
}

bool Server::DispatchTo(Connection& c, size_t share_divisor) {
  if (core_.locked() || stopped_ || c.state != Connection::State::kWaiting ||
      !c.open() || !c.handling() || movers_.stalled(c.id) || !Serving())
    return false;
  DispatchReply reply =
      core_.Dispatch(c.id, c.archive_ids, c.limits, share_divisor);
  if (!reply.parked.empty()) NoteParked(c, reply);
  if (scheduler_.batching()) {
    core_.NoteBatchDeadline();
    ArmTimer();
  }
  if (reply.empty()) return false;
  SendList(c, std::move(reply));
  return true;
}

void Server::SendList(Connection& c, DispatchReply reply) {
  protocol::ActionListHeader header;
  header.archive_id = reply.archive_id;
  header.flags = reply.hal_flags;
  header.fsname = lustre_.fsname();
  // Written as text: no DOM of up to a MiB of items (protocol/wire_text.h),
  // and the items' text straight from the Scheduler's items, no copy of
  // their hsm data.
  std::string message;
  protocol::AppendRecvReplyText(
      &message, header, reply.cancels, reply.items, [](const Item* item) {
        return protocol::ItemFields{item->hai, item->data(), item->archive_id,
                                    item->hal_flags, item->timestamp_ns};
      });
  c.state = Connection::State::kReady;
  // The assignments are durable before the mover hears of its items.
  // One read of each clock for the whole list.
  const auto now = clock_.Now();
  const int64_t now_ns = clock_.UnixNanos();
  std::array<uint64_t, 3> sent{};  // by ItemType
  for (const Item* item : reply.items) {
    const ItemId id = item->id();
    const ItemType type = item->type;
    if (reporter_) reporter_->Sent(item->data(), id.dfid, c.id);
    LogSentEventAt(now_ns, item->hai, c.id);
    metrics_.Sent(type, item->timestamp_ns, now_ns);
    ++sent[static_cast<size_t>(type)];
    StoreAssign(id, item->store_handle, c.id);
    NoteDispatched(type, item->timestamp_ns, now_ns);
    if (c.sends_progress) movers_.Started(id, c.id, now);
  }
  for (size_t type = 0; type < sent.size(); ++type)
    if (sent[type] > 0)
      dispatch_rate_.Note(static_cast<ItemType>(type), sent[type]);
  SendTextWhenDurable(c, std::move(message), !reply.items.empty());
}

void Server::OnClosed(Connection& c, const std::string& why) {
  auto self = c.shared_from_this();
  if (connections_.erase(self) && c.state != Connection::State::kInit)
    --introduced_;
  if (stopped_) return;
  if (c.identified &&
      movers_.Disconnect(c.id, &c, clock_.Now(), clock_.UnixNanos())) {
    spdlog::info("{}: mover {} disconnected ({}), keeping its work for {} ms",
                 c.peer(), c.id, why, options_.settings.client_grace_ms);
    ArmTimer();
    return;
  }
  if (!c.tls_failure().empty())
    NoteTlsFailure(c);
  else
    spdlog::debug("{}: closed ({})", c.peer(), why);
  if (!c.identified) core_.ForgetMover(c.id);
}

void Server::ArmTimer() {
  if (stopped_) return;
  // Armed for now already (say, items held for a check, due at once): it
  // fires on the next turn of the loop. Returning here keeps a burst of
  // holds (a mover's thousands of items placed again) from scanning for
  // the deadline once per item.
  if (timer_deadline_ && *timer_deadline_ <= clock_.Now()) return;
  auto next = core_.NextDeadline();
  // A deadline further away than the one armed needs nothing: the timer
  // fires early, RunDue finds nothing due, and it is armed again.
  if (!next || (timer_deadline_ && *timer_deadline_ <= *next)) return;
  timer_deadline_ = next;
  timer_.expires_after(
      std::max(*next - clock_.Now(), common::Clock::Duration::zero()));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;  // re-armed (or shut down) meanwhile
    timer_deadline_.reset();
    if (!Serving()) return;  // a standby, or past the lease
    core_.RunDue(clock_.Now());
    ArmTimer();
  });
}

void Server::Report() {
  if (!reporter_) return;
  // Where each waiting restore stands in the queue its mover (or any mover,
  // for the global queue) takes it from.
  auto report = [this](const MoverId& owner, const std::string& name) {
    std::vector<const Item*> queue;
    scheduler_.ForEachWaitingIn(
        owner, ItemType::kRestore,
        [&](const Item& item) { queue.push_back(&item); });
    for (size_t pos = 0; pos < queue.size(); ++pos)
      reporter_->Progress(queue[pos]->data(), queue[pos]->hai.hai_dfid, name,
                          pos + 1, queue.size());
  };
  for (const auto& [id, client] : movers_.entries())
    if (client.connection) report(id, id);
  report("", "global_queue");
  reporter_->Tick();
}

}  // namespace server

namespace server {

void Server::Progress(Connection& c, const json::object& m) {
  // A heartbeat from llapi_hsm_action_progress: no reply, except an error
  // for a malformed one (only our movers send progress; they skip replies
  // to anything but recv).
  protocol::ProgressRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "progress", EINVAL, error);
  Progress(c, request);
}

void Server::Progress(Connection& c, const protocol::ProgressRequest& request) {
  const ItemId& id = request.id;
  if (movers_.Progressed(id, c.id, clock_.Now())) {
    spdlog::info("{}: mover {} makes progress again", c.peer(), c.id);
    DispatchTo(c, ShareDivisor());
  }
}

}  // namespace server

namespace server {

void Server::HoldForCheck(const ItemId& id) {
  const Item* item = scheduler_.Find(id);
  if (!item || item->running() || stopped_) return;
  // Its assignment stays in the store until it runs again or is forgotten:
  // after a crash the recovered item is held again, never replayed
  // unchecked.
  const bool newly_held = !redispatch_.held(id);
  placement_.Hold(*item, newly_held);
  if (newly_held) redispatch_.Hold(id);
  // Due now: the timer runs the check on a later turn of the loop, after
  // the current handler.
  ArmTimer();
}

void Server::RunChecks() {
  // Any item handed out again or gone from the queue (forgotten, ended at
  // Lustre) may free a file a later request waits on (one action per
  // file): the movers' open `recv`s are served once the checks are done.
  bool changed = false;
  for (const ItemId& id : redispatch_.Due(kChecksPerTurn)) {
    const Item* item = scheduler_.Find(id);
    if (!item || item->running()) {  // cancelled, done or re-announced
      redispatch_.Forget(id);
      placement_.ForgetHeld(id);
      continue;
    }
    const hsm_action_item& hai = item->hai;
    hsm_current_action hca{};
    // An upcalled request is not at Lustre's coordinator (docs/upcall.md):
    // nothing to ask, it is live as long as the server holds it.
    const bool upcalled = protocol::IsUpcalledCookie(id.cookie);
    int rc = upcalled ? 0 : lustre_.CurrentAction(hai.hai_fid, &hca);
    RequestAtLustre answer = upcalled
                                 ? RequestAtLustre::kLive
                                 : JudgeCurrentAction(hai.hai_action, rc, hca);
    Redispatch::Verdict verdict = redispatch_.OnCheck(id, answer);
    switch (verdict) {
      case Redispatch::Verdict::kHandOut:
        spdlog::info("{} {:#x}: still {} at Lustre: placed again",
                     hsm::FormatFid(id.dfid), id.cookie, TypeName(item->type));
        placement_.GiveBack(*item);
        LogPlaced(scheduler_.Find(id), "checked at Lustre");
        changed = true;
        break;
      case Redispatch::Verdict::kForget:
        metrics_.Dropped(item->type);
        ForgetEnded(id, "Lustre ended it already: forgotten, not replayed");
        changed = true;
        break;
      case Redispatch::Verdict::kRetryLater:
      case Redispatch::Verdict::kEndFailed:
        // kBound: a restore tied to the copy of a mover that is gone.
        spdlog::warn(
            "{} {:#x}: restore bound to the copy of a mover that is gone "
            "(attempt {} of {})",
            hsm::FormatFid(id.dfid), id.cookie, redispatch_.attempts(id),
            RedispatchOptions{}.max_attempts);
        OnRetryVerdict(id, verdict, EIO);
        changed = true;
        break;
      case Redispatch::Verdict::kWait:
        spdlog::warn(
            "{} {:#x}: cannot ask Lustre whether it is live ({}): "
            "asking again later",
            hsm::FormatFid(id.dfid), id.cookie,
            rc < 0 ? strerror(-rc) : "unexpected answer");
        break;
      default:
        break;
    }
  }
  if (changed) DispatchAll();
  ArmTimer();
}

void Server::LogPlaced(const Item* item, std::string_view why) {
  if (item == nullptr) return;
  LogPlacedEvent(*item, why);
}

void Server::ForgetEnded(const ItemId& id, const char* why) {
  const Item* item = scheduler_.Find(id);
  if (!item) return;
  spdlog::warn("{} {:#x} ({}): {}", hsm::FormatFid(id.dfid), id.cookie,
               TypeName(item->type), why);
  LogRequestEvent(RequestEvent::kDropped, item->hai, "reason=\"{}\"", why);
  ForgetUnrun(id, true);
}

void Server::ForgetUnrun(const ItemId& id, bool as_done) {
  const Item* item = scheduler_.Find(id);
  if (!item) return;
  const store::Handle handle = item->store_handle;
  if (reporter_) reporter_->Done(item->data(), id.dfid, ECANCELED);
  if (as_done) {
    recent_done_.Add(
        {id, item->hai.hai_fid, item->type, ECANCELED, clock_.UnixNanos(), ""});
    scheduler_.Done(id, true);  // never ran to its end: failed
  } else
    scheduler_.Drop(id);
  StoreForget(id, handle);
  movers_.Ended(id);
  redispatch_.Forget(id);
  placement_.ForgetHeld(id);
}

void Server::EndAtLustre(const ItemId& id, int errval, int hp_flags) {
  const Item* item = scheduler_.Find(id);
  if (!item) return;
  if (protocol::IsUpcalledCookie(id.cookie)) {
    // Nothing to end at Lustre (docs/upcall.md): a retry is the check's
    // hand-out; giving up forgets it.
    if (hp_flags & HP_FLAG_RETRY) return;
    metrics_.FailedByServer(item->type);
    ForgetEnded(id, "upcalled request given up after its retries");
    return;
  }
  int rc = lustre_.EndWithoutRunning(item->hai, errval, hp_flags);
  if (hp_flags & HP_FLAG_RETRY) {
    // Lustre puts it back to WAITING and sends it again (never a bound
    // restore: OnRetryVerdict fails those); the server keeps holding it
    // until its backoff ends and a check says so.
    if (rc < 0 && rc != -ENOENT)
      spdlog::warn("{} {:#x}: asking Lustre to retry it: {}",
                   hsm::FormatFid(id.dfid), id.cookie, strerror(-rc));
    return;
  }
  if (rc == 0 || rc == -ENOENT) {
    // Ended by the server as failed, or already ended by Lustre.
    if (rc == 0)
      metrics_.FailedByServer(item->type);
    else
      metrics_.Dropped(item->type);
    ForgetEnded(id, rc == 0 ? "ended at Lustre as failed after its retries"
                            : "Lustre ended it already");
    return;
  }
  // Lustre still holds it: never forgotten; checked and tried again.
  spdlog::error("{} {:#x}: cannot end it at Lustre: {}; trying again later",
                hsm::FormatFid(id.dfid), id.cookie, strerror(-rc));
  HoldForCheck(id);
}

void Server::OnRetryVerdict(const ItemId& id, Redispatch::Verdict verdict,
                            int errval) {
  const Item* item = scheduler_.Find(id);
  if (verdict == Redispatch::Verdict::kRetryLater && item &&
      item->type == ItemType::kRestore) {
    // A restore that cannot be handed out again is bound to a copy's
    // volatile (a progress or an end named it), and Lustre sends a retried
    // request again with that binding: the next copy cannot even begin
    // (docs/lustre.md, "Completion"). Asking a retry would only delay the
    // failure; ending it now answers a waiting reader, whose next read
    // makes a new, unbound request.
    spdlog::warn(
        "{} {:#x}: a retry of a bound restore cannot succeed: "
        "failed at Lustre",
        hsm::FormatFid(id.dfid), id.cookie);
    verdict = Redispatch::Verdict::kEndFailed;
  }
  if (verdict == Redispatch::Verdict::kRetryLater) {
    // Lustre (unless its policy says NRA, the default, which fails it and
    // answers a waiting reader) puts it back to WAITING, bound to no copy,
    // and sends it again; the server holds it until the backoff ends.
    HoldForCheck(id);
    EndAtLustre(id, errval, HP_FLAG_RETRY);
  } else {  // kEndFailed: a reader waiting for a restore gets its answer
    EndAtLustre(id, errval, 0);
  }
}

void Server::EndRefused(Connection& c, const ItemId& id, int status,
                        int end_rc) {
  spdlog::warn(
      "{}: {} {:#x} status {}: Lustre refused its end ({}) and still holds "
      "it (attempt {} of {})",
      c.id, hsm::FormatFid(id.dfid), id.cookie, status, strerror(-end_rc),
      redispatch_.attempts(id) + 1, RedispatchOptions{}.max_attempts);
  scheduler_.Requeue(id);
  movers_.Stopped(id);
  int errval = status != 0 ? status : -end_rc;
  OnRetryVerdict(id, redispatch_.OnFailedRedispatch(id), errval);
}

PeerTimes Server::TimesOf(const Connection& c) const {
  return {c.state != Connection::State::kInit, c.heartbeats, c.connected_at,
          c.last_heard, c.asked};
}

void Server::CheckLiveness(common::Clock::TimePoint now) {
  // Periodic as this check: retries not back within the memory's lifetime
  // stop holding their files (the memory's expiry is otherwise lazy).
  if (retries_.ExpireNow() > 0) DispatchAll();
  std::vector<std::shared_ptr<Connection>> dead;
  for (const auto& c : connections_) {
    if (!c->open()) continue;
    if (!liveness_.Verdict(TimesOf(*c), now).empty()) {
      dead.push_back(c);
    } else if (liveness_.ShouldAsk(TimesOf(*c), now)) {
      c->asked = now;
      c->Send(protocol::HeartbeatJson());
    }
  }
  for (const auto& c : dead) {
    std::string why = liveness_.Verdict(TimesOf(*c), now);
    spdlog::warn("{}: {} {}: closing", c->peer(),
                 c->identified ? "mover " + c->id : std::string("client"), why);
    c->Close(why);
  }
}

void Server::NoteParked(const Connection& c, const DispatchReply& reply) {
  for (const ParkedNote& note : reply.parked) {
    const Item* item = scheduler_.Find(note.id);
    spdlog::warn(
        "{} {:#x} (archive id {}): needs {} bytes, more than the buffer of "
        "mover {} ({} bytes): set aside for a mover with a larger buffer{}",
        hsm::FormatFid(note.id.dfid), note.id.cookie,
        item ? item->archive_id : 0, note.cost, c.id, note.max_bytes,
        options_.settings.oversized_timeout_ms > 0
            ? fmt::format(", failed at Lustre after {} ms",
                          options_.settings.oversized_timeout_ms)
            : std::string());
  }
}

void Server::FailOversized(const protocol::WireItem& wire, int64_t timeout_ms) {
  const hsm_action_item& hai = wire.item.hai;
  spdlog::error(
      "{} {:#x}: needs {} bytes and no mover with a buffer that large "
      "asked for work within {} ms: failing it at Lustre (E2BIG)",
      hsm::FormatFid(hai.hai_dfid), uint64_t{hai.hai_cookie}, ReplyCost(wire),
      timeout_ms);
  LogRequestEvent(RequestEvent::kDropped, hai,
                  "reason=\"no mover buffer fits it\" status={}", E2BIG);
  StoreForget(ItemId::Of(hai), wire.store_handle);
  metrics_.FailedByServer(*TypeOfAction(hai.hai_action));
  // An upcalled request has nothing at Lustre to end (docs/upcall.md).
  int rc = protocol::IsUpcalledCookie(hai.hai_cookie)
               ? 0
               : lustre_.EndWithoutRunning(hai, E2BIG);
  if (rc < 0)
    spdlog::warn("telling Lustre that {:#x} {} failed: {}",
                 uint64_t{hai.hai_cookie}, hsm::FormatFid(hai.hai_dfid),
                 strerror(-rc));
}

}  // namespace server
