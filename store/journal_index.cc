#include "store/journal_index.h"

#include <cstring>

namespace store {

JournalIndex::JournalIndex() : index_(0, Hash{this}, Eq{this}) {}

size_t JournalIndex::Hash::operator()(const Key& key) const {
  // The cookie and the FID are spread over the three words; the set mixes
  // the result again.
  uint64_t w[3];
  std::memcpy(w, key.data(), sizeof(w));
  uint64_t h = w[0] * 0x9E3779B97F4A7C15ULL;
  h = (h ^ (h >> 29) ^ w[1]) * 0xBF58476D1CE4E5B9ULL;
  h = (h ^ (h >> 32) ^ w[2]) * 0x94D049BB133111EBULL;
  return static_cast<size_t>(h ^ (h >> 31));
}

static_assert(sizeof(JournalIndex::Key) + sizeof(uint64_t) == 32);

JournalIndex::Entry JournalIndex::Get(uint32_t n) const {
  const Record& r = At(n);
  if (r.put == kApart) return apart_.find(n)->second;
  Entry entry;
  entry.put_at = r.put & ((uint64_t{1} << kPositionBits) - 1);
  entry.put_len = static_cast<uint32_t>(r.put >> kPositionBits);
  return entry;
}

// REQUIRES: `n` is in use (Set wrote its key), and At(n).put is either set
// or was never read.
void JournalIndex::Put(uint32_t n, const Entry& entry) {
  Record& r = At(n);
  if (Packs(entry)) {
    if (r.put == kApart) apart_.erase(n);
    r.put = entry.put_at | (uint64_t{entry.put_len} << kPositionBits);
  } else {
    r.put = kApart;
    apart_[n] = entry;
  }
}

std::optional<JournalIndex::Entry> JournalIndex::Find(const Key& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return Get(*it);
}

void JournalIndex::Set(const Key& key, const Entry& entry) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    const uint32_t n = *it;
    if (entry.empty()) {
      index_.erase(it);
      if (At(n).put == kApart) apart_.erase(n);
      free_.push_back(n);
      if (index_.empty()) Clear();  // a drained store gives its memory back
    } else {
      Put(n, entry);
    }
    return;
  }
  if (entry.empty()) return;
  uint32_t n;
  if (!free_.empty()) {
    n = free_.back();
    free_.pop_back();
  } else {
    n = used_++;
    if ((n >> kBlockBits) == blocks_.size())
      blocks_.push_back(std::make_unique_for_overwrite<Record[]>(kBlock));
  }
  At(n).key = key;
  At(n).put = 0;  // a reused place may hold kApart: apart_ has no `n` now
  Put(n, entry);
  index_.insert(n);  // hashes the key just written
}

void JournalIndex::Clear() {
  index_.clear();
  apart_.clear();
  free_.clear();
  blocks_.clear();
  used_ = 0;
}

}  // namespace store
