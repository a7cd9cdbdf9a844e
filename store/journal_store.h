// JournalStore: the embedded durable store, an append-only journal file in
// a state directory, for a server that needs no database service.
//
// File: an 8-byte magic, then checksummed records (store/journal_format.h,
// docs/journal.md): Put key json, Assign key mover, Unassign key, Forget
// key. Records are idempotent, so a snapshot followed by records it already
// contains replays to the same state.
//
// Group commit: changes are encoded into a pending buffer on the event loop;
// a writer thread writes a whole batch with one write and one fdatasync
// while the loop goes on filling the next one, so at high rates the cost is
// one fdatasync per batch, not per request, and the loop never blocks on
// the disk. Sync() callbacks run when the batch holding their changes is on
// disk.
//
// Replay at Open() resynchronises: a damaged record (bad checksum, bad
// length, bad body) costs that record only; the replay goes on at the next
// valid record. Damage that no valid record follows is a torn tail (a
// write cut short by a crash): its bytes are saved to journal.tail.<time>
// and cut off. Damage in the middle: the journal as it was is kept as
// journal.damaged.<time> (a hard link, before anything is written), the
// requests named in the damaged bytes are dropped (Lustre still lists
// those that are live: the post-start requeue brings them back, and one
// that ended meanwhile stays forgotten rather than replayed), and a clean
// journal of what is left replaces it. Every loss is reported in
// *warnings with cookie and FID. Compaction: when the file exceeds both
// `min_compact_bytes` and `compact_ratio` times the size of the live state,
// the next batch is appended to the journal (unsynced), then the latest Put
// and Assign record of every live key is copied from the journal to
// journal.tmp, which is synced and renamed over the journal.
//
// Memory: the store keeps no copy of the live state, only, per live
// request, where its latest Put and Assign records are in the journal,
// found by the request's handle (Store::Handle): about 8 bytes per request
// once Load() has handed the handles to a visitor that keeps them
// (LoadVisitor::KeepsHandles()); until then, and for users that name
// requests by key alone, also a key index (about 34 bytes more per
// request; store/journal_index.h). Load() reads the values from the file.
//
// A write or sync error (disk full, I/O error, short write) makes the store
// unwritable: the batch is kept and rewritten at the same place, retried
// with backoff (100 ms doubling to 5 s); the store is writable again only
// once a retry's write and its fdatasync both succeeded. A Sync() while it
// is unwritable answers "not durable" at once. A failed compaction does not
// make the store unwritable (the batch before it is durable); compaction is
// tried again once the journal has grown further.
//
// All file and directory operations go through JournalOptions::env
// (store/env.h), so tests can inject faults.
//
// An SQLite database in WAL mode would do the same job; the journal is
// smaller, has no schema to migrate, and its group commit is explicit.
//
// Thread-safety: as Store; the writer thread touches only the file and the
// job handed to it (guarded by mu_).
#ifndef STORE_JOURNAL_STORE_H_
#define STORE_JOURNAL_STORE_H_

#include <array>
#include <boost/asio.hpp>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "store/env.h"
#include "store/journal_format.h"
#include "store/journal_index.h"
#include "store/store.h"

namespace store {

struct JournalOptions {
  std::string dir;  // created if missing
  uint64_t min_compact_bytes = 64u << 20;
  uint64_t compact_ratio = 4;
  Env* env = PosixEnv();  // file I/O; tests inject faults here
};

struct JournalStats {
  uint64_t batches = 0;      // appends, one write + one fdatasync each
  uint64_t records = 0;      // records appended
  uint64_t compactions = 0;  // snapshots written
  uint64_t file_bytes = 0;   // current journal size
  uint64_t live_bytes = 0;   // encoded size of the live state
};

class JournalStore : public Store {
 public:
  // Opens or creates `options.dir`/journal and replays it. Damage and a torn
  // tail are handled as above and reported in *warnings. Returns nullptr with
  // *error if the directory or the file cannot be used, or another process
  // holds it.
  static std::unique_ptr<JournalStore> Open(boost::asio::io_context& io,
                                            const JournalOptions& options,
                                            std::vector<std::string>* warnings,
                                            std::string* error);
  ~JournalStore() override;

  std::string Describe() const override;
  bool Load(LoadVisitor& visitor, std::string* error) override;
  Handle Put(std::string_view key, std::string_view json,
             Handle handle = kNoHandle) override;
  // The value is written straight into the pending batch.
  Handle PutWritten(std::string_view key, const ValueWriter& write,
                    Handle handle = kNoHandle) override;
  void Assign(std::string_view key, std::string_view mover,
              Handle handle = kNoHandle) override;
  void Unassign(std::string_view key, Handle handle = kNoHandle) override;
  void Forget(std::string_view key, Handle handle = kNoHandle) override;
  void Sync(SyncCallback done) override;
  bool writable() const override { return writable_; }
  void SetHealthCallback(HealthCallback callback) override {
    health_ = std::move(callback);
  }
  void Close(int timeout_ms) override;

  const JournalStats& stats() const { return stats_; }
  std::string path() const { return dir_ + "/journal"; }

 private:
  // Where the latest Put and Assign records of a key are: their position
  // in the current journal (where they are, or will be once the pending
  // and in-flight records are written) and their length, 0 for none.
  using Entry = JournalIndex::Entry;
  // A RequestKey() (48 lowercase hex digits) as 24 bytes; other keys are
  // kept as they are.
  using PackedKey = JournalIndex::Key;
  // A run of live records that lie back to back in the journal: where it
  // is once `data` is appended, where it goes in the new one, its length.
  // Sorted by `from`. A queue drained in arrival order leaves few runs, so
  // finding a record's new place is a search in a short array.
  struct Copy {
    uint64_t from;
    uint64_t to;
    uint64_t size;
  };
  struct Job {
    bool snapshot = false;
    std::string data;  // records to append to the current journal
    uint64_t records = 0;
    // Snapshot: the runs of live records, the size of the new file, and
    // the end of the current one once `data` is appended.
    std::vector<Copy> copies;
    uint64_t snapshot_bytes = 0;
    uint64_t old_end = 0;
    // Set by the writer: `data` is in the journal (written and synced);
    // the snapshot replaced the journal, or why it did not.
    bool appended = false;
    bool renamed = false;
    std::string snapshot_error;
  };

  JournalStore(boost::asio::io_context& io, JournalOptions options);
  bool OpenFiles(std::vector<std::string>* warnings, std::string* error);
  // Indexes the records of `data`, the whole journal.
  JournalScan Index(std::string_view data);
  // Middle damage: keeps the file aside, drops the damaged keys, writes a
  // clean journal. Reports in *warnings.
  bool Repair(std::string_view data, const JournalScan& scan,
              std::vector<std::string>* warnings, std::string* error);
  std::string Aside(const std::string& kind);
  bool Known(const std::string& key) const;
  Handle Append(char type, std::string_view key, const std::string_view* value,
                Handle handle);
  // The record of `type` and `key` that pending_ holds from `start` on is
  // the latest change of the request: indexes it and schedules its write.
  Handle Appended(char type, std::string_view key, size_t start, Handle handle);
  // Records that the latest record of `key` (whose entry is `handle`, or
  // kNoHandle: found by key while the index is keyed, else a new one) of
  // `type` is at `at`. Returns the entry's handle: kNoHandle once it has
  // ended, or for a key that does not pack (other_).
  Handle Apply(char type, std::string_view key, uint64_t at, uint32_t size,
               Handle handle = kNoHandle);
  template <class F>
  void ForEachEntry(F f);
  void ScheduleFlush();
  void Flush();
  void PlanSnapshot(Job* job);
  void Relocate(const Job& job);
  void OnWritten(Job job, std::string error, uint64_t file_bytes);
  void SetWritable(bool writable);
  void FireWaiting(bool durable);

  // Writer thread.
  void WriterMain();
  std::string Write(Job& job);  // "" or what failed
  std::string WriteSnapshot(Job& job);

  boost::asio::io_context& io_;
  const JournalOptions options_;
  const std::string dir_;
  Env* const env_;
  std::unique_ptr<File> lock_;
  boost::asio::steady_timer retry_timer_;

  // Event loop only.
  // Entries by handle: RequestKey()s. Keys that do not pack are few (tests
  // and tools name requests otherwise), kept by key, with kNoHandle.
  JournalIndex packed_;
  std::unordered_map<std::string, Entry> other_;
  // A change came without its handle once the index had no keys: the
  // index may be wrong about that request, and a compaction would copy
  // it so; none until a restart (replay is by key, and right).
  bool lost_track_ = false;
  // The journal's bytes as Open() replayed them, for Load(); released by
  // Load() or the first change.
  FileBytes replayed_;
  // Position in the journal where pending_ will be written.
  uint64_t base_ = 0;
  std::string pending_;
  // An empty buffer for the next batch: the one the writer last wrote
  // (Flush() swaps pending_ with it).
  std::string spare_;
  uint64_t pending_records_ = 0;
  std::vector<SyncCallback> waiting_;   // need pending_ (and the job) done
  std::vector<SyncCallback> inflight_;  // need the job in flight done
  bool busy_ = false;                   // a job is with the writer
  bool flush_posted_ = false;
  bool writable_ = true;
  bool retrying_ = false;  // unwritable, a retry of the batch is due
  bool closed_ = false;
  // No compaction until the file is this big (after a failed one).
  uint64_t compact_floor_ = 0;
  std::chrono::milliseconds backoff_{100};
  HealthCallback health_;
  JournalStats stats_;

  // Writer thread, or any thread once it has stopped.
  std::unique_ptr<File> file_;
  uint64_t offset_ = 0;
  bool dir_unsynced_ = false;  // a rename whose directory sync failed

  // Handlers posted to io_ hold it weakly: they do nothing once the store
  // is gone, even if the loop runs them later.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);

  // Shared by the loop and the writer thread.
  common::Mutex mu_;
  common::CondVar cv_;
  Job job_ GUARDED_BY(mu_);
  bool has_job_ GUARDED_BY(mu_) = false;
  bool job_running_ GUARDED_BY(mu_) = false;
  bool quit_ GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace store

#endif  // STORE_JOURNAL_STORE_H_
