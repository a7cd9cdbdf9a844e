#include "store/journal_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "store/crc32c.h"

namespace store {

namespace {

constexpr std::string_view kMagic = "CDTJRN01";
constexpr size_t kRecordHeader = 8;  // length + crc
// A record longer than this is corruption, not data.
constexpr uint32_t kMaxRecord = 64u << 20;

void PutU32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8),
               static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out->append(b, 4);
}

uint32_t GetU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 |
         uint32_t{u[3]} << 24;
}

void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

bool GetString(std::string_view* in, std::string_view* out) {
  if (in->size() < 4) return false;
  uint32_t n = GetU32(in->data());
  if (in->size() - 4 < n) return false;
  *out = in->substr(4, n);
  in->remove_prefix(4 + n);
  return true;
}

void EncodeRecord(std::string* out, char type, std::string_view key,
                  const std::string_view* value) {
  std::string body(1, type);
  PutString(&body, key);
  if (value) PutString(&body, *value);
  PutU32(out, static_cast<uint32_t>(body.size()));
  PutU32(out, Crc32c(body.data(), body.size()));
  out->append(body);
}

std::string Errno(const std::string& what) {
  return fmt::format("{}: {}", what, strerror(errno));
}

bool WriteAll(int fd, std::string_view data, uint64_t offset) {
  while (!data.empty()) {
    ssize_t n =
        pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

bool MakeDirs(const std::string& dir, std::string* error) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    if (mkdir(part.c_str(), 0700) < 0 && errno != EEXIST) {
      *error = Errno("cannot create " + part);
      return false;
    }
  }
  return true;
}

bool SyncDir(const std::string& dir) {
  common::UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd.valid() && fsync(fd.get()) == 0;
}

bool ReadAll(int fd, char* out, size_t size, uint64_t offset) {
  while (size > 0) {
    ssize_t n = pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
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

template <class Key>
std::string Unpack(const Key& packed) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string key;
  key.reserve(2 * packed.size());
  for (unsigned char b : packed) {
    key.push_back(kDigits[b >> 4]);
    key.push_back(kDigits[b & 15]);
  }
  return key;
}

// The value of the Put or Assign record at the start of `record`, a record
// the replay found valid.
std::string_view RecordValue(std::string_view record) {
  if (record.size() < kRecordHeader + 1) return {};
  std::string_view rest = record.substr(kRecordHeader + 1);
  std::string_view key, value;
  if (!GetString(&rest, &key) || !GetString(&rest, &value)) return {};
  return value;
}

using RecordVisitor =
    std::function<void(const JournalRecord&, size_t at, size_t size)>;

size_t Replay(std::string_view data, const RecordVisitor& visit,
              std::string* why) {
  why->clear();
  if (data.size() < kMagic.size() || data.substr(0, kMagic.size()) != kMagic) {
    *why = "no journal header";
    return 0;
  }
  size_t at = kMagic.size();
  while (at < data.size()) {
    if (data.size() - at < kRecordHeader) {
      *why = "record header cut short";
      return at;
    }
    uint32_t length = GetU32(data.data() + at);
    uint32_t crc = GetU32(data.data() + at + 4);
    if (length > kMaxRecord || data.size() - at - kRecordHeader < length) {
      *why = fmt::format("record of {} bytes runs past the end", length);
      return at;
    }
    std::string_view body = data.substr(at + kRecordHeader, length);
    if (Crc32c(body.data(), body.size()) != crc) {
      *why = "checksum mismatch";
      return at;
    }
    JournalRecord record{};
    std::string_view rest = body.substr(body.empty() ? 0 : 1);
    bool ok = !body.empty() && GetString(&rest, &record.key);
    record.type = ok ? body[0] : 0;
    switch (record.type) {
      case 'P':
      case 'A':
        ok = GetString(&rest, &record.value);
        break;
      case 'U':
      case 'F':
        break;
      default:
        ok = false;
    }
    if (!ok || !rest.empty()) {
      *why = "malformed record";
      return at;
    }
    visit(record, at, kRecordHeader + length);
    at += kRecordHeader + length;
  }
  return at;
}

}  // namespace

size_t ReplayJournal(std::string_view data,
                     const std::function<void(const JournalRecord&)>& visit,
                     std::string* why) {
  return Replay(
      data, [&](const JournalRecord& r, size_t, size_t) { visit(r); }, why);
}

size_t JournalStore::PackedKeyHash::operator()(
    const PackedKey& key) const noexcept {
  return std::hash<std::string_view>()(
      std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

template <class F>
void JournalStore::ForEachEntry(F f) {
  for (auto& [key, entry] : packed_) f(entry);
  for (auto& [key, entry] : other_) f(entry);
}

JournalStore::JournalStore(boost::asio::io_context& io, JournalOptions options)
    : io_(io),
      options_(std::move(options)),
      dir_(options_.dir),
      retry_timer_(io) {}

std::unique_ptr<JournalStore> JournalStore::Open(
    boost::asio::io_context& io, const JournalOptions& options,
    std::vector<std::string>* warnings, std::string* error) {
  std::unique_ptr<JournalStore> store(new JournalStore(io, options));
  if (!store->OpenFiles(warnings, error)) return nullptr;
  store->writer_ = std::thread([s = store.get()] { s->WriterMain(); });
  return store;
}

bool JournalStore::OpenFiles(std::vector<std::string>* warnings,
                             std::string* error) {
  if (!MakeDirs(dir_, error)) return false;
  std::string lock_path = dir_ + "/lock";
  lock_fd_.Reset(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_fd_.valid()) {
    *error = Errno("cannot open " + lock_path);
    return false;
  }
  if (flock(lock_fd_.get(), LOCK_EX | LOCK_NB) < 0) {
    *error = errno == EWOULDBLOCK
                 ? fmt::format("{} is in use by another coordinatool", dir_)
                 : Errno("cannot lock " + lock_path);
    return false;
  }
  std::string file = path();
  fd_.Reset(open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd_.valid()) {
    *error = Errno("cannot open " + file);
    return false;
  }
  std::string data;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = read(fd_.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = Errno("cannot read " + file);
      return false;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  std::string why;
  size_t end = Replay(
      data,
      [&](const JournalRecord& r, size_t at, size_t size) {
        Apply(r.type, std::string(r.key), at, static_cast<uint32_t>(size));
      },
      &why);
  if (end < kMagic.size()) {
    // Empty or headerless: start afresh.
    if (!data.empty())
      warnings->push_back(
          fmt::format("journal {}: {} bytes without a valid header discarded",
                      file, data.size()));
    if (ftruncate(fd_.get(), 0) < 0 || !WriteAll(fd_.get(), kMagic, 0) ||
        fdatasync(fd_.get()) < 0 || !SyncDir(dir_)) {
      *error = Errno("cannot initialise " + file);
      return false;
    }
    end = kMagic.size();
  } else if (end < data.size()) {
    warnings->push_back(
        fmt::format("journal {}: torn tail at offset {} ({}): {} bytes cut off",
                    file, end, why, data.size() - end));
    if (ftruncate(fd_.get(), static_cast<off_t>(end)) < 0 ||
        fdatasync(fd_.get()) < 0) {
      *error = Errno("cannot cut the tail of " + file);
      return false;
    }
  }
  offset_ = end;
  base_ = end;
  stats_.file_bytes = end;
  return true;
}

JournalStore::~JournalStore() { Close(10'000); }

std::string JournalStore::Describe() const {
  return fmt::format("journal {}", path());
}

bool JournalStore::Load(LoadVisitor& visitor, std::string* error) {
  // Only before the first change: the writer has had no job, the file is
  // all there is.
  std::string data(base_, '\0');
  if (!ReadAll(fd_.get(), data.data(), data.size(), 0)) {
    *error = Errno("cannot read " + path());
    return false;
  }
  auto value = [&](uint64_t at, uint32_t size) {
    return RecordValue(std::string_view(data).substr(at, size));
  };
  for (const auto& [key, entry] : packed_)
    if (entry.put_len)
      visitor.OnRequest(Unpack(key), value(entry.put_at, entry.put_len));
  for (const auto& [key, entry] : other_)
    if (entry.put_len)
      visitor.OnRequest(key, value(entry.put_at, entry.put_len));
  for (const auto& [key, entry] : packed_)
    if (entry.assign_len)
      visitor.OnAssignment(Unpack(key),
                           value(entry.assign_at, entry.assign_len));
  for (const auto& [key, entry] : other_)
    if (entry.assign_len)
      visitor.OnAssignment(key, value(entry.assign_at, entry.assign_len));
  return true;
}

void JournalStore::Apply(char type, const std::string& key, uint64_t at,
                         uint32_t size) {
  PackedKey packed;
  bool is_packed = Pack(key, &packed);
  Entry* entry = nullptr;
  if (is_packed) {
    auto it = packed_.find(packed);
    if (it != packed_.end()) entry = &it->second;
  } else {
    auto it = other_.find(key);
    if (it != other_.end()) entry = &it->second;
  }
  Entry after = entry ? *entry : Entry{};
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
  if (after.put_len == 0 && after.assign_len == 0) {
    if (!entry) return;
    if (is_packed)
      packed_.erase(packed);
    else
      other_.erase(key);
  } else if (entry) {
    *entry = after;
  } else if (is_packed) {
    packed_.emplace(packed, after);
  } else {
    other_.emplace(key, after);
  }
}

void JournalStore::Append(char type, const std::string& key,
                          const std::string* value) {
  if (closed_) return;
  size_t start = pending_.size();
  std::string_view v = value ? std::string_view(*value) : std::string_view();
  EncodeRecord(&pending_, type, key, value ? &v : nullptr);
  Apply(type, key, base_ + start,
        static_cast<uint32_t>(pending_.size() - start));
  ++pending_records_;
  ScheduleFlush();
}

void JournalStore::Put(const std::string& key, const std::string& json) {
  Append('P', key, &json);
}
void JournalStore::Assign(const std::string& key, const std::string& mover) {
  Append('A', key, &mover);
}
void JournalStore::Unassign(const std::string& key) {
  Append('U', key, nullptr);
}
void JournalStore::Forget(const std::string& key) { Append('F', key, nullptr); }

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
  size_t count = 0;
  ForEachEntry(
      [&](const Entry& e) { count += (e.put_len != 0) + (e.assign_len != 0); });
  job->copies.reserve(count);
  // `to` holds the length until the copies are sorted.
  ForEachEntry([&](const Entry& e) {
    if (e.put_len) job->copies.push_back({e.put_at, e.put_len});
    if (e.assign_len) job->copies.push_back({e.assign_at, e.assign_len});
  });
  std::sort(job->copies.begin(), job->copies.end(),
            [](const Copy& a, const Copy& b) { return a.from < b.from; });
  uint64_t to = kMagic.size();
  for (Copy& copy : job->copies) {
    uint64_t size = copy.to;
    copy.to = to;
    to += size;
  }
  job->snapshot_bytes = to;
  job->old_end = base_;
}

void JournalStore::Relocate(const Job& job) {
  // Records appended since the plan follow the snapshot, the others are
  // where the snapshot put them.
  const std::vector<Copy>& copies = job.copies;
  auto moved = [&](uint64_t at) {
    if (at >= job.old_end) return at - job.old_end + job.snapshot_bytes;
    auto it = std::lower_bound(
        copies.begin(), copies.end(), at,
        [](const Copy& c, uint64_t from) { return c.from < from; });
    if (it == copies.end() || it->from != at) {
      spdlog::critical("store: journal {}: record at {} not in the snapshot",
                       path(), at);
      std::abort();
    }
    return it->to;
  };
  ForEachEntry([&](Entry& e) {
    if (e.put_len) e.put_at = moved(e.put_at);
    if (e.assign_len) e.assign_at = moved(e.assign_at);
  });
  base_ = base_ - job.old_end + job.snapshot_bytes;
}

void JournalStore::Flush() {
  if (closed_ || busy_ || !writable_) return;
  if (pending_.empty()) {
    FireWaiting(true);
    return;
  }
  Job job;
  uint64_t limit = std::max(
      options_.min_compact_bytes,
      options_.compact_ratio * std::max<uint64_t>(stats_.live_bytes, 1));
  job.data = std::move(pending_);
  job.records = pending_records_;
  base_ += job.data.size();
  if (stats_.file_bytes + job.data.size() > limit) {
    // The snapshot holds every change, pending ones included.
    job.snapshot = true;
    PlanSnapshot(&job);
  }
  pending_.clear();
  pending_records_ = 0;
  inflight_ = std::move(waiting_);
  waiting_.clear();
  busy_ = true;
  std::lock_guard lock(mu_);
  job_ = std::move(job);
  has_job_ = true;
  cv_.notify_all();
}

void JournalStore::OnWritten(Job job, std::string error, uint64_t file_bytes) {
  if (closed_) return;
  busy_ = false;
  std::vector<SyncCallback> callbacks = std::move(inflight_);
  inflight_.clear();
  if (!error.empty()) {
    spdlog::error("store: journal {}: {}; retrying in {} ms", path(), error,
                  backoff_.count());
    if (!job.appended) {
      // Not in the file: written again first, at the same position.
      base_ -= job.data.size();
      job.data += pending_;
      pending_ = std::move(job.data);
      pending_records_ += job.records;
    }
    SetWritable(false);
    for (auto& callback : callbacks) callback(false);
    FireWaiting(false);
    retry_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || closed_) return;
      SetWritable(true);
      Flush();
    });
    return;
  }
  backoff_ = std::chrono::milliseconds(100);
  stats_.file_bytes = file_bytes;
  if (job.snapshot) {
    Relocate(job);
    ++stats_.compactions;
    spdlog::info("store: journal {} compacted to {} bytes", path(), file_bytes);
  } else {
    ++stats_.batches;
    stats_.records += job.records;
  }
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
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return has_job_ || quit_; });
      if (!has_job_) return;
      job = std::move(job_);
      has_job_ = false;
      job_running_ = true;
    }
    std::string error = Write(job);
    uint64_t size = offset_;
    std::lock_guard lock(mu_);
    job_running_ = false;
    cv_.notify_all();
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
  // The batch first, even before a snapshot: the snapshot copies records
  // from the file, and if it fails the batch is durable all the same.
  if (!WriteAll(fd_.get(), job.data, offset_)) {
    std::string error = Errno("write");
    if (ftruncate(fd_.get(), static_cast<off_t>(offset_)) < 0) {
      // The next write starts at offset_ anyway.
    }
    return error;
  }
  if (fdatasync(fd_.get()) < 0) return Errno("fdatasync");
  offset_ += job.data.size();
  job.appended = true;
  return job.snapshot ? WriteSnapshot(job) : "";
}

std::string JournalStore::WriteSnapshot(const Job& job) {
  std::string tmp = dir_ + "/journal.tmp";
  common::UniqueFd fd(
      open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Errno("cannot create " + tmp);
  constexpr uint64_t kRun = 1u << 20, kBuffer = 4u << 20;
  const std::vector<Copy>& copies = job.copies;
  std::string buffer(kMagic);
  uint64_t out = 0;
  auto length = [&](size_t i) {
    return (i + 1 < copies.size() ? copies[i + 1].to : job.snapshot_bytes) -
           copies[i].to;
  };
  for (size_t i = 0; i < copies.size();) {
    // Adjacent records are read together.
    uint64_t from = copies[i].from, size = 0;
    for (; i < copies.size() && copies[i].from == from + size && size < kRun;
         ++i)
      size += length(i);
    size_t at = buffer.size();
    buffer.resize(at + size);
    if (!ReadAll(fd_.get(), buffer.data() + at, size, from))
      return Errno("cannot read " + path());
    if (buffer.size() >= kBuffer) {
      if (!WriteAll(fd.get(), buffer, out)) return Errno("cannot write " + tmp);
      out += buffer.size();
      buffer.clear();
    }
  }
  if (!WriteAll(fd.get(), buffer, out) || fdatasync(fd.get()) < 0)
    return Errno("cannot write " + tmp);
  out += buffer.size();
  if (out != job.snapshot_bytes) return "snapshot size mismatch";
  if (rename(tmp.c_str(), path().c_str()) < 0)
    return Errno("cannot rename " + tmp);
  if (!SyncDir(dir_)) return Errno("cannot sync " + dir_);
  fd_ = std::move(fd);
  offset_ = out;
  return "";
}

void JournalStore::Close(int timeout_ms) {
  if (closed_) return;
  closed_ = true;
  retry_timer_.cancel();
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                 [&] { return !has_job_ && !job_running_; });
    quit_ = true;
    cv_.notify_all();
  }
  if (writer_.joinable()) writer_.join();
  // The writer has stopped: the file is ours. A job it took but whose
  // completion was not seen yet is on disk already (Write finished).
  if (!pending_.empty() && fd_.valid()) {
    if (WriteAll(fd_.get(), pending_, offset_) && fdatasync(fd_.get()) == 0)
      offset_ += pending_.size();
    else
      spdlog::error("store: journal {}: last changes not written: {}", path(),
                    strerror(errno));
  }
  pending_.clear();
}

}  // namespace store
