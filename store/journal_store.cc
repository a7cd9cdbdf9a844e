#include "store/journal_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

size_t EntryBytes(const std::string& key, const std::string& json,
                  const std::string& mover) {
  size_t n = 0;
  if (!json.empty()) n += kRecordHeader + 9 + key.size() + json.size();
  if (!mover.empty()) n += kRecordHeader + 9 + key.size() + mover.size();
  return n;
}

}  // namespace

size_t ReplayJournal(std::string_view data,
                     const std::function<void(const JournalRecord&)>& visit,
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
    visit(record);
    at += kRecordHeader + length;
  }
  return at;
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
  size_t end = ReplayJournal(
      data,
      [&](const JournalRecord& r) {
        std::string key(r.key);
        auto it = live_.find(key);
        Entry before = it == live_.end() ? Entry{} : it->second;
        Entry after = before;
        if (r.type == 'P') after.json = r.value;
        if (r.type == 'A') after.mover = r.value;
        if (r.type == 'U') after.mover.clear();
        if (r.type == 'F') after = Entry{};
        UpdateLive(key, &before, &after);
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
  stats_.file_bytes = end;
  return true;
}

JournalStore::~JournalStore() { Close(10'000); }

std::string JournalStore::Describe() const {
  return fmt::format("journal {}", path());
}

bool JournalStore::Load(LoadVisitor& visitor, std::string*) {
  for (const auto& [key, entry] : live_)
    if (!entry.json.empty()) visitor.OnRequest(key, entry.json);
  for (const auto& [key, entry] : live_)
    if (!entry.mover.empty()) visitor.OnAssignment(key, entry.mover);
  return true;
}

void JournalStore::UpdateLive(const std::string& key, const Entry* before,
                              const Entry* after) {
  stats_.live_bytes -= EntryBytes(key, before->json, before->mover);
  stats_.live_bytes += EntryBytes(key, after->json, after->mover);
  if (after->json.empty() && after->mover.empty())
    live_.erase(key);
  else
    live_[key] = *after;
}

void JournalStore::Append(char type, const std::string& key,
                          const std::string* value) {
  if (closed_) return;
  auto it = live_.find(key);
  Entry before = it == live_.end() ? Entry{} : it->second;
  Entry after = before;
  if (type == 'P') after.json = *value;
  if (type == 'A') after.mover = *value;
  if (type == 'U') after.mover.clear();
  if (type == 'F') after = Entry{};
  UpdateLive(key, &before, &after);
  std::string_view v = value ? std::string_view(*value) : std::string_view();
  EncodeRecord(&pending_, type, key, value ? &v : nullptr);
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

std::string JournalStore::Snapshot(uint64_t* records) const {
  std::string out(kMagic);
  *records = 0;
  for (const auto& [key, entry] : live_) {
    if (entry.json.empty()) continue;
    std::string_view v(entry.json);
    EncodeRecord(&out, 'P', key, &v);
    ++*records;
  }
  for (const auto& [key, entry] : live_) {
    if (entry.mover.empty()) continue;
    std::string_view v(entry.mover);
    EncodeRecord(&out, 'A', key, &v);
    ++*records;
  }
  return out;
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
  if (stats_.file_bytes + pending_.size() > limit) {
    // The snapshot holds every change, pending ones included.
    job.snapshot = true;
    job.data = Snapshot(&job.records);
  } else {
    job.data = std::move(pending_);
    job.records = pending_records_;
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
    if (!job.snapshot) {
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

std::string JournalStore::Write(const Job& job) {
  if (!job.snapshot) {
    if (!WriteAll(fd_.get(), job.data, offset_)) {
      std::string error = Errno("write");
      if (ftruncate(fd_.get(), static_cast<off_t>(offset_)) < 0) {
        // The next write starts at offset_ anyway.
      }
      return error;
    }
    if (fdatasync(fd_.get()) < 0) return Errno("fdatasync");
    offset_ += job.data.size();
    return "";
  }
  std::string tmp = dir_ + "/journal.tmp";
  common::UniqueFd fd(
      open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Errno("cannot create " + tmp);
  if (!WriteAll(fd.get(), job.data, 0) || fdatasync(fd.get()) < 0)
    return Errno("cannot write " + tmp);
  if (rename(tmp.c_str(), path().c_str()) < 0)
    return Errno("cannot rename " + tmp);
  if (!SyncDir(dir_)) return Errno("cannot sync " + dir_);
  fd_ = std::move(fd);
  offset_ = job.data.size();
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
