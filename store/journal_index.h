// JournalIndex: where the latest Put and Assign records of each live
// request are in the journal. The only per-request memory the embedded
// store keeps: the values, and the keys, stay in the file.
//
// Each live request has an entry number, its handle (Store::Handle): the
// store hands it out at Put and Load, the server keeps it with the request
// and gives it back with each later change, so the index needs no key to
// find the entry. Entries sit in a dense vector of one 64-bit word each: the
// Put record's position (40 bits: journals up to 1 TiB) and length (24
// bits); a forgotten entry's number is reused. Most requests are never
// assigned (they wait, or run for a short time): an entry with an Assign
// record, or whose Put does not fit the word, keeps its whole Entry apart,
// in a slot of a dense vector of the few such, whose number its word holds
// (slots are reused last freed first, so the ones in use stay few and in
// the cache: a hash map of them missed the cache at each change while a
// million requests drained). About 8 bytes per live request (against 42
// with the 24-byte key in each entry and a hash set over the keys).
//
// Keys: while the journal is replayed, and for as long as its user names
// requests by key alone (tests, tools), a key index maps each RequestKey()
// (48 hex digits packed into 24 bytes) to its handle. DropKeys() frees it
// once the user gives handles back: from then on a request is found by
// handle only, and Find() finds nothing.
//
// Thread-safety: none (the store's event loop).
#ifndef STORE_JOURNAL_INDEX_H_
#define STORE_JOURNAL_INDEX_H_

#include <array>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstdint>
#include <vector>

namespace store {

class JournalIndex {
 public:
  using Key = std::array<unsigned char, 24>;
  using Handle = uint32_t;
  static constexpr Handle kNone = ~Handle{0};
  // Positions and lengths of a request's latest Put and Assign records; a
  // length of 0: none.
  struct Entry {
    uint64_t put_at = 0;
    uint64_t assign_at = 0;
    uint32_t put_len = 0;
    uint32_t assign_len = 0;
    bool empty() const { return put_len == 0 && assign_len == 0; }
    bool operator==(const Entry&) const = default;
  };

  JournalIndex();
  JournalIndex(const JournalIndex&) = delete;
  JournalIndex& operator=(const JournalIndex&) = delete;

  // A new entry for `entry` (not empty), with its key while keyed().
  // REQUIRES: keyed() implies no entry has `key`.
  Handle Add(const Key& key, const Entry& entry);
  // Whether `handle` names a live entry.
  bool Live(Handle handle) const {
    return handle < words_.size() && words_[handle] != kFree;
  }
  // REQUIRES: Live(handle).
  Entry Get(Handle handle) const;
  // Replaces the entry; an empty one ends it (its handle is free for
  // reuse). REQUIRES: Live(handle).
  void Set(Handle handle, const Entry& entry);
  size_t size() const { return live_; }
  // Room for `entries` live entries (with their keys while keyed()): a
  // replay sized from the journal grows nothing on the way.
  void Reserve(size_t entries);
  // Slots for entries kept apart, in use or free: at most as many as were
  // ever apart at once.
  size_t apart_slots() const { return apart_.size(); }
  // Forgets every entry; keyed() again.
  void Clear();

  // Whether the key index is kept.
  bool keyed() const { return keyed_; }
  // Frees the key index for good (until Clear()).
  void DropKeys();
  // The handle of `key`'s entry; kNone if it has none, or !keyed().
  Handle Find(const Key& key) const;

  // f(Handle, const Entry&) for every live entry, in handle order.
  template <class F>
  void ForEach(F f) const {
    for (Handle n = 0; n < words_.size(); ++n)
      if (words_[n] != kFree) f(n, Get(n));
  }
  // f(Entry&) for every live entry, which may change the positions (not
  // the lengths: a compaction moves records, it does not drop them). The
  // handles stay.
  template <class F>
  void MovePositions(F f) {
    for (Handle n = 0; n < words_.size(); ++n) {
      if (words_[n] == kFree) continue;
      Entry entry = Get(n);
      f(entry);
      Store(n, entry);
    }
  }

 private:
  // A word: kFree; kApart and a slot of apart_ in the low 40 bits (the
  // entry is there); or the Put's position (low 40 bits) and length (high
  // 24 bits, never 0 nor all ones), and no Assign.
  static constexpr uint64_t kFree = 0;
  static constexpr int kPositionBits = 40;
  static constexpr uint64_t kPositionMask = (uint64_t{1} << kPositionBits) - 1;
  static constexpr uint64_t kApart = ~kPositionMask;
  static bool IsApart(uint64_t word) { return (word & kApart) == kApart; }
  // Whether `entry` is kept in its word alone.
  static bool Packs(const Entry& entry) {
    return entry.assign_len == 0 && entry.put_len != 0 &&
           entry.put_at < (uint64_t{1} << kPositionBits) &&
           entry.put_len < (uint32_t{1} << (64 - kPositionBits)) - 1;
  }
  void Store(Handle n, const Entry& entry);
  // Frees the slot of apart_ that `word` names.
  void FreeSlot(uint64_t word);

  struct Hash {
    using is_transparent = void;
    const JournalIndex* index;
    size_t operator()(const Key& key) const;
    size_t operator()(Handle n) const { return (*this)(index->keys_[n]); }
  };
  struct Eq {
    using is_transparent = void;
    const JournalIndex* index;
    const Key& KeyOf(const Key& key) const { return key; }
    const Key& KeyOf(Handle n) const { return index->keys_[n]; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return KeyOf(a) == KeyOf(b);
    }
  };

  std::vector<uint64_t> words_;  // by handle
  size_t live_ = 0;
  std::vector<Handle> free_;  // handles of ended entries, for reuse
  // Entries with an Assign record, or a Put that a word cannot hold, by
  // slot; the free slots.
  std::vector<Entry> apart_;
  std::vector<uint64_t> free_slots_;
  // The key index: keys by handle, and a set of handles by key.
  bool keyed_ = true;
  std::vector<Key> keys_;
  boost::unordered_flat_set<Handle, Hash, Eq> by_key_;
};

}  // namespace store

#endif  // STORE_JOURNAL_INDEX_H_
