// Server: coordinatool's daemon. It is the only copytool agent of a Lustre
// mount, keeps every request it receives in the Scheduler's queues, and hands
// them to movers over TCP (the original's JSON protocol, docs/protocol.md)
// until each mover reports its item done.
//
// Threads. The server is one event loop, as the original, plus one thread
// inside the store; every other piece of work is on the loop or in another
// process:
// - The event loop (the main thread, one io_context): the Lustre channel,
//   the listening socket, every connection, the timers, the Scheduler and
//   every policy, the Store's interface and its callbacks (Store::Sync
//   calls back on the loop). Everything in Server and in server/ is the
//   loop's; nothing there takes a lock.
// - The store's thread: JournalStore's writer (write and fdatasync of a
//   batch, compaction) or RedisStore's thread (pipelined commands, its
//   reconnects). It owns the file or the Redis connection while it runs;
//   the loop hands it work and takes its results through a mutex
//   (GUARDED_BY, checked by clang) and posts back to the loop. NullStore
//   has none.
// - The locality helper (restore_locality_command) is a child process,
//   spoken to over a socketpair read and written by the loop without
//   blocking; report files and everything else are the loop's.
// - Movers are other processes. In one, the preload library has the
//   copytool's threads: a receiving thread in llapi_hsm_copytool_recv
//   (Mover::Recv, the only one that closes or replaces the session) and
//   worker threads (and forked children, through a pipe) reporting
//   progress and completions (preload/mover.h).
// Blocking calls the loop makes, on purpose: the llapi calls on the Lustre
// channel (register, unregister, ending a cancelled or refused item with
// llapi_hsm_action_begin/_end, llapi_hsm_current_action for a held item,
// a bounded number per turn, and for each new item of a `queue` or
// `reconcile` command, an admin's and the reconciler's): an MDS round trip
// each, whose result changes the loop's state at once, on a copytool handle no
// other thread may use (the channel itself is non-blocking: read when the loop
// sees it ready); fair share by file owner (stat/ioctl on the mount) and
// report-file writes, small metadata operations on the same mount; at start the
// store's Open() and Load() (reading the journal, or Redis round trips)
// before anything is served, and at shutdown Store::Close(), which waits
// a bounded time for the queued changes to be written, then for the
// store's thread to end its current batch. Store::Sync() never blocks: it
// calls back once the batch is durable.
//
// Durability (issue 4): every change that matters (new request, assignment,
// requeue, done, cancel) goes to the Store as it happens in memory, and
// every reply goes out from a Store::Sync() callback, so nobody acts on a
// change the store could still lose. At start the queues, the assignments
// and placeholder movers (whose grace starts then) are rebuilt from the
// store before registering with Lustre. While the store cannot persist, the
// server stops reading the Lustre channel (Lustre keeps the requests and
// they are read once the store is back), refuses `queue`, and serves what it
// holds.
#ifndef SERVER_SERVER_H_
#define SERVER_SERVER_H_

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>

#include "auth/authorizer.h"
#include "auth/id_holders.h"
#include "common/clock.h"
#include "common/log_throttle.h"
#include "config/settings.h"
#include "http/http_server.h"
#include "http/router.h"
#include "policy/reporter.h"
#include "protocol/done_items.h"
#include "protocol/messages.h"
#include "server/connection.h"
#include "server/core.h"
#include "server/dashboard.h"
#include "server/dispatch_rate.h"
#include "server/exposure.h"
#include "server/ha_status.h"
#include "server/item_query.h"
#include "server/lease_keeper.h"
#include "server/listener.h"
#include "server/liveness.h"
#include "server/lustre_agent.h"
#include "server/movers.h"
#include "server/placement.h"
#include "server/queue_check.h"
#include "server/recent_done.h"
#include "server/reconcile.h"
#include "server/redispatch.h"
#include "server/retry_memory.h"
#include "server/scheduler.h"
#include "server/server_metrics.h"
#include "server/status_builder.h"
#include "server/status_stream.h"
#include "server/upcall_cookies.h"
#include "store/outbox.h"
#include "store/store.h"
#include "tls/server_tls.h"

namespace server {

struct ServerOptions {
  config::ServerSettings settings;
  std::string mount;
  // Largest JSON object accepted from a peer.
  size_t max_message_bytes = protocol::kDefaultMaxValueBytes;
  // Reads the settings again for a reload (SIGHUP) as they were read at
  // start: the file, the environment as it was then, the command line.
  // False with *error (file, line and key at fault). Null: a reload reads
  // the TLS and auth files only.
  std::function<bool(config::ServerSettings* settings,
                     std::vector<std::string>* warnings, std::string* error)>
      load_settings;
};

class Server : public ConnectionHandler, private CoreIo {
 public:
  Server(boost::asio::io_context& io, ServerOptions options,
         const common::Clock& clock);
  ~Server() override;

  // Registers on the mount and starts listening. Returns false with *error.
  bool Start(std::string* error);
  // Stops as the original does on TERM: stop reading from Lustre, close the
  // listener and every connection, put running items back. Idempotent.
  void Shutdown(const std::string& why);
  // SIGHUP: reads the configuration again (options.load_settings) and
  // applies what can change at run time (server/reload.h), warning about
  // what needs a restart; a configuration that cannot be read changes
  // nothing at all (logged, with the line and key at fault). Then re-reads
  // the TLS files (tls/server_tls.h): new connections use what was read,
  // open ones keep theirs; a failure keeps the current material and logs
  // why. Then the auth file (ReloadAuth).
  void Reload();
  // The port actually bound (useful with port 0).
  uint16_t port() const { return listener_.port(); }
  // The HTTP listener's port; 0 when off.
  uint16_t http_port() const { return http_ ? http_->port() : 0; }
  bool stopped() const { return stopped_; }
  // What the process exits with once the loop ends: 0, or
  // kExitSteppedDown after this server stepped down from leader (high
  // availability): systemd starts it again, as a standby.
  int exit_status() const { return exit_status_; }
  // With high availability (ha_lease_ms), whether this server leads and
  // serves; without, true.
  bool leading() const { return !lease_ || leading_; }

  // ConnectionHandler.
  void OnMessage(Connection& connection, boost::json::object& message) override;
  void OnClosed(Connection& connection, const std::string& why) override;
  void OnUnreadable(Connection& connection, const std::string& why) override;
  // After ehlo only: whatever a server does before (authentication, the
  // first exchange) sees the whole message.
  bool takes_hot_commands(const Connection& c) const override {
    return c.state != Connection::State::kInit;
  }
  void OnHotCommand(Connection& connection,
                    const protocol::HotCommand& command) override;

 private:
  // Where to listen (server/exposure.h), logged; nullopt with *error when
  // the host cannot be resolved.
  std::optional<Exposure> DecideListening(std::string* error);
  // A connection the listener accepted.
  void Accepted(boost::asio::ip::tcp::socket socket);
  // Reload of the settings: false (nothing changed, logged) when they
  // cannot be read.
  bool ReloadSettings();
  // Puts settings in force at run time (a reload's plan: only keys that
  // may change live differ from the running ones).
  void ApplySettings(const config::ServerSettings& settings);
  // Loads the TLS material when tls_cert is set. False with *error.
  bool StartTls(std::string* error);
  // The HTTP listener (server_http.cc) on `host` when http_port is set.
  // False with *error.
  bool StartHttp(const std::string& host, std::string* error);
  void RegisterHttpRoutes();
  // GET /metrics: the Prometheus text exposition (server/server_metrics.h,
  // docs/monitoring.md). Costs O(movers + connections + archive ids +
  // queue heads), never O(queued items).
  std::string MetricsText();
  // The dashboard (server/dashboard.h): its view of the server, the
  // backlog sampling timer, the restore waits recorded at dispatch.
  DashboardView DashboardViewOf() const;
  void SampleBacklog();
  // A request of `type` that arrived at `arrival_ns` (Unix ns) was sent.
  void NoteDispatched(ItemType type, int64_t arrival_ns, int64_t now_ns);
  // A peer refused at the TLS start (plaintext, failed handshake): logged
  // at debug level each, as a warning the first time and then at most once
  // a minute per kind.
  void NoteTlsFailure(const Connection& c);
  // The one timer: set for core_.NextDeadline(), runs core_.RunDue().
  // Called after every event that may bring the deadline nearer.
  void ArmTimer();
  // CoreIo: what the core's rules do on the I/O side.
  void AnswerOrphanCancel(const protocol::WireItem& cancel) override {
    OnLustreCancel(cancel);
  }
  // Dead connections (server/liveness.h).
  void CheckLiveness(common::Clock::TimePoint now) override;
  PeerTimes TimesOf(const Connection& c) const;
  // Oversized items: logged as set aside, failed at Lustre when too old.
  void NoteParked(const Connection& c, const DispatchReply& reply);
  void FailOversized(const protocol::WireItem& wire,
                     int64_t timeout_ms) override;
  void Quit(const std::string& why) override { Shutdown(why); }
  void WatchLustre();
  void OnLustreReadable();
  void OnActionList(const hsm::DecodedHal& hal);
  // A request Lustre sent again after its mover ended it with
  // HP_FLAG_RETRY: placed on another mover, or failed at Lustre after
  // retry_max_attempts (docs/policies.md, "Retries"). False if it is not
  // one (placed as any new request then).
  bool PlaceReturning(const protocol::WireItem& wire);
  void OnLustreCancel(const protocol::WireItem& cancel);
  void AnswerCancelled(const protocol::WireItem& target);

  // High availability (docs/high-availability.md). The lease keeper, with
  // this server as a standby: it listens, answers with the standby's
  // answer (server/standby_reply.h) and its own status, and has neither
  // registered with Lustre nor loaded the state.
  bool StartHa(std::string* error);
  // The lease is ours (epoch): load the state from Redis (its writes
  // fenced by the epoch), register with Lustre, serve.
  void TakeLead(uint64_t epoch);
  // Final: the lease is lost, ran out, or a write was fenced. Nothing more
  // goes out; the server shuts down and exits with kExitSteppedDown.
  void StepDown(const std::string& why);
  // Whether the server may act as the coordinator now: always without
  // high availability; with it, while it leads and the lease's local end
  // has not passed (checked before anything goes to a peer or Lustre). A
  // leader past that end steps down (posted).
  bool Serving();
  std::optional<HaStatusView> HaViewOf() const;

  // Durability.
  bool OpenStore(std::string* error, uint64_t fence_epoch = 0);
  bool Recover(std::string* error);
  void OnStoreHealth(bool writable);
  // Store writes, skipped for a memory-only store.
  // `handle`: the item's store_handle.
  void StoreAssign(const ItemId& id, store::Handle handle,
                   const std::string& mover);
  void StoreUnassign(const ItemId& id, store::Handle handle);
  void StoreForget(const ItemId& id, store::Handle handle);
  // What placement (server/placement.h) asks of the mover table.
  PlacementHooks PlacementHooksOf();
  // Sends `message` to `c` once every change made so far is durable; when
  // the store cannot persist, a message that `acknowledges` changes (new
  // requests queued, items handed out) waits until it can (store::Outbox).
  void SendWhenDurable(Connection& c, boost::json::object message,
                       bool acknowledges = false);
  // The same, for a reply already written as text (protocol/wire_text.h).
  void SendTextWhenDurable(Connection& c, std::string text,
                           bool acknowledges = false);
  // Ends `c` for what its peer sent: nothing more it sends is handled, and
  // it closes once the replies owed for what it sent before are written,
  // those that wait for the store included (queued behind them in the
  // outbox). The server's own closes (shutdown, liveness, a takeover)
  // call Connection::Close() instead: they drop what is not written.
  void CloseAfterReplies(Connection& c, const std::string& why);

  // Authentication (auth/, docs/auth.md). Loads the auth file into
  // authorizer_; false with *error.
  bool LoadAuth(std::string* error);
  void ReloadAuth();
  // The grant of `c`, computed at its first message (its certificate is
  // known by then).
  const auth::Grant& GrantOf(Connection& c);
  // Whether `c` may run `command`; else replies with the refusal.
  bool Permitted(Connection& c, std::string_view command,
                 const boost::json::object& m);
  void Auth(Connection& c, const boost::json::object& m);
  // With authentication, an item that runs on a mover of another identity
  // is not taken by re-announcing it (logged); else true.
  bool MayReannounce(const Connection& c, const Item& item);
  // Ehlo with mover id `id`: whether `c`'s identity may use it (allowed by
  // its grant, not held by another identity); else the refusal.
  std::optional<std::string> CheckMoverId(Connection& c, const std::string& id);

  // Commands.
  void Ehlo(Connection& c, const boost::json::object& m);
  // Ehlo: whether `c` may take `id` (a silent holder loses it to `c`).
  bool TakeIdOver(Connection& c, const std::string& id);
  // Ehlo of a mover with an id: the items it re-announces in `hai_list`
  // run on it, the others it ran are placed again.
  void Reconnect(Connection& c, std::vector<protocol::ListEntry>& hai_list);
  void Recv(Connection& c, const boost::json::object& m);
  void Done(Connection& c, const boost::json::object& m);
  void Done(Connection& c, const protocol::DoneRequest& request);
  // Many dones in one message (protocol::DoneItemsRequest): each entry as
  // a `done` of its own, one reply, one dispatch for the lot.
  void DoneItems(Connection& c, const boost::json::object& m);
  void DoneItems(Connection& c,
                 std::span<const protocol::DoneItemsEntry> entries);
  void DoneItems(Connection& c, std::span<const protocol::DoneRequest> dones);
  // Ends `count` items, from `entries` (read by the reader, some maybe
  // refused) or else `dones`; replies once and dispatches.
  void EndItems(Connection& c, size_t count,
                const protocol::DoneItemsEntry* entries,
                const protocol::DoneRequest* dones);
  // What ending one item for `c` gave.
  struct Ended {
    int status = 0;            // 0, or the refusal's errno (nothing changed)
    std::string error;         // the refusal
    bool end_refused = false;  // Lustre still holds it: retried later
    // The connection of the mover whose running count fell, if not null.
    std::shared_ptr<Connection> owner;
  };
  // The heart of a `done`: checks, logs, ends the item (or, when Lustre
  // refused its end, puts it back). Replies and dispatches nothing.
  // `now_ns`: the Unix time in ns, read once for a whole batch.
  Ended EndItem(Connection& c, const protocol::DoneRequest& request,
                int64_t now_ns);
  // Whether `c` may end *item (its own, or a late one taken back from it:
  // then *item becomes null, the done is ignored); else the refusal.
  std::optional<std::string> CheckDoneOwner(const Connection& c,
                                            const ItemId& id,
                                            const Item** item);
  // Forgets a finished item; returns its mover's connection, if any.
  // `await_retry`: Lustre sends it again (Scheduler::Done).
  std::shared_ptr<Connection> Finish(const Item& item, int status,
                                     bool await_retry = false);
  std::shared_ptr<Connection> Finish(const Item& item, int status,
                                     bool await_retry, int64_t now_ns);
  // Whether Lustre put `item`, just ended by its mover with HP_FLAG_RETRY,
  // back to WAITING (it comes back): not under NRA, its default policy,
  // which fails it. Asked of Lustre (the file's current action); an
  // unanswered question counts as yes, bounded by the retry memory's
  // lifetime.
  bool ComesBack(const Item& item);
  // A new restore of `owner`, over max_queued_restores_per_owner: failed
  // at Lustre with EDQUOT, logged and reported, never queued.
  void RefuseOverQueueCap(const protocol::WireItem& wire,
                          const std::string& owner);
  void Queue(Connection& c, const boost::json::object& m);
  // `upcall` (docs/upcall.md, server_upcall.cc): the requests a Lustre
  // upcall hands over, queued as upcalled items; answered once durable.
  void Upcall(Connection& c, const boost::json::object& m);
  // What `queue` and `reconcile` do with a list of items: each new one
  // checked at Lustre and placed, each known one counted.
  struct Taken {
    int64_t added = 0, known = 0, not_live = 0;
    size_t refused_by_lustre = 0;
    std::vector<protocol::QueueFailure> failed;
  };
  // `from`: "queue" or "reconcile", for the request log.
  Taken TakeItems(const Connection& c, std::vector<protocol::ListEntry>& items,
                  const char* from);
  // `reconcile` (server/reconcile.h): Lustre's active requests.
  void ReconcileWith(Connection& c, const boost::json::object& m);
  // A waiting item Lustre no longer has: forgotten for good, logged.
  void DropGone(const ItemId& id);
  // Why a new `queue` item is refused (server/queue_check.h): asks Lustre.
  std::optional<QueueRefused> CheckQueued(const hsm_action_item& hai);
  void Status(Connection& c, const boost::json::object& m);
  // What the status reply shows of movers and connections.
  StatusView StatusViewOf() const;
  // What a scrape reads of the server now.
  MetricsView MetricsViewOf() const;
  // Where a file's requests are; a page of requests (server/item_query.h).
  void Show(Connection& c, const boost::json::object& m);
  void List(Connection& c, const boost::json::object& m);
  void Lock(Connection& c, const boost::json::object& m);
  // `drain` (drain true) or `resume` of one mover (ServerCore::SetDraining).
  void MoverControl(Connection& c, const boost::json::object& m, bool drain);
  void Progress(Connection& c, const boost::json::object& m);
  void Progress(Connection& c, const protocol::ProgressRequest& request);
  void Reply(Connection& c, const std::string& command, int status,
             const std::string& error, boost::json::object fields = {},
             bool acknowledges = false);

  // Dispatch.
  void DispatchAll() override;
  size_t ShareDivisor() const;
  bool DispatchTo(Connection& c, size_t share_divisor);
  void SendList(Connection& c, DispatchReply reply);

  // Report files (docs/policies.md, report files).
  void Report() override;

  // Re-dispatch safety (issue 10, server/redispatch.h): an item placed
  // again after it ran waits, out of every mover's reach, until Lustre
  // confirms that it still holds the request.
  void HoldForCheck(const ItemId& id) override;
  void RunChecks() override;
  // A mover ended `id` but Lustre refused the end (`end_rc`): Lustre still
  // holds it. Retried later, then ended at Lustre as failed.
  void EndRefused(Connection& c, const ItemId& id, int status, int end_rc);
  // Acts on kRetryLater (end with HP_FLAG_RETRY, hold) or kEndFailed.
  void OnRetryVerdict(const ItemId& id, Redispatch::Verdict verdict,
                      int errval);
  // Ends `id` at Lustre without running it and forgets it (unless Lustre
  // refuses: then it is checked again later).
  void EndAtLustre(const ItemId& id, int errval, int hp_flags);
  void ForgetEnded(const ItemId& id, const char* why);
  // The request log's `placed` line of `item` (none if null).
  void LogPlaced(const Item* item, std::string_view why = {});
  // What forgetting an item that never ran to its end takes; `as_done`:
  // counted done in status (else counted nowhere).
  void ForgetUnrun(const ItemId& id, bool as_done);

  boost::asio::io_context& io_;
  ServerOptions options_;
  const common::Clock& clock_;
  Scheduler scheduler_;
  LustreAgent lustre_;
  std::optional<boost::asio::posix::stream_descriptor> lustre_fd_;
  Listener listener_;
  std::unique_ptr<tls::ServerTls> tls_;  // null: plain TCP
  common::LogThrottle plaintext_refused_;
  common::LogThrottle handshakes_failed_;
  Liveness liveness_;
  ConnectionOptions connection_options_;
  std::optional<policy::Reporter> reporter_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Outbox> outbox_;  // over store_
  bool lustre_paused_ = false;  // not reading Lustre: the store is down
  Redispatch redispatch_;
  // This run's instance id and the reconcile passes it answered.
  Reconcile reconcile_{NewInstanceId()};
  // Test-only fault hook: with COORDINATOOL_TEST_KILL_AFTER_READS=N in its
  // environment the server kills itself (SIGKILL) right after reading its
  // N-th request from Lustre, before storing it (the crash-loop test).
  int kill_after_reads_ = 0;
  std::set<std::shared_ptr<Connection>> connections_;
  // The auth file's rules; none: no authentication.
  std::optional<auth::Authorizer> authorizer_;
  auth::MoverIdHolders id_holders_;  // over movers_
  size_t introduced_ = 0;            // connections past ehlo (ShareDivisor)
  MoverTable movers_;
  ServerCore core_;                     // over scheduler_, redispatch_, movers_
  RecentDone recent_done_;              // `show` of a request that ended
  UpcallCookies upcall_cookies_;        // of upcalled items
  DispatchRate dispatch_rate_{clock_};  // `show`'s estimate
  uint64_t refused_over_queue_cap_ = 0;  // restores failed with EDQUOT
  RetryMemory retries_{clock_};          // requests ended with HP_FLAG_RETRY
  ItemQuery item_query_{scheduler_,     movers_, recent_done_,
                        dispatch_rate_, clock_,  &retries_};
  boost::asio::steady_timer timer_;  // core_'s next deadline
  std::optional<common::Clock::TimePoint> timer_deadline_;  // armed for
  bool stopped_ = false;
  uint64_t recv_order_ = 0;
  ServerMetrics metrics_;
  // Last: destroyed first (the locality helper's pending answers are
  // dropped before the members they use).
  Placement placement_;
  StatusBuilder status_;
  // The HTTP listener and its routes (http_port; null when off). Last:
  // closed before the members its handlers read.
  http::Router http_routes_;
  std::unique_ptr<http::HttpServer> http_;
  BacklogHistory backlog_history_;
  RestoreWaits restore_waits_;
  std::optional<boost::asio::steady_timer> backlog_timer_;  // http on
  // High availability (ha_lease_ms); null: off.
  std::unique_ptr<LeaseKeeper> lease_;
  bool leading_ = false;        // took the lease, loaded, registered
  bool stepping_down_ = false;  // final
  int exit_status_ = 0;
  int64_t last_takeover_unix_ns_ = 0;
  int64_t last_takeover_ms_ = 0;
};

// EX_TEMPFAIL: a leader that stepped down exits with it, for systemd
// (Restart=on-failure) to start it again as a standby.
inline constexpr int kExitSteppedDown = 75;

}  // namespace server

#endif  // SERVER_SERVER_H_
