// RequestLog: the coordinator's action log (Lustre's HSM_ACTIONS llog) with
// the indexes that keep every per-request operation O(log n):
//  * records by llog index, in log order (hsm/actions lists them);
//  * the WAITING records in log order (the dispatch FIFO), and the WAITING
//    restores apart (the restore special case of max_requests: docs/lustre.md,
//    batching, max_requests and the choice of agent);
//  * the live (WAITING/STARTED) non-cancel records of each FID (cancel
//    matching, hsm_current_action);
//  * finished records in the order they finished, so the grace-delay purge
//    never walks the live ones.
// Every change is appended to the journal (if any).
//
// Thread-safety: none.
#ifndef SIM_MDT_REQUEST_LOG_H_
#define SIM_MDT_REQUEST_LOG_H_

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hsm/fid.h"
#include "sim/mdt/file_table.h"
#include "sim/mdt/request.h"

namespace sim::mdt {

class Journal;

class RequestLog {
 public:
  explicit RequestLog(Journal* journal) : journal_(journal) {}
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  Record* Find(uint32_t idx);
  // Appends a new record; rec.idx must be unused.
  Record* Add(Record rec);
  // Moves `rec` to `status` at Unix time `now` and journals it.
  void SetStatus(Record* rec, uint32_t status, int64_t now);
  // Journals `rec` after an in-place change that is not a status change.
  void Save(const Record& rec);
  // Deletes finished records whose change + grace < now; returns how many.
  size_t PurgeFinished(int64_t now, uint32_t grace);

  // The first live non-cancel record of `fid` in log order, or null.
  Record* FirstLive(const lu_fid& fid);

  const std::set<uint32_t>& waiting() const { return waiting_; }
  const std::set<uint32_t>& waiting_restores() const {
    return waiting_restores_;
  }
  const std::map<uint32_t, Record>& records() const { return records_; }
  std::map<uint32_t, Record>& mutable_records() { return records_; }
  uint64_t MaxCookie() const;
  uint32_t MaxIdx() const {
    return records_.empty() ? 0 : records_.rbegin()->first;
  }

  // Replay: Load/Drop change the records only; RebuildIndexes() then
  // indexes them all.
  void Load(const Record& rec) { records_[rec.idx] = rec; }
  void Drop(uint32_t idx) { records_.erase(idx); }
  void RebuildIndexes();

 private:
  void Index(const Record& rec);
  void Unindex(const Record& rec);
  void Erase(uint32_t idx);

  Journal* journal_;
  std::map<uint32_t, Record> records_;
  std::set<uint32_t> waiting_;
  std::set<uint32_t> waiting_restores_;
  std::unordered_map<lu_fid, std::vector<uint32_t>, hsm::FidHash, FidEq> live_;
  std::deque<std::pair<int64_t, uint32_t>> finished_;  // (change, idx)
};

}  // namespace sim::mdt

#endif  // SIM_MDT_REQUEST_LOG_H_
