// Journal: the daemon's append-only log of state changes at
// MOUNT/.lustre/state/journal, replayed at start so the state survives a
// restart or a SIGKILL.
//
// Framing: each record is [u32 payload length][u32 CRC-32 of the payload]
// [payload]. Appends are buffered and written by Flush() with one write()
// (group commit: the daemon flushes once per event-loop turn); with `sync`
// each flush is followed by fdatasync(). A torn or corrupt record ends the
// replay: it and everything after it is reported and cut off, as leveldb's
// log reader does with a truncated trailing record.
//
// Compaction: when the journal has grown well past the size of the live
// state, the owner writes a snapshot with Rewrite(), which goes to a temp file
// that is then renamed over the journal.
//
// Thread-safety: none.
#ifndef SIM_MDT_JOURNAL_H_
#define SIM_MDT_JOURNAL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace sim::mdt {

class Journal {
 public:
  struct Options {
    bool sync = false;
    // No compaction below this size.
    uint64_t compact_min_bytes = 64ULL << 20;
  };

  Journal(std::string path, Options options);
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Replays the journal (creating it if missing), calling `apply` with each
  // intact payload in order, then opens it for appending. A bad tail is
  // described in *warning (left empty otherwise) and truncated away.
  // Returns 0 or -errno.
  int Open(const std::function<void(std::string_view)>& apply,
           std::string* warning);

  // Buffers one record.
  void Append(std::string_view payload);
  // Writes the buffered records. Returns 0 or -errno (the buffer is kept).
  int Flush();
  bool dirty() const { return !buffer_.empty(); }

  // Whether the journal is large relative to `live_bytes`, the size of a
  // snapshot of the current state.
  bool NeedsCompaction(uint64_t live_bytes) const {
    return size_ >= options_.compact_min_bytes && size_ > 4 * live_bytes;
  }
  // Replaces the journal by `framed` (records built with Frame()); drops
  // anything buffered, which the snapshot must include. Returns 0 or -errno.
  int Rewrite(const std::string& framed);

  uint64_t size() const { return size_ + buffer_.size(); }
  const std::string& path() const { return path_; }

  // Appends one framed record to *out.
  static void Frame(std::string_view payload, std::string* out);

 private:
  std::string path_;
  Options options_;
  common::UniqueFd fd_;
  std::string buffer_;
  uint64_t size_ = 0;  // bytes on disk
};

}  // namespace sim::mdt

#endif  // SIM_MDT_JOURNAL_H_
