#include "sim/mdt/coordinator.h"

#include <linux/lustre/lustre_fid.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unordered_set>
#include <utility>

#include "hsm/hal.h"
#include "sim/mdt/journal.h"
#include "sim/mdt/state_codec.h"

namespace sim::mdt {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Whether an action still has something to do for a file (docs/lustre.md,
// accepting a request).
bool Needed(uint32_t action, uint32_t flags) {
  switch (action) {
    case HSMA_ARCHIVE:
      return (flags & HS_DIRTY) || !(flags & HS_ARCHIVED);
    case HSMA_RESTORE:
      return (flags & HS_RELEASED) || (flags & HS_DIRTY);
    case HSMA_REMOVE:
      return (flags & HS_ARCHIVED) || (flags & HS_EXISTS);
    default:
      return true;
  }
}

// Whether an action may run on a file in its current state (docs/lustre.md,
// accepting a request).
bool Compatible(uint32_t action, uint32_t flags, uint32_t request_archive,
                uint32_t file_archive) {
  switch (action) {
    case HSMA_ARCHIVE:
      if (flags & HS_NOARCHIVE) return false;
      if (!(flags & HS_DIRTY) && (flags & HS_ARCHIVED)) return false;
      return !((flags & HS_EXISTS) && request_archive != 0 &&
               request_archive != file_archive);
    case HSMA_RESTORE:
      return (flags & HS_RELEASED) && (flags & HS_ARCHIVED) &&
             !(flags & (HS_DIRTY | HS_LOST));
    case HSMA_REMOVE:
      return !(flags & HS_RELEASED) && (flags & (HS_ARCHIVED | HS_EXISTS));
    default:
      return true;
  }
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool HsmActionNeeded(uint32_t action, uint32_t flags) {
  return Needed(action, flags);
}

bool HsmActionCompatible(uint32_t action, uint32_t flags,
                         uint32_t request_archive, uint32_t file_archive) {
  return Compatible(action, flags, request_archive, file_archive);
}

bool Agent::Serves(uint32_t archive_id) const {
  if (archives.empty()) return true;
  for (uint32_t a : archives)
    if (a == archive_id) return true;
  return false;
}

Coordinator::Coordinator(std::string fsname, FileTable* files, Journal* journal,
                         const common::Clock* clock, AgentChannel* channel)
    : fsname_(std::move(fsname)),
      files_(files),
      journal_(journal),
      clock_(clock),
      channel_(channel),
      log_(journal) {}

// ---- Recovery ----

void Coordinator::ApplyJournal(std::string_view payload) {
  bool ok = false;
  switch (static_cast<JournalOp>(PeekOp(payload))) {
    case JournalOp::kFile: {
      FileEntry entry;
      if ((ok = DecodeFile(payload, &entry))) files_->Load(entry);
      break;
    }
    case JournalOp::kFileDrop: {
      lu_fid fid;
      if ((ok = DecodeFileDrop(payload, &fid))) files_->Drop(fid);
      break;
    }
    case JournalOp::kRecord: {
      Record rec;
      if ((ok = DecodeRecord(payload, &rec))) {
        last_cookie_ = std::max(last_cookie_, rec.cookie());
        next_idx_ = std::max(next_idx_, rec.idx + 1);
        log_.Load(rec);
      }
      break;
    }
    case JournalOp::kRecordDrop: {
      uint32_t idx;
      if ((ok = DecodeRecordDrop(payload, &idx))) log_.Drop(idx);
      break;
    }
    case JournalOp::kCounters: {
      Counters c;
      if ((ok = DecodeCounters(payload, &c))) {
        last_cookie_ = std::max(last_cookie_, c.last_cookie);
        next_idx_ = std::max(next_idx_, c.next_idx);
        files_->set_next_oid(std::max(files_->next_oid(), c.next_oid));
      }
      break;
    }
  }
  if (!ok)
    spdlog::warn("journal: skipping a malformed record (op {}, {} bytes)",
                 PeekOp(payload), payload.size());
}

void Coordinator::FinishRecovery() { log_.RebuildIndexes(); }

// ---- hsm_control ----

const char* Coordinator::StateName() const {
  switch (state_) {
    case CdtState::kStopped:
      return "stopped";
    case CdtState::kInit:
      return "init";
    case CdtState::kRunning:
      return "enabled";
    case CdtState::kDisabled:
      return "disabled";
    case CdtState::kStopping:
      return "stopping";
  }
  return "unknown";
}

int Coordinator::Control(std::string_view command) {
  if (command.size() >= 10) return -EINVAL;
  if (StartsWith(command, "enabled")) {
    if (state_ == CdtState::kDisabled) {
      state_ = CdtState::kRunning;
      RequestScan();
      return 0;
    }
    if (state_ == CdtState::kRunning) return 0;
    return Start();
  }
  if (StartsWith(command, "disabled")) {
    if (state_ == CdtState::kRunning) state_ = CdtState::kDisabled;
    return 0;
  }
  if (StartsWith(command, "shutdown")) {
    if (state_ != CdtState::kStopped) Shutdown();
    return 0;
  }
  if (StartsWith(command, "purge")) {
    Purge();
    return 0;
  }
  if (StartsWith(command, "help")) return 0;
  return -EINVAL;
}

int Coordinator::Start() {
  tunables_.policy = kPolicyNra;
  tunables_.user_request_mask = kDefaultRequestMask;
  tunables_.group_request_mask = kDefaultRequestMask;
  tunables_.other_request_mask = kDefaultRequestMask;
  int64_t now = Unix();
  for (auto& [idx, rec] : log_.mutable_records()) {
    if (rec.status == ARS_STARTED) {
      rec.hai.hai_dfid = rec.hai.hai_fid;
      log_.SetStatus(&rec, ARS_WAITING, now);
    }
    if (rec.is_live() && rec.action() == HSMA_RESTORE)
      restore_locks_.insert(rec.hai.hai_fid);
  }
  // Lustre takes the largest cookie in the log, or the Unix time if it is
  // empty; never going backwards keeps cookies unique across purges.
  uint64_t base =
      log_.records().empty() ? static_cast<uint64_t>(now) : log_.MaxCookie();
  last_cookie_ = std::max(last_cookie_, base);
  state_ = CdtState::kRunning;
  last_housekeeping_ = last_scan_ = clock_->Now();
  RequestScan(/*immediate=*/true);
  return 0;
}

void Coordinator::Shutdown() {
  active_.clear();
  active_order_.clear();
  order_pos_.clear();
  started_cancels_.clear();
  active_archive_ = active_restore_ = active_remove_ = 0;
  agents_.clear();
  auto locks = std::move(restore_locks_);
  restore_locks_.clear();
  if (channel_)
    for (const lu_fid& fid : locks) channel_->RestoreReleased(fid);
  state_ = CdtState::kStopped;
  scan_requested_ = scan_immediate_ = false;
}

void Coordinator::Purge() {
  // Tell each agent to cancel what it runs (the purge's own cancels are not
  // registered), then cancel every live record.
  std::unordered_map<std::string, std::vector<const ActiveRequest*>> by_agent;
  for (uint64_t cookie : active_order_) {
    ActiveRequest& a = active_.at(cookie);
    a.canceled = true;
    by_agent[a.agent_uuid].push_back(&a);
  }
  for (const auto& [uuid, list] : by_agent) {
    std::unordered_map<uint32_t, hsm::HalBuilder> hals;
    for (const ActiveRequest* a : list) {
      const Record* rec = log_.Find(a->idx);
      if (!rec) continue;
      auto it =
          hals.try_emplace(rec->archive_id, fsname_, rec->archive_id, 0).first;
      hsm_action_item hai = rec->hai;
      hai.hai_action = HSMA_CANCEL;
      hai.hai_len = hsm::kHaiFixedSize;
      if (!it->second.Add(hai, "")) {
        if (channel_) channel_->SendToAgent(uuid, it->second.KucMessage());
        it->second = hsm::HalBuilder(fsname_, rec->archive_id, 0);
        it->second.Add(hai, "");
      }
    }
    for (const auto& [archive, hal] : hals)
      if (channel_ && hal.count() > 0)
        channel_->SendToAgent(uuid, hal.KucMessage());
  }
  int64_t now = Unix();
  for (auto& [idx, rec] : log_.mutable_records())
    if (rec.is_live()) log_.SetStatus(&rec, ARS_CANCELED, now);
  started_cancels_.clear();
  auto locks = std::move(restore_locks_);
  restore_locks_.clear();
  if (channel_)
    for (const lu_fid& fid : locks) channel_->RestoreReleased(fid);
}

// ---- Agents ----

Agent* Coordinator::FindAgent(const std::string& uuid) {
  for (Agent& a : agents_)
    if (a.uuid == uuid) return &a;
  return nullptr;
}

int Coordinator::RegisterAgent(const std::string& uuid,
                               std::vector<uint32_t> archives) {
  if (state_ == CdtState::kStopped || state_ == CdtState::kStopping)
    return -ENXIO;
  // Lustre keeps the first registrant's list for a mount.
  if (FindAgent(uuid)) return 0;
  for (uint32_t a : archives)
    if (a == 0) archives.clear();
  agents_.push_back(Agent{uuid, std::move(archives)});
  RequestScan();
  return 0;
}

void Coordinator::UnregisterAgent(const std::string& uuid) {
  for (auto it = agents_.begin(); it != agents_.end(); ++it) {
    if (it->uuid == uuid) {
      agents_.erase(it);
      return;
    }
  }
}

bool Coordinator::AnyAgentServes(uint32_t archive_id) const {
  for (const Agent& a : agents_)
    if (a.Serves(archive_id)) return true;
  return false;
}

Agent* Coordinator::BestAgent(uint32_t archive_id) {
  Agent* best = nullptr;
  for (Agent& a : agents_) {
    if (!a.Serves(archive_id)) continue;
    if (!best || a.current < best->current) best = &a;
    if (best->current == 0) break;
  }
  return best;
}

// ---- User requests ----

int Coordinator::Request(const Caller& caller, std::string_view hur) {
  hsm_request hr;
  if (hur.size() < sizeof(hr)) return -EPROTO;
  memcpy(&hr, hur.data(), sizeof(hr));
  const uint64_t items_len = uint64_t{hr.hr_itemcount} * sizeof(hsm_user_item);
  if (sizeof(hr) + items_len + hr.hr_data_len != hur.size()) return -EPROTO;
  if (hr.hr_itemcount == 0) return 0;
  uint32_t action;
  switch (hr.hr_action) {
    case HUA_ARCHIVE:
      action = HSMA_ARCHIVE;
      break;
    case HUA_RESTORE:
      action = HSMA_RESTORE;
      break;
    case HUA_REMOVE:
      action = HSMA_REMOVE;
      break;
    case HUA_CANCEL:
      action = HSMA_CANCEL;
      break;
    default:  // HUA_RELEASE is done by the client; NONE and unknown
      return -EINVAL;
  }
  if (state_ == CdtState::kStopped || state_ == CdtState::kStopping ||
      state_ == CdtState::kInit)
    return -EAGAIN;
  std::string_view data = hur.substr(sizeof(hr) + items_len);

  // First pass: every check, so a refused request records nothing.
  struct Planned {
    hsm_user_item item;
    uint32_t archive_id;
    uint64_t cookie;
  };
  std::vector<Planned> plan;
  std::unordered_set<lu_fid, hsm::FidHash, FidEq> seen;
  for (uint32_t i = 0; i < hr.hr_itemcount; ++i) {
    hsm_user_item item;
    memcpy(&item, hur.data() + sizeof(hr) + i * sizeof(item), sizeof(item));
    if (!fid_is_sane(&item.hui_fid)) return -EINVAL;
    if (!seen.insert(item.hui_fid).second) continue;
    if (action == HSMA_CANCEL) {
      Record* target = log_.FirstLive(item.hui_fid);
      if (!target) continue;  // nothing to cancel: dropped silently
      plan.push_back({item,
                      hr.hr_archive_id ? hr.hr_archive_id : target->archive_id,
                      target->cookie()});
      continue;
    }
    FileEntry* entry;
    struct stat st;
    if (int rc = files_->Stat(item.hui_fid, &entry, &st); rc < 0) {
      // Lustre (mdt_hsm_register_hal) records a REMOVE of a file that is
      // gone, for root only, with the archive id as given: no file, so no
      // archive id of its own and no default either. An archive id of 0 is
      // resolved at dispatch (BroadcastRemoves).
      if (action == HSMA_REMOVE && caller.privileged()) {
        plan.push_back({item, hr.hr_archive_id, 0});
        continue;
      }
      return rc;
    }
    if (!caller.privileged()) {
      uint64_t mask = st.st_uid == caller.uid   ? tunables_.user_request_mask
                      : st.st_gid == caller.gid ? tunables_.group_request_mask
                                                : tunables_.other_request_mask;
      if (!(mask & (1ULL << action))) return -EPERM;
    }
    const HsmAttrs& hsm = entry->hsm;
    if (!(hr.hr_flags & HSM_FORCE_ACTION) && !Needed(action, hsm.flags))
      continue;
    if (!Compatible(action, hsm.flags, hr.hr_archive_id, hsm.archive_id))
      return -EPERM;
    uint32_t archive_id = hr.hr_archive_id      ? hr.hr_archive_id
                          : hsm.archive_id != 0 ? hsm.archive_id
                                                : tunables_.default_archive_id;
    if (action == HSMA_RESTORE) {
      if (item.hui_extent.offset != 0) return -EPROTO;
      if (restore_locks_.count(item.hui_fid)) continue;  // already restoring
    }
    plan.push_back({item, archive_id, 0});
  }

  int64_t now = Unix();
  for (const Planned& p : plan) {
    Record rec;
    rec.idx = next_idx_++;
    rec.status = ARS_WAITING;
    rec.archive_id = p.archive_id;
    rec.flags = hr.hr_flags;
    rec.create = rec.change = now;
    rec.hai.hai_len = static_cast<uint32_t>(hsm::kHaiFixedSize + data.size());
    rec.hai.hai_action = action;
    rec.hai.hai_fid = p.item.hui_fid;
    rec.hai.hai_dfid = p.item.hui_fid;
    rec.hai.hai_extent = p.item.hui_extent;
    rec.hai.hai_cookie = action == HSMA_CANCEL ? p.cookie : ++last_cookie_;
    rec.hai.hai_gid = 0;
    rec.data.assign(data);
    if (action == HSMA_RESTORE) restore_locks_.insert(p.item.hui_fid);
    log_.Add(std::move(rec));
  }
  if (!plan.empty()) RequestScan();
  if (action == HSMA_RESTORE && (tunables_.policy & kPolicyNbr))
    return -ENODATA;
  return 0;
}

void Coordinator::CurrentAction(const lu_fid& fid, hsm_current_action* out) {
  *out = hsm_current_action{};
  out->hca_state = HPS_NONE;
  out->hca_action = HUA_NONE;
  const Record* rec = log_.FirstLive(fid);
  if (!rec) return;
  out->hca_state = rec->status == ARS_WAITING ? HPS_WAITING : HPS_RUNNING;
  out->hca_action = hsm::UserActionOf(rec->action());
  out->hca_location = rec->hai.hai_extent;
  if (rec->status == ARS_STARTED) {
    auto it = active_.find(rec->cookie());
    out->hca_location.length =
        it == active_.end() ? 0 : it->second.done.Total();
  }
}

// ---- Scheduling ----

void Coordinator::RequestScan(bool immediate) {
  scan_requested_ = true;
  scan_immediate_ = scan_immediate_ || immediate;
}

std::optional<common::Clock::TimePoint> Coordinator::NextDeadline() const {
  if (state_ != CdtState::kRunning) return std::nullopt;
  auto housekeeping = last_housekeeping_ + seconds(tunables_.loop_period);
  if (!scan_requested_) return housekeeping;
  auto scan = scan_immediate_
                  ? last_scan_
                  : last_scan_ + milliseconds(tunables_.min_scan_interval_ms);
  return std::min(housekeeping, scan);
}

void Coordinator::RunDue() {
  if (state_ != CdtState::kRunning) return;
  auto now = clock_->Now();
  if (now >= last_housekeeping_ + seconds(tunables_.loop_period)) {
    Scan(/*housekeeping=*/true);
  } else if (scan_requested_ &&
             (scan_immediate_ ||
              now >=
                  last_scan_ + milliseconds(tunables_.min_scan_interval_ms))) {
    Scan(/*housekeeping=*/false);
  }
}

void Coordinator::Scan(bool housekeeping) {
  auto now = clock_->Now();
  last_scan_ = now;
  scan_requested_ = scan_immediate_ = false;
  if (housekeeping) {
    last_housekeeping_ = now;
    Timeouts();
    log_.PurgeFinished(Unix(), tunables_.grace_delay);
  }
  // As Lustre's loop: a pass after an event reads only the records after
  // the last one taken (the mark), housekeeping reads the whole log; a pass
  // that cannot send puts the mark back where it started. So a request put
  // back to WAITING (a retry) goes again at the next housekeeping pass.
  const uint32_t start_mark = housekeeping ? 0 : scan_mark_;
  if (agents_.empty()) {
    scan_mark_ = start_mark;
    return;
  }
  BroadcastRemoves();
  const uint64_t max = tunables_.max_requests;
  auto active = [this] {
    return static_cast<uint64_t>(active_archive_ + active_restore_ +
                                 active_remove_);
  };
  if (active() >= max) return;

  std::vector<Batch> batches;
  uint64_t queued = 0;
  bool one_restore = false;
  const Record* over = nullptr;  // the first record past the limit
  bool send_failed = false;
  for (auto it = log_.waiting().upper_bound(start_mark);
       it != log_.waiting().end(); ++it) {
    const Record& rec = log_.records().at(*it);
    if (!AnyAgentServes(rec.archive_id)) {
      send_failed = true;  // Lustre takes it and fails to find an agent
      continue;
    }
    if (!rec.is_cancel() && queued + active() >= max) {
      over = &rec;
      break;
    }
    TakeInBatch(rec, &batches);
    scan_mark_ = std::max(scan_mark_, rec.idx);
    if (rec.is_cancel()) continue;
    ++queued;
    if (rec.action() == HSMA_RESTORE) one_restore = true;
  }
  // The restore special case (LU-8324): past the limit, one restore per scan
  // may still be queued. A plain scan stops at the first record past the
  // limit, so only that one can be it; housekeeping looks further.
  if (over && !one_restore) {
    if (over->action() == HSMA_RESTORE) {
      TakeInBatch(*over, &batches);
      scan_mark_ = std::max(scan_mark_, over->idx);
    } else if (housekeeping) {
      for (uint32_t idx : log_.waiting_restores()) {
        const Record& rec = log_.records().at(idx);
        if (idx < over->idx || !AnyAgentServes(rec.archive_id)) continue;
        TakeInBatch(rec, &batches);
        scan_mark_ = std::max(scan_mark_, idx);
        break;
      }
    }
  }
  for (const Batch& batch : batches) {
    if (active() >= max) break;
    if (!SendBatch(batch)) send_failed = true;
  }
  if (send_failed) scan_mark_ = start_mark;
}

void Coordinator::BroadcastRemoves() {
  // As Lustre's mdt_hsm_agent_send: a REMOVE with archive id 0 goes to a
  // copytool serving every archive when there is one (the normal dispatch).
  // Otherwise it is recorded again once per archive id that a registered
  // copytool serves, and the original record ends SUCCEED.
  if (AnyAgentServes(0)) return;
  std::vector<uint32_t> ids;  // in registration order, each once
  for (const Agent& a : agents_)
    for (uint32_t id : a.archives)
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  if (ids.empty()) return;
  std::vector<uint32_t> removes;
  for (uint32_t idx : log_.waiting()) {
    const Record& rec = log_.records().at(idx);
    if (rec.action() == HSMA_REMOVE && rec.archive_id == 0)
      removes.push_back(idx);
  }
  const int64_t now = Unix();
  for (uint32_t idx : removes) {
    Record* original = log_.Find(idx);
    for (uint32_t id : ids) {
      Record rec;
      rec.idx = next_idx_++;
      rec.status = ARS_WAITING;
      rec.archive_id = id;
      rec.flags = 0;
      rec.create = rec.change = now;
      rec.data = original->data;
      rec.hai = original->hai;
      rec.hai.hai_cookie = ++last_cookie_;
      log_.Add(std::move(rec));
    }
    log_.SetStatus(original, ARS_SUCCEED, now);
  }
}

void Coordinator::TakeInBatch(const Record& rec, std::vector<Batch>* batches) {
  const size_t header = hsm::kHalHeaderSize + hsm::Align8(fsname_.size() + 1);
  const size_t space = hsm::HaiSpace(rec.data.size());
  Batch* batch = nullptr;
  // The newest batch of this archive id is the only one still filling.
  for (auto it = batches->rbegin(); it != batches->rend(); ++it) {
    if (it->archive_id == rec.archive_id) {
      batch = &*it;
      break;
    }
  }
  if (!batch || batch->bytes + space > hsm::kLustreMaxHalBytes) {
    batches->push_back(Batch{rec.archive_id, header, {}});
    batch = &batches->back();
  }
  batch->bytes += space;
  batch->idxs.push_back(rec.idx);
}

bool Coordinator::Revalidate(Record* rec) {
  FileEntry* entry;
  struct stat st;
  int rc = files_->Stat(rec->hai.hai_fid, &entry, &st);
  bool ok = rc == 0 ? Compatible(rec->action(), entry->hsm.flags,
                                 rec->archive_id, entry->hsm.archive_id)
                    : rec->action() == HSMA_REMOVE;
  if (!ok) {
    log_.SetStatus(rec, ARS_FAILED, Unix());
    if (rec->action() == HSMA_RESTORE) ReleaseRestoreLock(rec->hai.hai_fid);
    return false;
  }
  if (rc == 0 && rec->action() == HSMA_ARCHIVE) {
    // EXISTS and the archive id are set at dispatch (docs/lustre.md,
    // batching, max_requests and the choice of agent).
    HsmAttrs hsm = entry->hsm;
    hsm.flags |= HS_EXISTS;
    hsm.archive_id = rec->archive_id;
    if (hsm.flags != entry->hsm.flags ||
        hsm.archive_id != entry->hsm.archive_id)
      files_->SetHsm(entry, hsm);
  }
  return true;
}

bool Coordinator::SendBatch(const Batch& batch) {
  Agent* agent = BestAgent(batch.archive_id);
  if (!agent) return false;  // records stay WAITING
  std::string uuid = agent->uuid;
  std::vector<Record*> items;
  for (uint32_t idx : batch.idxs) {
    Record* rec = log_.Find(idx);
    if (!rec || rec->status != ARS_WAITING) continue;
    if (rec->is_cancel()) {
      // A cancel goes to the agent running its target.
      auto target = active_.find(rec->cookie());
      if (target != active_.end()) uuid = target->second.agent_uuid;
    } else if (!Revalidate(rec)) {
      continue;
    }
    items.push_back(rec);
  }
  if (items.empty()) return true;
  hsm::HalBuilder hal(fsname_, batch.archive_id, items.back()->flags);
  for (const Record* rec : items) hal.Add(rec->hai, rec->data, SIZE_MAX);
  int rc = channel_ ? channel_->SendToAgent(uuid, hal.KucMessage()) : -EAGAIN;
  if (rc < 0) {
    spdlog::debug("cdt: cannot send {} items to agent {}: {}", items.size(),
                  uuid, strerror(-rc));
    if (rc == -EPIPE) UnregisterAgent(uuid);
    return false;  // the records stay WAITING and go again at the next scan
  }
  Agent* target_agent = FindAgent(uuid);
  auto now = clock_->Now();
  int64_t unix_now = Unix();
  for (Record* rec : items) {
    log_.SetStatus(rec, ARS_STARTED, unix_now);
    if (rec->is_cancel()) {
      auto target = active_.find(rec->cookie());
      if (target != active_.end() && !target->second.canceled) {
        Record* target_rec = log_.Find(target->second.idx);
        if (target_rec && target_rec->is_live())
          log_.SetStatus(target_rec, ARS_CANCELED, unix_now);
        target->second.canceled = true;
        target->second.cancel_idx = rec->idx;
      } else {
        started_cancels_[rec->idx] = now;
      }
      continue;
    }
    ActiveRequest a;
    a.cookie = rec->cookie();
    a.idx = rec->idx;
    a.action = rec->action();
    a.fid = rec->hai.hai_fid;
    a.agent_uuid = uuid;
    a.last_progress = now;
    active_order_.push_back(a.cookie);
    order_pos_[a.cookie] = std::prev(active_order_.end());
    if (a.action == HSMA_ARCHIVE) ++active_archive_;
    if (a.action == HSMA_RESTORE) ++active_restore_;
    if (a.action == HSMA_REMOVE) ++active_remove_;
    if (target_agent) ++target_agent->current;
    active_.emplace(a.cookie, std::move(a));
  }
  return true;
}

// ---- Copytool progress ----

void Coordinator::RemoveActive(uint64_t cookie) {
  auto it = active_.find(cookie);
  if (it == active_.end()) return;
  const ActiveRequest& a = it->second;
  if (a.action == HSMA_ARCHIVE) --active_archive_;
  if (a.action == HSMA_RESTORE) --active_restore_;
  if (a.action == HSMA_REMOVE) --active_remove_;
  if (Agent* agent = FindAgent(a.agent_uuid)) --agent->current;
  auto pos = order_pos_.find(cookie);
  if (pos != order_pos_.end()) {
    active_order_.erase(pos->second);
    order_pos_.erase(pos);
  }
  active_.erase(it);
}

void Coordinator::ReleaseRestoreLock(const lu_fid& fid) {
  if (restore_locks_.erase(fid) && channel_) channel_->RestoreReleased(fid);
}

int Coordinator::HandleProgress(const lu_fid& fid, uint64_t cookie,
                                const hsm_extent& extent, uint16_t flags,
                                uint16_t errval, ActiveRequest** out) {
  if (state_ == CdtState::kStopped || state_ == CdtState::kStopping)
    return -EAGAIN;
  auto it = active_.find(cookie);
  if (it == active_.end()) return -ENOENT;
  ActiveRequest& a = it->second;
  Record* rec = log_.Find(a.idx);
  if (!rec) {  // purged while a canceled request was still running
    RemoveActive(cookie);
    return -ENOENT;
  }
  // As Lustre: the request's time and copied bytes are updated before the
  // FIDs are checked, so a refused progress still keeps it from timing out.
  a.last_progress = clock_->Now();
  if (rec->is_live()) rec->change = Unix();
  if (a.action != HSMA_REMOVE && errval == 0 && extent.length != 0)
    a.done.Add(extent.offset, extent.length);
  hsm_action_item& hai = rec->hai;
  if (a.action == HSMA_RESTORE && hai.hai_dfid == hai.hai_fid &&
      !(fid == hai.hai_fid)) {
    hai.hai_dfid = fid;  // the volatile
    log_.Save(*rec);
  }
  if ((a.action == HSMA_ARCHIVE || a.action == HSMA_RESTORE) &&
      !(fid == hai.hai_fid) && !(fid == hai.hai_dfid))
    return -EINVAL;
  if (errval != 0 && !(flags & HP_FLAG_COMPLETED)) return -EINVAL;
  *out = &a;
  if (!(flags & HP_FLAG_COMPLETED)) return a.canceled ? -ECANCELED : 0;
  return 1;
}

int Coordinator::Progress(const hsm_progress& hp) {
  ActiveRequest* a;
  int rc = HandleProgress(hp.hp_fid, hp.hp_cookie, hp.hp_extent, hp.hp_flags,
                          hp.hp_errval, &a);
  if (rc != 1) return rc;
  return Complete(hp.hp_cookie, hp.hp_errval, hp.hp_flags, Completion{});
}

int Coordinator::CopyStart(const hsm_copy& copy) {
  const hsm_action_item& hai = copy.hc_hai;
  if (state_ == CdtState::kStopped || state_ == CdtState::kStopping)
    return -EAGAIN;
  auto it = active_.find(hai.hai_cookie);
  if (it == active_.end()) return -ENOENT;
  hsm_extent start{hai.hai_extent.offset, 0};
  ActiveRequest* a;
  if (it->second.action == HSMA_ARCHIVE) {
    // The kernel samples the data version at COPY_START; if it cannot, it
    // reports a retryable failure instead of the start.
    FileEntry* entry;
    struct stat st;
    if (int rc = files_->Stat(it->second.fid, &entry, &st); rc < 0) {
      uint16_t flags = HP_FLAG_COMPLETED | HP_FLAG_RETRY;
      if (HandleProgress(hai.hai_fid, hai.hai_cookie, start, flags,
                         static_cast<uint16_t>(-rc), &a) == 1)
        Complete(hai.hai_cookie, static_cast<uint32_t>(-rc), flags,
                 Completion{});
      return rc;
    }
    it->second.archive_version = DataVersion(st);
  }
  return HandleProgress(hai.hai_fid, hai.hai_cookie, start, 0, 0, &a);
}

int Coordinator::CopyEnd(const hsm_copy& copy, int volatile_fd) {
  const hsm_action_item& hai = copy.hc_hai;
  if (state_ == CdtState::kStopped || state_ == CdtState::kStopping)
    return -EAGAIN;
  auto it = active_.find(hai.hai_cookie);
  if (it == active_.end()) return -ENOENT;
  uint16_t flags = copy.hc_flags | HP_FLAG_COMPLETED;
  uint16_t errval = copy.hc_errval;
  Completion info;
  int reply = 0;
  if (errval == 0 && it->second.action == HSMA_ARCHIVE) {
    FileEntry* entry;
    struct stat st;
    if (files_->Stat(it->second.fid, &entry, &st) == 0) {
      uint64_t now = DataVersion(st);
      uint64_t sampled =
          it->second.archive_version.value_or(copy.hc_data_version);
      if (now != sampled) {
        // The file changed during the copy (docs/lustre.md, per-action
        // calls): the completion is still sent, as a failure, and the
        // caller gets -EBUSY.
        errval = EBUSY;
        flags &= ~HP_FLAG_RETRY;
        info.changed_during_archive = true;
        reply = -EBUSY;
      } else {
        info.archive_version = now;
      }
    }
  }
  if (errval == 0 && it->second.action == HSMA_RESTORE)
    info.restore_fd = volatile_fd;
  ActiveRequest* a;
  int rc = HandleProgress(hai.hai_fid, hai.hai_cookie, hai.hai_extent, flags,
                          errval, &a);
  if (rc != 1) return rc;
  rc = Complete(hai.hai_cookie, errval, flags, info);
  return reply != 0 ? reply : rc;
}

int Coordinator::Complete(uint64_t cookie, uint32_t errval, uint16_t flags,
                          const Completion& info) {
  ActiveRequest a = active_.at(cookie);
  RemoveActive(cookie);
  Record* rec = log_.Find(a.idx);
  FileEntry* entry = nullptr;
  struct stat st;
  bool exists = files_->Stat(a.fid, &entry, &st) == 0;
  int reply = 0;
  uint32_t status;
  if (errval == 0) {
    status = ARS_SUCCEED;
    if (!exists && a.action != HSMA_REMOVE) {
      status = ARS_FAILED;
    } else if (a.action == HSMA_ARCHIVE) {
      HsmAttrs hsm = entry->hsm;
      hsm.arch_ver = info.archive_version.value_or(DataVersion(st));
      hsm.flags |= HS_ARCHIVED;
      hsm.flags &= ~(HS_LOST | HS_DIRTY);
      files_->SetHsm(entry, hsm);
    } else if (a.action == HSMA_RESTORE) {
      // The layout swap: without the volatile there is nothing to swap.
      int rc = info.restore_fd >= 0
                   ? files_->CompleteRestore(a.fid, info.restore_fd)
                   : -ENOENT;
      if (rc < 0) {
        // As Lustre: a failed layout swap fails the request only under NRA;
        // otherwise the record stays SUCCEED (the file still released) and
        // only the end's answer and the changelog carry the error.
        spdlog::warn("cdt: restore of {} failed: {}", hsm::FormatFid(a.fid),
                     strerror(-rc));
        if (tunables_.policy & kPolicyNra) status = ARS_FAILED;
        reply = rc;
      }
    } else if (a.action == HSMA_REMOVE && exists) {
      HsmAttrs hsm = entry->hsm;
      hsm.flags &= ~(HS_ARCHIVED | HS_EXISTS | HS_LOST);
      files_->SetHsm(entry, hsm);
    }
  } else if (errval == ENOSYS) {
    status = ARS_FAILED;
  } else if (errval == ECANCELED) {
    status = ARS_SUCCEED;
  } else if ((tunables_.policy & kPolicyNra) || !(flags & HP_FLAG_RETRY) ||
             !exists) {
    status = ARS_FAILED;
  } else {
    status = ARS_WAITING;
  }
  // LU-19829: a failed archive leaves an archived file dirty; a file written
  // during its archive is dirty in any case.
  if (exists && a.action == HSMA_ARCHIVE && errval != 0 && errval != EALREADY &&
      (entry->hsm.flags & HS_EXISTS) && !(entry->hsm.flags & HS_DIRTY) &&
      ((entry->hsm.flags & HS_ARCHIVED) || info.changed_during_archive)) {
    HsmAttrs hsm = entry->hsm;
    hsm.flags |= HS_DIRTY;
    files_->SetHsm(entry, hsm);
  }
  if (Agent* agent = FindAgent(a.agent_uuid))
    (status == ARS_SUCCEED ? agent->ok : agent->errors)++;

  int64_t now = Unix();
  bool requeued = false;
  if (a.cancel_idx != 0) {
    // A linked cancel record takes the result; the target stays CANCELED.
    Record* cancel = log_.Find(a.cancel_idx);
    if (cancel && cancel->is_live())
      log_.SetStatus(
          cancel, status == ARS_WAITING ? uint32_t{ARS_FAILED} : status, now);
  } else if (rec && rec->is_live()) {
    // A retried request keeps its record as it is: a restore stays bound
    // to the data FID of the failed copy. In Lustre the request in memory
    // is the log record itself (its item is the record's), the binding is
    // made in it, and the end writes that whole record back to the log,
    // from which the coordinator sends it again (docs/lustre.md).
    if (status == ARS_WAITING) requeued = true;
    log_.SetStatus(rec, status, now);
  }
  if (a.action == HSMA_RESTORE && !requeued) ReleaseRestoreLock(a.fid);
  RequestScan(/*immediate=*/active_.empty());
  return reply;
}

void Coordinator::Timeouts() {
  auto now = clock_->Now();
  auto limit = seconds(tunables_.active_request_timeout);
  std::vector<uint64_t> expired;
  for (const auto& [cookie, a] : active_)
    if (now > a.last_progress + limit) expired.push_back(cookie);
  int64_t unix_now = Unix();
  for (uint64_t cookie : expired) {
    ActiveRequest a = active_.at(cookie);
    if (Agent* agent = FindAgent(a.agent_uuid)) ++agent->errors;
    RemoveActive(cookie);
    spdlog::info("cdt: request {:#x} on {} timed out", cookie,
                 hsm::FormatFid(a.fid));
    if (Record* rec = log_.Find(a.idx); rec && rec->is_live())
      log_.SetStatus(rec, ARS_CANCELED, unix_now);
    if (Record* c = log_.Find(a.cancel_idx); c && c->is_live())
      log_.SetStatus(c, ARS_CANCELED, unix_now);
    if (a.action == HSMA_RESTORE) ReleaseRestoreLock(a.fid);
  }
  for (auto it = started_cancels_.begin(); it != started_cancels_.end();) {
    if (now > it->second + limit) {
      if (Record* c = log_.Find(it->first); c && c->is_live())
        log_.SetStatus(c, ARS_CANCELED, unix_now);
      it = started_cancels_.erase(it);
      expired.push_back(0);
    } else {
      ++it;
    }
  }
  if (!expired.empty()) RequestScan();
}

// ---- Introspection and snapshots ----

void Coordinator::ForEachActive(
    const std::function<void(const ActiveRequest&, const Record&)>& fn) const {
  for (uint64_t cookie : active_order_) {
    const ActiveRequest& a = active_.at(cookie);
    auto it = log_.records().find(a.idx);
    if (it != log_.records().end()) fn(a, it->second);
  }
}

int Coordinator::ActiveCount(uint32_t action) const {
  switch (action) {
    case HSMA_ARCHIVE:
      return active_archive_;
    case HSMA_RESTORE:
      return active_restore_;
    case HSMA_REMOVE:
      return active_remove_;
    default:
      return 0;
  }
}

bool Coordinator::CompactionDue() const {
  return journal_ && journal_->NeedsCompaction(files_->size() * 96 +
                                               log_.records().size() * 192);
}

std::string Coordinator::Snapshot() const {
  std::string out;
  Counters counters{last_cookie_, next_idx_, files_->next_oid()};
  Journal::Frame(EncodeCounters(counters), &out);
  files_->ForEach(
      [&](const FileEntry& e) { Journal::Frame(EncodeFile(e), &out); });
  for (const auto& [idx, rec] : log_.records())
    Journal::Frame(EncodeRecord(rec), &out);
  return out;
}

}  // namespace sim::mdt
