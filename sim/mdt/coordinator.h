// Coordinator: the simulated MDT's HSM coordinator (CDT; docs/lustre.md, the
// coordinator, whose sections the comments below name). It accepts user
// requests into the request log, dispatches WAITING records in batches to
// the least-loaded agent, tracks the active ones in memory, applies progress
// and completions to the files' HSM state, times requests out and purges
// finished ones, and implements hsm_control.
//
// It owns no socket and no timer: the server calls the RPC entry points,
// delivers HALs through AgentChannel, and calls RunDue() when NextDeadline()
// is reached (and after each event-loop turn). Time comes only from the
// injected clock, so tests step a ManualClock.
//
// Entry points return 0 or a negative errno: what the matching Lustre ioctl
// returns.
//
// Thread-safety: none; used from the daemon's event-loop thread.
#ifndef SIM_MDT_COORDINATOR_H_
#define SIM_MDT_COORDINATOR_H_

#include <linux/lustre/lustre_user.h>

#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "hsm/fid.h"
#include "sim/mdt/extent_set.h"
#include "sim/mdt/file_table.h"
#include "sim/mdt/request_log.h"
#include "sim/mdt/tunables.h"

namespace sim::mdt {

class Journal;

// What the coordinator needs from the transport.
class AgentChannel {
 public:
  virtual ~AgentChannel() = default;
  // Delivers one KUC message to every registrant of agent `uuid`. Returns 0
  // if at least one took it, -EAGAIN if none is left, -EPIPE if the agent's
  // client is gone (the coordinator then unregisters it).
  virtual int SendToAgent(const std::string& uuid, const std::string& kuc) = 0;
  // No restore holds `fid` any more.
  virtual void RestoreReleased(const lu_fid& fid) = 0;
};

// Who called, from SO_PEERCRED.
struct Caller {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t pid = 0;
  bool privileged() const { return uid == 0; }
};

// Whether an action still has something to do for a file in state `flags`,
// and whether it may run on it (docs/lustre.md, accepting a request): the
// coordinator's rules, also applied by the LU-10968 bypass (upcall.h).
bool HsmActionNeeded(uint32_t action, uint32_t flags);
bool HsmActionCompatible(uint32_t action, uint32_t flags,
                         uint32_t request_archive, uint32_t file_archive);

enum class CdtState { kStopped, kInit, kRunning, kDisabled, kStopping };

struct Agent {
  std::string uuid;
  std::vector<uint32_t> archives;  // empty: any archive
  int current = 0;
  int ok = 0;
  int errors = 0;
  bool Serves(uint32_t archive_id) const;
};

// A dispatched request, in memory (Lustre's cdt_agent_req).
struct ActiveRequest {
  uint64_t cookie = 0;
  uint32_t idx = 0;
  uint32_t action = 0;
  lu_fid fid{};
  std::string agent_uuid;
  bool canceled = false;
  uint32_t cancel_idx = 0;  // the linked cancel record, 0 if none
  common::Clock::TimePoint last_progress;
  ExtentSet done;
  std::optional<uint64_t> archive_version;  // sampled at CopyStart
};

class Coordinator {
 public:
  Coordinator(std::string fsname, FileTable* files, Journal* journal,
              const common::Clock* clock, AgentChannel* channel);
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Start-up: feed every journal payload to ApplyJournal(), then call
  // FinishRecovery(), then Control("enabled") unless it must stay stopped.
  void ApplyJournal(std::string_view payload);
  void FinishRecovery();

  // hsm_control write (states and hsm_control). -EINVAL on an unknown word
  // or >= 10 bytes.
  int Control(std::string_view command);
  CdtState state() const { return state_; }
  const char* StateName() const;

  // LL_IOC_HSM_REQUEST with the hsm_user_request bytes (accepting a
  // request).
  int Request(const Caller& caller, std::string_view hur);
  // Copytool registration (agents and cancel). `archives` as sent; any 0
  // means ANY.
  int RegisterAgent(const std::string& uuid, std::vector<uint32_t> archives);
  void UnregisterAgent(const std::string& uuid);
  // LL_IOC_HSM_COPY_START / PROGRESS / COPY_END (per-action calls,
  // completion).
  // `volatile_fd` is the restore volatile at CopyEnd, -1 if none was sent.
  int CopyStart(const hsm_copy& copy);
  int Progress(const hsm_progress& progress);
  int CopyEnd(const hsm_copy& copy, int volatile_fd);
  // LL_IOC_HSM_ACTION (state and request calls).
  void CurrentAction(const lu_fid& fid, hsm_current_action* out);
  bool RestoreLocked(const lu_fid& fid) const {
    return restore_locks_.count(fid) != 0;
  }

  // The time RunDue() has work, or nullopt if there is none scheduled.
  std::optional<common::Clock::TimePoint> NextDeadline() const;
  // Runs the scan and housekeeping that are due.
  void RunDue();
  // Asks for a scan at the next allowed time (e.g. after a tunable change).
  void Wake() { RequestScan(); }

  // Journal compaction: whether it is due, and the framed snapshot.
  bool CompactionDue() const;
  std::string Snapshot() const;

  Tunables& tunables() { return tunables_; }
  const Tunables& tunables() const { return tunables_; }
  const std::string& fsname() const { return fsname_; }
  const std::vector<Agent>& agents() const { return agents_; }
  const RequestLog& log() const { return log_; }
  FileTable* files() { return files_; }
  // Active requests in dispatch order.
  void ForEachActive(
      const std::function<void(const ActiveRequest&, const Record&)>& fn) const;
  int ActiveCount(uint32_t action) const;
  uint64_t last_cookie() const { return last_cookie_; }

 private:
  struct Batch {
    uint32_t archive_id = 0;
    size_t bytes = 0;
    std::vector<uint32_t> idxs;
  };

  int Start();
  void Shutdown();
  void Purge();
  void RequestScan(bool immediate = false);
  void Scan(bool housekeeping);
  // Spreads REMOVEs of archive id 0 over the archive ids served, when no
  // copytool serves every archive.
  void BroadcastRemoves();
  void Timeouts();
  void TakeInBatch(const Record& rec, std::vector<Batch>* batches);
  // False if it could not be sent (no agent, the agent's channel failed).
  bool SendBatch(const Batch& batch);
  bool Revalidate(Record* rec);
  Agent* FindAgent(const std::string& uuid);
  Agent* BestAgent(uint32_t archive_id);
  bool AnyAgentServes(uint32_t archive_id) const;
  // What CopyEnd learnt before completing.
  struct Completion {
    std::optional<uint64_t> archive_version;  // the file's version now
    bool changed_during_archive = false;
    int restore_fd = -1;  // the volatile
  };
  int Complete(uint64_t cookie, uint32_t errval, uint16_t flags,
               const Completion& info);
  int HandleProgress(const lu_fid& fid, uint64_t cookie,
                     const hsm_extent& extent, uint16_t flags, uint16_t errval,
                     ActiveRequest** out);
  void ReleaseRestoreLock(const lu_fid& fid);
  void RemoveActive(uint64_t cookie);
  int64_t Unix() const { return clock_->UnixSeconds(); }

  std::string fsname_;
  FileTable* files_;
  Journal* journal_;
  const common::Clock* clock_;
  AgentChannel* channel_;
  Tunables tunables_;
  CdtState state_ = CdtState::kStopped;
  RequestLog log_;
  uint64_t last_cookie_ = 0;
  uint32_t next_idx_ = 1;

  std::vector<Agent> agents_;                           // registration order
  std::unordered_map<uint64_t, ActiveRequest> active_;  // by cookie
  std::list<uint64_t> active_order_;                    // dispatch order
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> order_pos_;
  // Dispatched cancels not linked to an active target: they wait for their
  // timeout like any STARTED record.
  std::unordered_map<uint32_t, common::Clock::TimePoint> started_cancels_;
  std::unordered_set<lu_fid, hsm::FidHash, FidEq> restore_locks_;
  int active_archive_ = 0, active_restore_ = 0, active_remove_ = 0;

  bool scan_requested_ = false;
  bool scan_immediate_ = false;
  common::Clock::TimePoint last_scan_{};
  common::Clock::TimePoint last_housekeeping_{};
  // The last record a pass took (Lustre's scan start position): passes
  // after an event read only the records after it.
  uint32_t scan_mark_ = 0;
};

}  // namespace sim::mdt

#endif  // SIM_MDT_COORDINATOR_H_
