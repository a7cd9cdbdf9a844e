#include "store/journal_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace store {

namespace {

constexpr std::string_view kMagic = kJournalMagic;
constexpr size_t kRecordHeader = kJournalRecordHeader;
// A written batch's buffer is kept for the next one up to this size: the
// batches of a busy loop, not the odd huge one (a queue of 100,000
// requests), whose memory would then stay held.
constexpr size_t kSpareBufferBytes = 1u << 20;

std::string Error(const std::string& what, int error) {
  return fmt::format("{}: {}", what, strerror(error));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <class Key>
bool Pack(std::string_view key, Key* packed) {
  if (key.size() != 2 * packed->size()) return false;
  for (size_t i = 0; i < packed->size(); ++i) {
    int hi = HexDigit(key[2 * i]), lo = HexDigit(key[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*packed)[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

// The key and value of the Put or Assign record `record`, a record the
// replay found valid.
std::pair<std::string_view, std::string_view> RecordKeyValue(
    std::string_view record) {
  auto skip_string = [](std::string_view* in) {
    if (in->size() < 4) return std::string_view();
    const auto* u = reinterpret_cast<const unsigned char*>(in->data());
    uint32_t n = uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 |
                 uint32_t{u[3]} << 24;
    if (in->size() - 4 < n) return std::string_view();
    std::string_view s = in->substr(4, n);
    in->remove_prefix(4 + n);
    return s;
  };
  if (record.size() < kRecordHeader + 1) return {};
  std::string_view rest = record.substr(kRecordHeader + 1);
  std::string_view key = skip_string(&rest);
  return {key, skip_string(&rest)};
}

}  // namespace

template <class F>
void JournalStore::ForEachEntry(F f) {
  packed_.ForEach([&](Handle handle, const Entry& entry) { f(entry, handle); });
  for (auto& [key, entry] : other_) f(entry, kNoHandle);
}

JournalStore::JournalStore(boost::asio::io_context& io, JournalOptions options)
    : io_(io),
      options_(std::move(options)),
      dir_(options_.dir),
      env_(options_.env ? options_.env : PosixEnv()),
      retry_timer_(io) {}

std::unique_ptr<JournalStore> JournalStore::Open(
    boost::asio::io_context& io, const JournalOptions& options,
    std::vector<std::string>* warnings, std::string* error) {
  std::unique_ptr<JournalStore> store(new JournalStore(io, options));
  if (!store->OpenFiles(warnings, error)) return nullptr;
  store->writer_ = std::thread([s = store.get()] { s->WriterMain(); });
  return store;
}

JournalScan JournalStore::Index(std::string_view data) {
  packed_.Clear();
  other_.clear();
  stats_.live_bytes = 0;
  // Sized once from a walk over the record headers (a few milliseconds
  // for a 400 MB journal) rather than doubled, and rehashed, about 20
  // times on the way.
  packed_.Reserve(EstimateLiveRequests(data));
  return ScanJournal(data, [&](const JournalRecord& r, size_t at, size_t size) {
    Apply(r.type, r.key, at, static_cast<uint32_t>(size));
  });
}

std::string JournalStore::Aside(const std::string& kind) {
  // journal.<kind>.<unix seconds>[.n]: never over an earlier one.
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::string base = fmt::format("{}/journal.{}.{}", dir_, kind, now);
  std::string name = base;
  for (int n = 1; n < 1000; ++n) {
    std::unique_ptr<File> probe;
    if (env_->Open(name, Env::Mode::kReadOnly, &probe) == ENOENT) break;
    name = fmt::format("{}.{}", base, n);
  }
  return name;
}

bool JournalStore::OpenFiles(std::vector<std::string>* warnings,
                             std::string* error) {
  if (int e = env_->MakeDirs(dir_)) {
    *error = Error("cannot create " + dir_, e);
    return false;
  }
  std::string lock_path = dir_ + "/lock";
  if (int e = env_->Lock(lock_path, &lock_)) {
    *error = e == EWOULDBLOCK
                 ? fmt::format("{} is in use by another coordinatool", dir_)
                 : Error("cannot lock " + lock_path, e);
    return false;
  }
  std::string file = path();
  if (int e = env_->Open(file, Env::Mode::kReadWrite, &file_)) {
    *error = Error("cannot open " + file, e);
    return false;
  }
  // Mapped, not copied, where the file allows (store/env.h): a journal of
  // a million requests is 400 MB, read at each start.
  FileBytes bytes;
  if (int e = ReadWhole(*file_, &bytes)) {
    *error = Error("cannot read " + file, e);
    return false;
  }
  const std::string_view data = bytes.view();
  JournalScan scan = Index(data);
  uint64_t end = scan.end;
  if (!scan.header) {
    // Empty or headerless: start afresh, the bytes kept aside.
    if (!data.empty()) {
      std::string aside = Aside("damaged");
      if (int e = env_->Link(file, aside)) {
        *error = Error("cannot keep " + file + " aside as " + aside, e);
        return false;
      }
      warnings->push_back(fmt::format(
          "journal {}: {} bytes without a valid header; kept as {}, starting "
          "an empty journal: requeue what Lustre lists as active "
          "(hsm.active_requests into coordinatool-client -Q)",
          file, data.size(), aside));
      if (int e = env_->Open(file + ".tmp", Env::Mode::kTruncate, &file_);
          e || (e = env_->Rename(file + ".tmp", file))) {
        *error = Error("cannot initialise " + file, e);
        return false;
      }
    }
    int e = WriteFully(*file_, 0, kMagic);
    if (!e) e = file_->Sync();
    if (!e) e = env_->SyncDir(dir_);
    if (e) {
      *error = Error("cannot initialise " + file, e);
      return false;
    }
    end = kMagic.size();
  } else if (!scan.damage.empty()) {
    if (!Repair(data, scan, warnings, error)) return false;
    end = offset_;
  } else if (end < data.size()) {
    // A torn tail: the bytes are saved, then cut.
    std::string aside = Aside("tail");
    std::unique_ptr<File> saved;
    int e = env_->Open(aside, Env::Mode::kTruncate, &saved);
    if (!e) e = WriteFully(*saved, 0, std::string_view(data).substr(end));
    if (!e) e = saved->Sync();
    if (e)
      warnings->push_back(Error("journal " + file +
                                    ": cannot save the torn "
                                    "tail to " +
                                    aside,
                                e));
    warnings->push_back(fmt::format(
        "journal {}: torn tail at offset {} ({}): {} bytes cut off{}", file,
        end, scan.tail_why, data.size() - end, e ? "" : ", saved as " + aside));
    // Requests named in the tail: Lustre is the truth for them (see
    // Repair()); forgotten here, after the cut.
    std::string forgets, names;
    for (const std::string& key : scan.tail_keys) {
      if (!Known(key)) continue;
      size_t at = forgets.size();
      EncodeJournalRecord(&forgets, 'F', key, nullptr);
      Apply('F', key, end + at, static_cast<uint32_t>(forgets.size() - at));
      names += (names.empty() ? "" : ", ") + DescribeRequestKey(key);
    }
    e = file_->Truncate(end);
    if (!e) e = WriteFully(*file_, end, forgets);
    if (!e) e = file_->Sync();
    if (e) {
      *error = Error("cannot cut the tail of " + file, e);
      return false;
    }
    end += forgets.size();
    if (!names.empty())
      warnings->push_back(fmt::format(
          "journal {}: requests named in the torn tail dropped: {}; requeue "
          "what Lustre lists as active (hsm.active_requests into "
          "coordinatool-client -Q, as the systemd unit does after start)",
          file, names));
  }
  offset_ = end;
  base_ = end;
  stats_.file_bytes = end;
  // Load() reads the values from these bytes rather than from the file
  // again (the repaired journal's, if Repair() wrote one).
  if (scan.header && replayed_.empty()) replayed_ = std::move(bytes);
  return true;
}

bool JournalStore::Repair(std::string_view data, const JournalScan& scan,
                          std::vector<std::string>* warnings,
                          std::string* error) {
  std::string file = path();
  // The file as it was, before anything is written.
  std::string aside = Aside("damaged");
  int e = env_->Link(file, aside);
  if (!e) e = env_->SyncDir(dir_);
  if (e) {
    *error = Error(
        "journal " + file + " is damaged and cannot be kept aside as " + aside,
        e);
    return false;
  }
  size_t named = 0, unnamed = 0;
  for (const JournalDamage& damage : scan.damage) {
    std::string names;
    for (const std::string& key : damage.keys) {
      // Lustre is the truth for these: a live one is requeued from its
      // active list, one that ended stays forgotten (never replayed).
      Apply('F', key, 0, 0);
      names += (names.empty() ? "" : ", ") + DescribeRequestKey(key);
    }
    named += damage.keys.size();
    if (damage.keys.empty()) ++unnamed;
    warnings->push_back(fmt::format(
        "journal {}: damaged bytes at offset {} ({} bytes, {}) skipped; {}",
        file, damage.offset, damage.length, damage.why,
        damage.keys.empty()
            ? std::string("no request key readable in them")
            : "requests dropped, their records may be lost: " + names));
  }
  if (!scan.tail_why.empty()) {
    std::string names;
    for (const std::string& key : scan.tail_keys) {
      Apply('F', key, 0, 0);
      names += (names.empty() ? "" : ", ") + DescribeRequestKey(key);
    }
    named += scan.tail_keys.size();
    warnings->push_back(fmt::format(
        "journal {}: torn tail at offset {} ({}): {} bytes dropped{}", file,
        scan.end, scan.tail_why, data.size() - scan.end,
        names.empty() ? "" : "; requests dropped: " + names));
  }
  // A clean journal of what is left: the live records, in journal order.
  std::vector<std::pair<uint64_t, uint32_t>> live;
  ForEachEntry([&](const Entry& entry, Handle) {
    if (entry.put_len) live.emplace_back(entry.put_at, entry.put_len);
    if (entry.assign_len) live.emplace_back(entry.assign_at, entry.assign_len);
  });
  std::sort(live.begin(), live.end());
  std::string clean(kMagic);
  for (const auto& [at, size] : live) clean.append(data.substr(at, size));
  std::string tmp = file + ".tmp";
  std::unique_ptr<File> out;
  e = env_->Open(tmp, Env::Mode::kTruncate, &out);
  if (!e) e = WriteFully(*out, 0, clean);
  if (!e) e = out->Sync();
  if (!e) e = env_->Rename(tmp, file);
  if (!e) e = env_->SyncDir(dir_);
  if (e) {
    *error = Error("cannot write a repaired journal " + file, e);
    return false;
  }
  file_ = std::move(out);
  Index(clean);
  offset_ = clean.size();
  replayed_ = std::move(clean);
  warnings->push_back(fmt::format(
      "journal {}: {} damaged places, {} requests dropped{}; the journal as "
      "it was is kept as {}. Lustre still holds every live request: requeue "
      "what it lists as active (hsm.active_requests into coordinatool-client "
      "-Q, as the systemd unit does after start); one that ended meanwhile "
      "stays forgotten.{}",
      file, scan.damage.size(), named,
      unnamed ? fmt::format(", {} places with no readable key", unnamed) : "",
      aside,
      unnamed ? " Where no key was readable, a request that had ended may "
                "be listed again: check those against Lustre."
              : ""));
  return true;
}

bool JournalStore::Known(const std::string& key) const {
  PackedKey packed;
  return Pack(key, &packed) ? packed_.Find(packed) != kNoHandle
                            : other_.contains(key);
}

JournalStore::~JournalStore() { Close(10'000); }

std::string JournalStore::Describe() const {
  return fmt::format("journal {}", path());
}

bool JournalStore::Load(LoadVisitor& visitor, std::string* error) {
  // Only before the first change: the writer has had no job, the file is
  // all there is, and it is still in memory after Open() unless Load() ran
  // before.
  FileBytes data = std::move(replayed_);
  if (data.size() < base_) {
    std::string text(base_, '\0');
    if (int e = ReadFully(*file_, 0, text.data(), text.size())) {
      *error = Error("cannot read " + path(), e);
      return false;
    }
    data = std::move(text);
  }
  // The live records in journal order, which is arrival order (a
  // compaction keeps it): the file is read front to back, not in the
  // index's hash order, and the server need not sort what it recovers.
  // Each record names its key: the one Apply() packed, as it was given.
  struct Span {
    uint64_t at;
    uint32_t size;
    Handle handle;
    bool operator<(const Span& other) const { return at < other.at; }
  };
  std::vector<Span> puts, assigns;
  puts.reserve(packed_.size() + other_.size());
  ForEachEntry([&](const Entry& entry, Handle handle) {
    if (entry.put_len) puts.push_back({entry.put_at, entry.put_len, handle});
    if (entry.assign_len)
      assigns.push_back({entry.assign_at, entry.assign_len, handle});
  });
  std::sort(puts.begin(), puts.end());
  std::sort(assigns.begin(), assigns.end());
  const std::string_view bytes = data.view();
  // The assignments (few: the work movers had in hand) copied first, so
  // that the requests' pass can give back the journal's pages behind it.
  struct Assignment {
    std::string key, mover;
    Handle handle;
  };
  std::vector<Assignment> assignments;
  assignments.reserve(assigns.size());
  for (const Span& assign : assigns) {
    const auto [key, value] =
        RecordKeyValue(bytes.substr(assign.at, assign.size));
    assignments.push_back(
        {std::string(key), std::string(value), assign.handle});
  }
  assigns = std::vector<Span>();
  visitor.ExpectRequests(puts.size());
  // Front to back: what is behind is not read again. A mapped journal's
  // pages go back in steps, so that it and the requests recovered from it
  // are not both whole in memory at the peak.
  constexpr uint64_t kReleaseStep = 32u << 20;
  uint64_t released = 0;
  for (const Span& put : puts) {
    if (put.at - released >= kReleaseStep) {
      data.Release(released, put.at);
      released = put.at;
    }
    const auto [key, value] = RecordKeyValue(bytes.substr(put.at, put.size));
    visitor.OnRequest(key, value, put.handle);
  }
  data = FileBytes();
  for (const Assignment& assignment : assignments)
    visitor.OnAssignment(assignment.key, assignment.mover, assignment.handle);
  // The visitor names every request by its handle from now on: the keys
  // the replay indexed are not needed any more.
  if (visitor.KeepsHandles()) packed_.DropKeys();
  return true;
}

Handle JournalStore::Apply(char type, std::string_view key, uint64_t at,
                           uint32_t size, Handle handle) {
  // A live handle finds the entry: no key to decode (a handle is only
  // ever given out for a key that packs). Else the key decides: the
  // replay applies every record of the journal, and a string is built
  // only for the rare keys that do not pack.
  PackedKey packed;
  bool is_packed = true;
  std::optional<Entry> before;
  if (handle != kNoHandle && packed_.Live(handle)) {
    before = packed_.Get(handle);
  } else if ((is_packed = Pack(key, &packed))) {
    if (handle != kNoHandle) {
      // Not a handle this store gave out for a live request: a caller's
      // mistake; the key decides, if it still can.
      spdlog::error("store: journal {}: request {} given handle {}, not live",
                    path(), key, handle);
    }
    handle = packed_.Find(packed);
    if (handle != kNoHandle) before = packed_.Get(handle);
  } else if (auto it = other_.find(std::string(key)); it != other_.end()) {
    before = it->second;
  }
  Entry after = before.value_or(Entry{});
  stats_.live_bytes -= after.put_len + after.assign_len;
  if (type == 'P') {
    after.put_at = at;
    after.put_len = size;
  } else if (type == 'A') {
    after.assign_at = at;
    after.assign_len = size;
  } else if (type == 'U') {
    after.assign_at = 0;
    after.assign_len = 0;
  } else if (type == 'F') {
    after = Entry{};
  }
  stats_.live_bytes += after.put_len + after.assign_len;
  if (is_packed) {
    if (handle != kNoHandle) {
      packed_.Set(handle, after);  // an empty entry ends it
      return after.empty() ? kNoHandle : handle;
    }
    if (!after.empty() && (type == 'P' || packed_.keyed()))
      return packed_.Add(packed, after);
    if (type != 'P' && !packed_.keyed() && !lost_track_) {
      // A change without handle, and no key index to find the request
      // by: the record is in the journal (a replay applies it), but the
      // index may hold an entry it ends or changes. Compacting would
      // copy that entry as it is: no compaction from now on.
      lost_track_ = true;
      spdlog::error(
          "store: journal {}: a change of request {} came without its "
          "handle; the journal is no longer compacted until a restart",
          path(), key);
    }
    return kNoHandle;
  }
  if (after.empty()) {
    if (before) other_.erase(std::string(key));
  } else {
    other_[std::string(key)] = after;
  }
  return kNoHandle;
}

Handle JournalStore::Append(char type, std::string_view key,
                            const std::string_view* value, Handle handle) {
  if (closed_) return handle;
  if (!replayed_.empty()) replayed_ = std::string();  // no Load() any more
  size_t start = pending_.size();
  EncodeJournalRecord(&pending_, type, key, value);
  return Appended(type, key, start, handle);
}

Handle JournalStore::Appended(char type, std::string_view key, size_t start,
                              Handle handle) {
  handle = Apply(type, key, base_ + start,
                 static_cast<uint32_t>(pending_.size() - start), handle);
  ++pending_records_;
  ScheduleFlush();
  return handle;
}

Handle JournalStore::Put(std::string_view key, std::string_view json,
                         Handle handle) {
  return Append('P', key, &json, handle);
}

Handle JournalStore::PutWritten(std::string_view key, const ValueWriter& write,
                                Handle handle) {
  if (closed_) return handle;
  if (!replayed_.empty()) replayed_ = std::string();  // no Load() any more
  size_t start = BeginJournalRecord(&pending_, 'P', key);
  write(&pending_);
  FinishJournalRecord(&pending_, start, key.size());
  return Appended('P', key, start, handle);
}
void JournalStore::Assign(std::string_view key, std::string_view mover,
                          Handle handle) {
  Append('A', key, &mover, handle);
}
void JournalStore::Unassign(std::string_view key, Handle handle) {
  Append('U', key, nullptr, handle);
}
void JournalStore::Forget(std::string_view key, Handle handle) {
  Append('F', key, nullptr, handle);
}

void JournalStore::Sync(SyncCallback done) {
  if (closed_) return;
  if (!writable_) return done(false);
  if (pending_.empty() && !busy_ && waiting_.empty()) return done(true);
  waiting_.push_back(std::move(done));
  ScheduleFlush();
}

void JournalStore::ScheduleFlush() {
  // One flush per event-loop turn: everything queued before it runs joins
  // the batch.
  if (flush_posted_ || busy_ || !writable_) return;
  flush_posted_ = true;
  boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    flush_posted_ = false;
    Flush();
  });
}

void JournalStore::PlanSnapshot(Job* job) {
  // One walk of the index, Puts and Assigns apart: each kind is already
  // in journal order when requests got their handles in arrival order and
  // were assigned in that order too (a queue drained as it came), and then
  // a check replaces the sort, and a merge joins the two. Any other order
  // is sorted.
  std::vector<Copy>& copies = job->copies;
  std::vector<Copy> assigns;
  copies.reserve(packed_.size() + other_.size());
  ForEachEntry([&](const Entry& e, Handle) {
    if (e.put_len) copies.push_back({e.put_at, 0, e.put_len});
    if (e.assign_len) assigns.push_back({e.assign_at, 0, e.assign_len});
  });
  auto by_from = [](const Copy& a, const Copy& b) { return a.from < b.from; };
  if (!std::is_sorted(copies.begin(), copies.end(), by_from))
    std::sort(copies.begin(), copies.end(), by_from);
  if (!std::is_sorted(assigns.begin(), assigns.end(), by_from))
    std::sort(assigns.begin(), assigns.end(), by_from);
  const auto puts_end = static_cast<std::ptrdiff_t>(copies.size());
  copies.insert(copies.end(), assigns.begin(), assigns.end());
  std::inplace_merge(copies.begin(), copies.begin() + puts_end, copies.end(),
                     by_from);
  // Records back to back become one run, in place.
  uint64_t to = kMagic.size();
  size_t runs = 0;
  for (size_t i = 0; i < copies.size(); ++i) {
    const Copy record = copies[i];
    if (runs > 0 &&
        copies[runs - 1].from + copies[runs - 1].size == record.from) {
      copies[runs - 1].size += record.size;
    } else {
      copies[runs++] = {record.from, to, record.size};
    }
    to += record.size;
  }
  copies.resize(runs);
  job->snapshot_bytes = to;
  job->old_end = base_;
}

void JournalStore::Relocate(const Job& job) {
  // Records appended since the plan follow the snapshot, the others are
  // where the snapshot put them.
  const std::vector<Copy>& copies = job.copies;
  auto moved = [&](uint64_t at) {
    if (at >= job.old_end) return at - job.old_end + job.snapshot_bytes;
    auto it = std::upper_bound(
        copies.begin(), copies.end(), at,
        [](uint64_t from, const Copy& c) { return from < c.from; });
    if (it == copies.begin() ||
        at - std::prev(it)->from >= std::prev(it)->size) {
      spdlog::critical("store: journal {}: record at {} not in the snapshot",
                       path(), at);
      std::abort();
    }
    --it;
    return it->to + (at - it->from);
  };
  auto move = [&](Entry& e) {
    if (e.put_len) e.put_at = moved(e.put_at);
    if (e.assign_len) e.assign_at = moved(e.assign_at);
  };
  packed_.MovePositions(move);
  for (auto& [key, entry] : other_) move(entry);
  base_ = base_ - job.old_end + job.snapshot_bytes;
}

void JournalStore::Flush() {
  // While unwritable only the retry timer flushes (retrying_).
  if (closed_ || busy_ || (!writable_ && !retrying_)) return;
  retrying_ = false;
  if (pending_.empty()) {
    // Nothing to prove the disk with: the last batch was durable.
    SetWritable(true);
    FireWaiting(true);
    return;
  }
  Job job;
  uint64_t limit = std::max(
      {options_.min_compact_bytes, compact_floor_,
       options_.compact_ratio * std::max<uint64_t>(stats_.live_bytes, 1)});
  // The batch's buffer goes to the writer and the spare one (the last
  // batch's, emptied) takes its place: the loop encodes into memory that
  // is already allocated, touched and in the cache, instead of growing a
  // new string from nothing each batch.
  job.data.swap(pending_);
  pending_.swap(spare_);
  job.records = pending_records_;
  base_ += job.data.size();
  if (writable_ && !lost_track_ &&
      stats_.file_bytes + job.data.size() > limit) {
    // The snapshot holds every change, pending ones included.
    job.snapshot = true;
    PlanSnapshot(&job);
  }
  pending_records_ = 0;
  inflight_ = std::move(waiting_);
  waiting_.clear();
  busy_ = true;
  common::MutexLock lock(&mu_);
  job_ = std::move(job);
  has_job_ = true;
  cv_.NotifyAll();
}

void JournalStore::OnWritten(Job job, std::string error, uint64_t file_bytes) {
  if (closed_) return;
  busy_ = false;
  std::vector<SyncCallback> callbacks = std::move(inflight_);
  inflight_.clear();
  if (!error.empty()) {
    // Not in the file (or not known to be synced): written again first, at
    // the same position, once a retry succeeds.
    spdlog::error("store: journal {}: {}; retrying in {} ms", path(), error,
                  backoff_.count());
    base_ -= job.data.size();
    job.data += pending_;
    pending_ = std::move(job.data);
    pending_records_ += job.records;
    SetWritable(false);
    for (auto& callback : callbacks) {
      if (closed_) return;
      callback(false);
    }
    FireWaiting(false);
    retry_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || closed_) return;
      retrying_ = true;
      Flush();
    });
    return;
  }
  backoff_ = std::chrono::milliseconds(100);
  if (job.data.capacity() <= kSpareBufferBytes &&
      job.data.capacity() > spare_.capacity()) {
    job.data.clear();
    spare_ = std::move(job.data);
  }
  stats_.file_bytes = file_bytes;
  ++stats_.batches;
  stats_.records += job.records;
  if (job.renamed) {
    Relocate(job);
    ++stats_.compactions;
    spdlog::info("store: journal {} compacted to {} bytes", path(), file_bytes);
  } else if (job.snapshot) {
    // The batch is durable; compaction waits until the journal has grown
    // by as much again.
    compact_floor_ = 2 * file_bytes;
    spdlog::warn(
        "store: journal {}: compaction failed: {}; tried again "
        "past {} bytes",
        path(), job.snapshot_error, compact_floor_);
  }
  if (job.renamed) compact_floor_ = 0;
  // Writable again only now: a write and its sync succeeded.
  if (!writable_)
    spdlog::warn("store: journal {}: write and sync succeeded again", path());
  SetWritable(true);
  for (auto& callback : callbacks) {
    if (closed_) return;
    callback(true);
  }
  Flush();
}

void JournalStore::FireWaiting(bool durable) {
  std::vector<SyncCallback> callbacks = std::move(waiting_);
  waiting_.clear();
  for (auto& callback : callbacks) {
    if (closed_) return;
    callback(durable);
  }
}

void JournalStore::SetWritable(bool writable) {
  if (writable_ == writable) return;
  writable_ = writable;
  if (health_) health_(writable);
}

void JournalStore::WriterMain() {
  for (;;) {
    Job job;
    {
      common::MutexLock lock(&mu_);
      while (!has_job_ && !quit_) cv_.Wait(&mu_);
      if (!has_job_) return;
      job = std::move(job_);
      has_job_ = false;
      job_running_ = true;
    }
    std::string error = Write(job);
    uint64_t size = offset_;
    common::MutexLock lock(&mu_);
    job_running_ = false;
    cv_.NotifyAll();
    if (quit_) continue;
    boost::asio::post(
        io_, [this, alive = std::weak_ptr<int>(alive_), job = std::move(job),
              error = std::move(error), size]() mutable {
          if (!alive.expired())
            OnWritten(std::move(job), std::move(error), size);
        });
  }
}

std::string JournalStore::Write(Job& job) {
  if (dir_unsynced_) {
    // A compaction's rename must be durable before anything is appended
    // to the new file, or a crash could bring back the old one without it.
    if (int e = env_->SyncDir(dir_)) return Error("cannot sync " + dir_, e);
    dir_unsynced_ = false;
  }
  // The batch first, even before a snapshot: the snapshot copies records
  // from the file, and if it fails the batch is durable all the same.
  if (int e = WriteFully(*file_, offset_, job.data)) {
    // A short write leaves part of the batch: cut it (the retry writes at
    // offset_ again anyway).
    file_->Truncate(offset_);
    return Error("write", e);
  }
  // After a failed fdatasync the pages may be marked clean with the error
  // consumed: the retry writes the batch again before syncing again.
  if (int e = file_->Sync()) return Error("fdatasync", e);
  offset_ += job.data.size();
  job.appended = true;
  if (job.snapshot) job.snapshot_error = WriteSnapshot(job);
  return "";
}

std::string JournalStore::WriteSnapshot(Job& job) {
  std::string tmp = dir_ + "/journal.tmp";
  std::unique_ptr<File> out;
  if (int e = env_->Open(tmp, Env::Mode::kTruncate, &out))
    return Error("cannot create " + tmp, e);
  auto fail = [&](const std::string& what, int e) {
    out.reset();
    env_->Remove(tmp);
    return Error(what, e);
  };
  constexpr uint64_t kRun = 1u << 20, kBuffer = 4u << 20;
  // Runs at least this long are copied by the kernel (File::CopyFrom), the
  // rest gathered in `buffer`: a copy in the kernel saves copying the bytes
  // into the process and out again (most of a compaction's cost when it
  // went through the buffer), one system call per run.
  constexpr uint64_t kKernelCopy = 64u << 10;
  bool kernel_copy = true;  // until the files say they cannot
  std::string buffer(kMagic);
  uint64_t written = 0;
  for (const Copy& run : job.copies) {
    if (kernel_copy && run.size >= kKernelCopy) {
      if (int e = WriteFully(*out, written, buffer))
        return fail("cannot write " + tmp, e);
      written += buffer.size();
      buffer.clear();
      int e = CopyFully(*file_, run.from, *out, written, run.size);
      if (!e) {
        written += run.size;
        continue;
      }
      if (e != EOPNOTSUPP) return fail("cannot copy to " + tmp, e);
      kernel_copy = false;  // read and written below, from now on
    }
    for (uint64_t done = 0; done < run.size;) {
      const uint64_t size = std::min(run.size - done, kRun);
      size_t at = buffer.size();
      buffer.resize(at + size);
      if (int e = ReadFully(*file_, run.from + done, buffer.data() + at, size))
        return fail("cannot read " + path(), e);
      done += size;
      if (buffer.size() >= kBuffer) {
        if (int e = WriteFully(*out, written, buffer))
          return fail("cannot write " + tmp, e);
        written += buffer.size();
        buffer.clear();
      }
    }
  }
  if (int e = WriteFully(*out, written, buffer))
    return fail("cannot write " + tmp, e);
  written += buffer.size();
  if (int e = out->Sync()) return fail("cannot sync " + tmp, e);
  if (written != job.snapshot_bytes) return fail("snapshot size mismatch", EIO);
  if (int e = env_->Rename(tmp, path())) return fail("cannot rename " + tmp, e);
  // Renamed: the journal is the new file from now on.
  file_ = std::move(out);
  offset_ = written;
  job.renamed = true;
  if (env_->SyncDir(dir_)) dir_unsynced_ = true;
  return "";
}

void JournalStore::Close(int timeout_ms) {
  if (closed_) return;
  closed_ = true;
  retry_timer_.cancel();
  {
    common::MutexLock lock(&mu_);
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(timeout_ms);
    while ((has_job_ || job_running_) && cv_.WaitUntil(&mu_, deadline)) {
    }
    quit_ = true;
    cv_.NotifyAll();
  }
  if (writer_.joinable()) writer_.join();
  // The writer has stopped: the file is ours. A job it took but whose
  // completion was not seen yet is on disk already (Write finished).
  if (!pending_.empty() && file_) {
    int e = dir_unsynced_ ? env_->SyncDir(dir_) : 0;
    if (!e) e = WriteFully(*file_, offset_, pending_);
    if (!e) e = file_->Sync();
    if (!e)
      offset_ += pending_.size();
    else
      spdlog::error("store: journal {}: last changes not written: {}", path(),
                    strerror(e));
  }
  pending_.clear();
}

}  // namespace store
