// Mover: the preload library's state for one registered copytool: its
// session with the coordinatool server, the items it is running (to
// re-announce them after a reconnect), and the completions not yet
// delivered. With several servers (the `host` list) it connects to the
// first that takes it, follows a standby's answer to the leader, and moves
// to another server by itself when its server is lost
// (client/failover.h), re-announcing what it runs there.
//
// Completions that are ready at the same time (reported while another is
// being sent, read together from forked children, held over a reconnect)
// go in one `done` message when the server announced it takes many
// (docs/protocol.md, "Many dones in one message"); never to a server that
// did not. A completion leaves at once unless a `done` message left less
// than the linger ago: then it waits, with those that follow, until the
// linger is over (a thread of the library sends them). A mover finishing
// items faster than one per linger so sends one message per linger, not
// one per item, and a slower one sends each at once. Failures are never
// held, nor any completion when the mover may be at one of its limits
// (max_archive, ...): the server may be waiting for that slot to give it
// more work.
//
// Thread-safety: Recv() is called by one thread at a time (the copytool's
// receiving thread); ReportDone() and the begin/end bookkeeping may be
// called from any thread, and from forked children (through a pipe). The
// session is shared under mu_; only the receiving thread closes it (the
// others shut it down, which wakes a poll on its descriptor), so that the
// descriptor it polls without the lock stays the session's.
#ifndef PRELOAD_MOVER_H_
#define PRELOAD_MOVER_H_

#include <sys/types.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/backoff.h"
#include "client/failover.h"
#include "client/session.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "common/unique_fd.h"
#include "config/settings.h"
#include "protocol/item_id.h"

namespace preload {

struct DoneRecord {  // fixed size: written to the pipe in one write()
  uint64_t cookie;
  lu_fid dfid;
  int32_t status;
  // Nonzero: what the real llapi_hsm_action_begin or _end returned (see
  // ReportDone).
  int32_t begin_rc;
  int32_t end_rc;
  int32_t hp_flags;  // what the end was sent to Lustre with
};

// The flags to end an item of `hai_action` with at Lustre: `hp_flags`, plus
// HP_FLAG_RETRY when `errval` (either sign) is one of the settings'
// retry_errors for that action (docs/policies.md, "Retries").
int EndFlags(const config::ClientSettings& settings, uint32_t hai_action,
             int errval, int hp_flags);

// How long completions wait after a `done` message for the next one: at
// most that much later at the server, which then reads one message per
// linger from a busy mover (docs/protocol.md,
// "Many dones in one message").
inline constexpr std::chrono::microseconds kDoneLinger{5000};

class Mover {
 public:
  // Ends an item at Lustre without running it (begin with is_error, then
  // end with `errval`); returns 0 or -errno.
  using EndAtLustre = std::function<int(const hsm_action_item&, int errval)>;

  Mover(config::ClientSettings settings, std::string fsname,
        std::vector<uint32_t> archive_ids, EndAtLustre end_at_lustre = {},
        client::BackoffOptions backoff = {},
        std::chrono::microseconds done_linger = kDoneLinger);
  // Sends the completions still held (the linger), if the session is up.
  ~Mover();
  Mover(const Mover&) = delete;
  Mover& operator=(const Mover&) = delete;

  // Connects and introduces itself. A server that cannot be reached (not
  // started yet, restarting, the network) is waited for, with the backoff
  // and a log line per failed attempt, for settings.connect_wait_ms (-1:
  // for ever). False with *error at once on a definitive refusal, which
  // waiting cannot fix: the token file cannot be read, the token or the
  // ehlo is refused (a bad or forbidden mover id); once the wait is over;
  // or when a signal the process handles interrupts it (the copytool's
  // SIGTERM). Later losses reconnect by themselves (Recv).
  bool Start(std::string* error) EXCLUDES(mu_);

  // Waits for the next action list and encodes it, in Lustre's binary form,
  // into `buffer` of `capacity` bytes. Returns the size, or -EAGAIN when
  // `nonblocking` and nothing has arrived, -EINTR when a signal the
  // process handles interrupts the wait, or another -errno.
  int Recv(char* buffer, size_t capacity, bool nonblocking) EXCLUDES(mu_);

  // The descriptor a copytool may poll: readable when a reply arrives (or
  // when the session failed: the next Recv() reconnects).
  int fd() EXCLUDES(mu_);

  // Records that `id` finished with `status` (0 or positive errno) and tells
  // the server as soon as possible. `end_rc` is what Lustre answered to the
  // end (llapi_hsm_action_end's return): other than 0 or -ENOENT, Lustre
  // did not take the end and still holds the request. `begin_rc` is the
  // failed llapi_hsm_action_begin that came before (0: none). Both travel
  // in the `done` as optional fields, absent when 0.
  // `hp_flags`: the flags the end was sent with (HP_FLAG_RETRY: Lustre
  // sends the request again), in the `done` when not 0.
  void ReportDone(const protocol::ItemId& id, int status, int end_rc = 0,
                  int begin_rc = 0, int hp_flags = 0) EXCLUDES(mu_);

  const config::ClientSettings& settings() const { return settings_; }

  // Forwards a copytool's progress report on `id` to the server as a
  // heartbeat (the `progress` command, no reply), if the server said in
  // its ehlo reply that it understands it: the original closes the
  // connection on an unknown command. Not from forked children.
  void ReportProgress(const protocol::ItemId& id) EXCLUDES(mu_);

 private:
  // Connects to `to` and introduces itself (client/failover.h, Attempt).
  client::Attempt Connect(const client::ServerAddress& to) REQUIRES(mu_);
  // One round over the servers (client::TryRound).
  client::Attempt::Result TryServers(std::string* error) EXCLUDES(mu_);
  void Reconnect() EXCLUDES(mu_);
  // A standby's answer on the open session (the server stepped down):
  // logged, the session broken, the leader it names tried first.
  void FollowStandby(const std::string& command, const std::string& leader)
      EXCLUDES(mu_);
  bool SendLocked(const boost::json::object& message) REQUIRES(mu_);
  // A send failed: the session is shut down and left for the receiving
  // thread to close and replace.
  void BreakSessionLocked() REQUIRES(mu_);
  bool UsableLocked() const REQUIRES(mu_);
  bool Usable() EXCLUDES(mu_);
  // Moves the next reply already received to *reply; false if none.
  bool TakeBuffered(boost::json::object* reply) EXCLUDES(mu_);
  bool SendRecv() EXCLUDES(mu_);
  // Sends the completions not yet delivered: many in one message when the
  // server takes that (its ehlo reply's `done_items`), else one message
  // each, in one write.
  void FlushDonesLocked() REQUIRES(mu_) EXCLUDES(done_mu_);
  void DrainPipe() EXCLUDES(mu_);
  // The thread that sends completions held by the linger.
  void SendHeld() EXCLUDES(mu_, done_mu_);
  void LeaveSenderInChild() NO_THREAD_SAFETY_ANALYSIS;
  int HandleReply(boost::json::object& reply, char* buffer, size_t capacity)
      EXCLUDES(mu_);
  // An item of a reply that cannot be decoded: ended at Lustre as failed
  // and reported done with EPROTO if its identity is readable, else skipped.
  void RefuseItem(const boost::json::value& entry, const std::string& why)
      EXCLUDES(mu_);

  const config::ClientSettings settings_;
  const std::string fsname_;
  const std::vector<uint32_t> archive_ids_;
  const pid_t owner_pid_;
  const EndAtLustre end_at_lustre_;
  common::SteadyClock clock_;
  client::Backoff backoff_;  // used by the thread in Recv() only
  // The servers and where the session is; used by the thread in Recv()
  // (or Start(), before it) only.
  client::ServerList servers_;
  std::optional<client::ServerAddress> leader_hint_;  // from FollowStandby
  common::UniqueFd pipe_read_;
  common::UniqueFd pipe_write_;

  common::Mutex mu_;
  client::Session session_ GUARDED_BY(mu_);
  // Shut down, to be closed by the receiving thread.
  bool session_broken_ GUARDED_BY(mu_) = false;
  bool recv_pending_ GUARDED_BY(mu_) = false;
  bool server_takes_progress_ GUARDED_BY(mu_) = false;
  // Items received and not yet reported done to the server (an item whose
  // done is not delivered yet is re-announced, so that the done that
  // follows the reconnect comes from its owner).
  std::unordered_map<protocol::ItemId, boost::json::object,
                     protocol::ItemIdHash>
      running_ GUARDED_BY(mu_);
  bool server_takes_done_items_ GUARDED_BY(mu_) = false;
  // Completions not yet delivered. Under their own lock so that a worker
  // reporting one while another thread sends does not wait for the send:
  // it queues it and returns, and the sending thread (`flushing_`) takes it
  // in its next message, at once (no added latency, fewer messages).
  common::Mutex done_mu_;  // taken after mu_ when both are
  std::deque<DoneRecord> undelivered_ GUARDED_BY(done_mu_);
  bool flushing_ GUARDED_BY(done_mu_) = false;
  // The linger: completions wait until `linger_end_` (the last message's
  // time plus the linger) for the thread `sender_` (started at the first
  // wait, in the registering process only) to send them.
  // The smallest of the mover's limits (config::kUnlimited: none); a
  // completion is held only while the items running are fewer.
  const uint32_t slots_;
  // running_.size(), read without mu_.
  std::atomic<size_t> running_count_{0};
  const std::chrono::microseconds done_linger_;
  std::chrono::steady_clock::time_point linger_end_ GUARDED_BY(done_mu_);
  bool held_ GUARDED_BY(done_mu_) = false;  // waiting for the linger's end
  bool stopping_ GUARDED_BY(done_mu_) = false;
  common::CondVar held_cv_;
  std::unique_ptr<std::thread> sender_ GUARDED_BY(done_mu_);
};

}  // namespace preload

#endif  // PRELOAD_MOVER_H_
