#include "store/journal_index.h"

#include <cstring>

namespace store {

JournalIndex::JournalIndex() : by_key_(0, Hash{this}, Eq{this}) {}

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

JournalIndex::Entry JournalIndex::Get(Handle n) const {
  const uint64_t word = words_[n];
  if (IsApart(word)) return apart_[word & kPositionMask];
  Entry entry;
  entry.put_at = word & kPositionMask;
  entry.put_len = static_cast<uint32_t>(word >> kPositionBits);
  return entry;
}

void JournalIndex::FreeSlot(uint64_t word) {
  free_slots_.push_back(word & kPositionMask);
}

// REQUIRES: `entry` is not empty.
void JournalIndex::Store(Handle n, const Entry& entry) {
  uint64_t& word = words_[n];
  if (Packs(entry)) {
    if (IsApart(word)) FreeSlot(word);
    word = entry.put_at | (uint64_t{entry.put_len} << kPositionBits);
    return;
  }
  if (!IsApart(word)) {
    uint64_t slot;
    if (free_slots_.empty()) {
      slot = apart_.size();
      apart_.emplace_back();
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    word = kApart | slot;
  }
  apart_[word & kPositionMask] = entry;
}

JournalIndex::Handle JournalIndex::Add(const Key& key, const Entry& entry) {
  Handle n;
  if (!free_.empty()) {
    n = free_.back();
    free_.pop_back();
  } else {
    n = static_cast<Handle>(words_.size());
    words_.push_back(kFree);
    if (keyed_) keys_.emplace_back();
  }
  ++live_;
  Store(n, entry);
  if (keyed_) {
    keys_[n] = key;
    by_key_.insert(n);  // hashes the key just written
  }
  return n;
}

void JournalIndex::Set(Handle n, const Entry& entry) {
  if (!entry.empty()) return Store(n, entry);
  if (keyed_) by_key_.erase(n);
  if (IsApart(words_[n])) FreeSlot(words_[n]);
  words_[n] = kFree;
  free_.push_back(n);
  if (--live_ == 0) {
    // A drained store gives its memory back (no handle is held any more).
    const bool keyed = keyed_;
    Clear();
    if (!keyed) DropKeys();
  }
}

JournalIndex::Handle JournalIndex::Find(const Key& key) const {
  if (!keyed_) return kNone;
  auto it = by_key_.find(key);
  return it == by_key_.end() ? kNone : *it;
}

void JournalIndex::Reserve(size_t entries) {
  words_.reserve(entries);
  if (!keyed_) return;
  keys_.reserve(entries);
  by_key_.reserve(entries);
}

void JournalIndex::DropKeys() {
  keyed_ = false;
  by_key_ = decltype(by_key_)(0, Hash{this}, Eq{this});
  keys_ = std::vector<Key>();
}

void JournalIndex::Clear() {
  words_ = std::vector<uint64_t>();
  live_ = 0;
  free_ = std::vector<Handle>();
  apart_ = std::vector<Entry>();
  free_slots_ = std::vector<uint64_t>();
  keyed_ = true;
  keys_ = std::vector<Key>();
  by_key_ = decltype(by_key_)(0, Hash{this}, Eq{this});
}

}  // namespace store
