#include "sim/mdt/request_log.h"

#include <algorithm>

#include "sim/mdt/journal.h"
#include "sim/mdt/state_codec.h"

namespace sim::mdt {

Record* RequestLog::Find(uint32_t idx) {
  auto it = records_.find(idx);
  return it == records_.end() ? nullptr : &it->second;
}

void RequestLog::Index(const Record& rec) {
  if (rec.status == ARS_WAITING) {
    waiting_.insert(rec.idx);
    if (rec.action() == HSMA_RESTORE) waiting_restores_.insert(rec.idx);
  }
  if (rec.is_live() && !rec.is_cancel()) {
    auto& v = live_[rec.hai.hai_fid];
    v.insert(std::upper_bound(v.begin(), v.end(), rec.idx), rec.idx);
  }
  if (rec.is_final()) finished_.emplace_back(rec.change, rec.idx);
}

void RequestLog::Unindex(const Record& rec) {
  waiting_.erase(rec.idx);
  waiting_restores_.erase(rec.idx);
  if (!rec.is_cancel()) {
    auto it = live_.find(rec.hai.hai_fid);
    if (it != live_.end()) {
      auto& v = it->second;
      v.erase(std::remove(v.begin(), v.end(), rec.idx), v.end());
      if (v.empty()) live_.erase(it);
    }
  }
  // finished_ entries are checked lazily by PurgeFinished.
}

Record* RequestLog::Add(Record rec) {
  uint32_t idx = rec.idx;
  Record& stored = records_[idx] = std::move(rec);
  Index(stored);
  Save(stored);
  return &stored;
}

void RequestLog::SetStatus(Record* rec, uint32_t status, int64_t now) {
  Unindex(*rec);
  rec->status = status;
  rec->change = now;
  Index(*rec);
  Save(*rec);
}

void RequestLog::Save(const Record& rec) {
  if (journal_) journal_->Append(EncodeRecord(rec));
}

void RequestLog::Erase(uint32_t idx) {
  auto it = records_.find(idx);
  if (it == records_.end()) return;
  Unindex(it->second);
  records_.erase(it);
  if (journal_) journal_->Append(EncodeRecordDrop(idx));
}

size_t RequestLog::PurgeFinished(int64_t now, uint32_t grace) {
  size_t purged = 0;
  while (!finished_.empty() &&
         finished_.front().first + static_cast<int64_t>(grace) < now) {
    auto [change, idx] = finished_.front();
    finished_.pop_front();
    Record* rec = Find(idx);
    // Stale entry: the record was deleted or finished again later.
    if (!rec || !rec->is_final() || rec->change != change) continue;
    Erase(idx);
    ++purged;
  }
  return purged;
}

Record* RequestLog::FirstLive(const lu_fid& fid) {
  auto it = live_.find(fid);
  if (it == live_.end() || it->second.empty()) return nullptr;
  return Find(it->second.front());
}

uint64_t RequestLog::MaxCookie() const {
  uint64_t max = 0;
  for (const auto& [idx, rec] : records_) max = std::max(max, rec.cookie());
  return max;
}

void RequestLog::RebuildIndexes() {
  waiting_.clear();
  waiting_restores_.clear();
  live_.clear();
  finished_.clear();
  std::vector<std::pair<int64_t, uint32_t>> finished;
  for (const auto& [idx, rec] : records_) {
    if (rec.is_final())
      finished.emplace_back(rec.change, idx);
    else
      Index(rec);
  }
  std::sort(finished.begin(), finished.end());
  finished_.assign(finished.begin(), finished.end());
}

}  // namespace sim::mdt
