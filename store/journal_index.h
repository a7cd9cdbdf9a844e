// JournalIndex: where the latest Put and Assign records of each live
// request are in the journal, by request key (RequestKey(): 48 hex digits
// packed into 24 bytes). The only per-request memory the embedded store
// keeps: the values stay in the file.
//
// Dense: the entries sit in blocks of 4,096, a forgotten entry's place is
// reused, and a hash set of 4-byte entry numbers finds them by key (the key
// is read through the entry, not stored twice). Each entry is the key and
// one 64-bit word: the Put record's position (40 bits: journals up to 1
// TiB) and length (24 bits). Most requests are never assigned (they wait,
// or run for a short time): an entry with an Assign record, or whose Put
// does not fit the word, keeps its whole Entry apart, in a map of the few
// such. About 42 bytes per live request, against 72 for a node-based map
// of key to entry.
//
// Thread-safety: none (the store's event loop).
#ifndef STORE_JOURNAL_INDEX_H_
#define STORE_JOURNAL_INDEX_H_

#include <array>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace store {

class JournalIndex {
 public:
  using Key = std::array<unsigned char, 24>;
  // Positions and lengths of a key's latest Put and Assign records; a
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

  std::optional<Entry> Find(const Key& key) const;
  bool Contains(const Key& key) const { return index_.contains(key); }
  // Inserts or replaces; an empty entry erases the key.
  void Set(const Key& key, const Entry& entry);
  size_t size() const { return index_.size(); }
  void Clear();

  // f(const Key&, const Entry&) for every key, in no particular order.
  template <class F>
  void ForEach(F f) const {
    for (uint32_t n : index_) f(At(n).key, Get(n));
  }
  // f(Entry&) for every key, which may change the positions (not the
  // lengths: a compaction moves records, it does not drop them).
  template <class F>
  void MovePositions(F f) {
    for (uint32_t n : index_) {
      Entry entry = Get(n);
      f(entry);
      Put(n, entry);
    }
  }

 private:
  struct Record {
    Key key;
    // kApart: the entry is in apart_. Else the Put's position (low 40
    // bits) and length (high 24 bits), and no Assign.
    uint64_t put;
  };
  static constexpr uint64_t kApart = ~uint64_t{0};
  static constexpr int kPositionBits = 40;
  // Whether `entry` is kept in Record::put alone.
  static bool Packs(const Entry& entry) {
    return entry.assign_len == 0 &&
           entry.put_at < (uint64_t{1} << kPositionBits) &&
           entry.put_len < (uint32_t{1} << (64 - kPositionBits)) - 1;
  }
  static constexpr uint32_t kBlockBits = 12;
  static constexpr uint32_t kBlock = 1u << kBlockBits;

  Record& At(uint32_t n) const {
    return blocks_[n >> kBlockBits][n & (kBlock - 1)];
  }
  Entry Get(uint32_t n) const;
  void Put(uint32_t n, const Entry& entry);

  struct Hash {
    using is_transparent = void;
    const JournalIndex* index;
    size_t operator()(const Key& key) const;
    size_t operator()(uint32_t n) const { return (*this)(index->At(n).key); }
  };
  struct Eq {
    using is_transparent = void;
    const JournalIndex* index;
    const Key& KeyOf(const Key& key) const { return key; }
    const Key& KeyOf(uint32_t n) const { return index->At(n).key; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return KeyOf(a) == KeyOf(b);
    }
  };

  std::vector<std::unique_ptr<Record[]>> blocks_;
  uint32_t used_ = 0;           // entry numbers handed out so far
  std::vector<uint32_t> free_;  // numbers of erased entries, for reuse
  boost::unordered_flat_set<uint32_t, Hash, Eq> index_;
  // Entries with an Assign record, or a Put that Record::put cannot hold.
  boost::unordered_flat_map<uint32_t, Entry> apart_;
};

}  // namespace store

#endif  // STORE_JOURNAL_INDEX_H_
