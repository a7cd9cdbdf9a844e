#include "preload/mover.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <utility>

#include "client/tls_settings.h"
#include "client/token_file.h"
#include "hsm/fid.h"
#include "hsm/hal.h"
#include "protocol/action_item.h"
#include "protocol/byte_string.h"
#include "protocol/done_items.h"
#include "protocol/messages.h"

namespace preload {

namespace json = boost::json;

namespace {

void Log(const std::string& message) {
  std::string line = "coordinatool-preload: " + message + "\n";
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

int64_t Limit(uint32_t value) {
  return value == config::kUnlimited ? -1 : int64_t{value};
}

}  // namespace

Mover::Mover(config::ClientSettings settings, std::string fsname,
             std::vector<uint32_t> archive_ids, EndAtLustre end_at_lustre,
             client::BackoffOptions backoff,
             std::chrono::microseconds done_linger)
    : settings_(std::move(settings)),
      fsname_(std::move(fsname)),
      archive_ids_(std::move(archive_ids)),
      owner_pid_(getpid()),
      end_at_lustre_(std::move(end_at_lustre)),
      backoff_(clock_, backoff,
               [random = std::mt19937_64(std::random_device()())]() mutable {
                 return random();
               }),
      servers_(config::ServerAddresses(settings_)),
      slots_(std::min({settings_.max_archive, settings_.max_restore,
                       settings_.max_remove})),
      done_linger_(done_linger) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    pipe_read_.Reset(fds[0]);
    pipe_write_.Reset(fds[1]);
    // Children write completions; a full pipe must block them rather than
    // lose a completion.
    fcntl(fds[1], F_SETFL, 0);
  }
}

Mover::~Mover() {
  if (getpid() != owner_pid_) {
    LeaveSenderInChild();
    return;
  }
  std::unique_ptr<std::thread> sender;
  {
    common::MutexLock lock(&done_mu_);
    stopping_ = true;
    sender = std::move(sender_);
  }
  held_cv_.NotifyAll();
  if (sender) sender->join();
  // What the linger still holds leaves now, not never.
  common::MutexLock lock(&mu_);
  {
    common::MutexLock done_lock(&done_mu_);
    if (flushing_) return;  // a copytool thread still reporting: it sends
    flushing_ = true;
  }
  FlushDonesLocked();
}

void Mover::LeaveSenderInChild() {
  // A forked child has the parent's memory but neither its threads nor
  // the state of their locks: the thread's object is left as it is (a
  // joinable std::thread destroyed would end the process), no lock taken.
  (void)sender_.release();
}

bool Mover::Start(std::string* error) {
  const auto started = clock_.Now();
  const int64_t wait_ms = settings_.connect_wait_ms;
  for (int failures = 0;; ++failures) {
    const client::Attempt::Result result = TryServers(error);
    if (result == client::Attempt::Result::kConnected) {
      if (failures > 0)
        Log(fmt::format("reached {} after {} failed attempts",
                        servers_.Current().ToString(), failures));
      break;
    }
    if (result == client::Attempt::Result::kRefused) return false;
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        clock_.Now() - started);
    auto delay = client::RoundDelay(backoff_, servers_);
    if (wait_ms >= 0) {
      const auto left = std::chrono::milliseconds(wait_ms) - waited;
      if (left <= std::chrono::milliseconds(0)) {
        *error = fmt::format("{}; gave up after {} ms (connect_wait_ms {})",
                             *error, waited.count(), wait_ms);
        return false;
      }
      delay = std::min(delay, left);
    }
    // As when the server is lost later (Reconnect): the site starts movers
    // and server in any order.
    Log(fmt::format("waiting for the server: {}; next attempt within {} ms",
                    *error, delay.count()));
    // A signal the copytool handles ends the wait: copytools install their
    // SIGTERM handler before they register, and `systemctl stop` must not
    // wait for its timeout.
    timespec pause{static_cast<time_t>(delay.count() / 1000),
                   static_cast<long>(delay.count() % 1000) * 1'000'000};
    if (nanosleep(&pause, nullptr) != 0 && errno == EINTR) {
      *error = fmt::format("{}; a signal ended the wait", *error);
      return false;
    }
  }
  backoff_.Connected();
  // Ask for work at once: a copytool that polls fd() before its first recv
  // must see the descriptor become readable when work arrives.
  SendRecv();
  return true;
}

client::Attempt::Result Mover::TryServers(std::string* error) {
  return client::TryRound(
      servers_,
      [this](const client::ServerAddress& to) {
        common::MutexLock lock(&mu_);
        return Connect(to);
      },
      error);
}

// The receiving thread (or Start, before it).
client::Attempt Mover::Connect(const client::ServerAddress& to) {
  using Result = client::Attempt::Result;
  recv_pending_ = false;
  session_broken_ = false;
  session_.set_tls(client::TlsFromSettings(settings_));
  // Read at each connection: a token replaced in its file is used from the
  // next reconnect on.
  std::string token;
  client::Attempt attempt;
  if (!settings_.token_file.empty() &&
      !client::ReadTokenFile(settings_.token_file, &token, &attempt.error)) {
    attempt.result = Result::kRefused;
    return attempt;
  }
  protocol::EhloRequest ehlo;
  ehlo.fsname = fsname_;
  // "progress": this mover sends progress heartbeats; "heartbeat": it
  // answers the server's liveness checks (both ignored by the original).
  ehlo.progress = true;
  ehlo.heartbeat = true;
  ehlo.id = settings_.client_id.empty() ? config::DefaultClientId()
                                        : settings_.client_id;
  ehlo.archive_ids = archive_ids_;
  for (const auto& [id, item] : running_) {
    protocol::ListEntry entry;  // re-announced as it was received
    entry.raw = item;
    ehlo.hai_list.push_back(std::move(entry));
  }
  json::object ehlo_json = protocol::ToJson(ehlo);
  // This library drops `done` acknowledgements unread: a server that takes
  // the hint sends none (the original ignores it).
  protocol::SayQuietDone(&ehlo_json);
  json::object message;
  attempt =
      client::Introduce(session_, to, token, std::move(ehlo_json), &message);
  if (attempt.result != Result::kConnected) return attempt;
  protocol::EhloReply reply;
  protocol::Parse(message, &reply);
  if (int status = reply.header.status) {
    attempt.error = fmt::format(
        "{}: ehlo refused: {}", to.ToString(),
        reply.header.error.empty() ? strerror(status) : reply.header.error);
    session_.Close();
    // EEXIST: the id is still held by a connection the server has not yet
    // found dead (this mover restarted quickly); it will be.
    attempt.result = status == EEXIST ? Result::kFailed : Result::kRefused;
    return attempt;
  }
  server_takes_progress_ = reply.progress;
  server_takes_done_items_ = protocol::AnnouncesDoneItems(message);
  FlushDonesLocked();
  if (session_broken_) {
    attempt.error = fmt::format("{}: lost the server while sending completions",
                                to.ToString());
    session_.Close();
    attempt.result = Result::kFailed;
  }
  return attempt;
}

void Mover::Reconnect() {
  const std::string lost = servers_.Current().ToString();
  {
    common::MutexLock lock(&mu_);
    session_.Close();
  }
  servers_.Lost(std::exchange(leader_hint_, std::nullopt));
  // Every round waits its turn, the first one included: a server that
  // drops this mover as soon as it connects must not see it back at once.
  // Within a round the servers are tried one after the other.
  for (;;) {
    auto delay = client::RoundDelay(backoff_, servers_);
    std::this_thread::sleep_for(delay);
    std::string error;
    if (TryServers(&error) == client::Attempt::Result::kConnected) {
      const std::string now = servers_.Current().ToString();
      common::MutexLock lock(&mu_);
      Log(fmt::format("reconnected to {}{} after {} ms, {} items re-announced",
                      now, now == lost ? "" : " (was " + lost + ")",
                      delay.count(), running_.size()));
      break;
    }
    Log(fmt::format(
        "{}; next attempt within {} ms", error,
        servers_.standby_seen()
            ? std::min(backoff_.Ceiling(), client::kStandbyRetryCap).count()
            : backoff_.Ceiling().count()));
  }
  backoff_.Connected();
  SendRecv();
}

void Mover::FollowStandby(const std::string& command,
                          const std::string& leader) {
  const client::ServerAddress& here = servers_.Current();
  std::string ignored;
  leader_hint_.reset();
  if (!leader.empty())
    leader_hint_ = config::ParseServerAddress(leader, here.port, &ignored);
  Log(fmt::format("{} answered {} as a standby ({}): moving", here.ToString(),
                  command,
                  leader_hint_ ? "the leader is " + leader_hint_->ToString()
                               : std::string("no leader yet")));
  common::MutexLock lock(&mu_);
  BreakSessionLocked();
}

bool Mover::SendLocked(const json::object& message) {
  std::string error;
  if (session_broken_) return false;
  if (session_.Send(message, &error)) return true;
  Log(fmt::format("send: {}", error));
  return false;
}

void Mover::BreakSessionLocked() {
  // Shut down, not closed: the receiving thread may be polling the
  // descriptor (and the copytool too, through fd()); the shutdown wakes
  // them, and the receiving thread closes it and reconnects.
  if (session_.connected() && !session_broken_)
    shutdown(session_.fd(), SHUT_RDWR);
  session_broken_ = true;
}

bool Mover::UsableLocked() const {
  return session_.connected() && !session_broken_;
}

bool Mover::Usable() {
  common::MutexLock lock(&mu_);
  return UsableLocked();
}

int EndFlags(const config::ClientSettings& settings, uint32_t hai_action,
             int errval, int hp_flags) {
  const std::vector<int>* list =
      hai_action == HSMA_ARCHIVE  ? &settings.retry_errors_archive
      : hai_action == HSMA_REMOVE ? &settings.retry_errors_remove
                                  : nullptr;
  const int error = std::abs(errval);
  if (error != 0 && list &&
      std::find(list->begin(), list->end(), error) != list->end())
    hp_flags |= HP_FLAG_RETRY;
  return hp_flags;
}

int Mover::fd() {
  common::MutexLock lock(&mu_);
  return session_.fd();
}

void Mover::FlushDonesLocked() {
  for (;;) {
    std::vector<DoneRecord> batch;
    {
      common::MutexLock lock(&done_mu_);
      if (undelivered_.empty() || !UsableLocked()) {
        flushing_ = false;
        return;
      }
      const size_t n =
          server_takes_done_items_
              ? std::min(undelivered_.size(), protocol::kDoneItemsPerMessage)
              : undelivered_.size();
      batch.assign(undelivered_.begin(), undelivered_.begin() + n);
    }
    auto request_of = [](const DoneRecord& done) {
      return protocol::DoneRequest{{done.cookie, done.dfid},
                                   done.status,
                                   done.end_rc,
                                   done.begin_rc,
                                   static_cast<uint16_t>(done.hp_flags)};
    };
    std::string text;
    if (server_takes_done_items_ && batch.size() > 1) {
      protocol::DoneItemsRequest request;
      for (const DoneRecord& done : batch)
        request.items.push_back({std::string(), request_of(done)});
      text = json::serialize(protocol::ToJson(request));
    } else {
      for (const DoneRecord& done : batch)
        text += json::serialize(protocol::ToJson(request_of(done)));
    }
    std::string error;
    if (!session_.SendText(text, &error)) {
      Log(fmt::format("send: {}", error));
      BreakSessionLocked();
      common::MutexLock lock(&done_mu_);
      flushing_ = false;
      return;
    }
    for (const DoneRecord& done : batch)
      running_.erase(protocol::ItemId{done.cookie, done.dfid});
    running_count_.store(running_.size(), std::memory_order_relaxed);
    common::MutexLock lock(&done_mu_);
    linger_end_ = clock_.Now() + done_linger_;
    undelivered_.erase(
        undelivered_.begin(),
        undelivered_.begin() + static_cast<ptrdiff_t>(batch.size()));
  }
}

bool Mover::SendRecv() {
  common::MutexLock lock(&mu_);
  if (recv_pending_) return true;
  protocol::RecvRequest recv{
      Limit(settings_.max_archive), Limit(settings_.max_restore),
      Limit(settings_.max_remove), int64_t{settings_.hal_size}};
  if (!SendLocked(protocol::ToJson(recv))) return false;
  recv_pending_ = true;
  return true;
}

void Mover::ReportDone(const protocol::ItemId& id, int status, int end_rc,
                       int begin_rc, int hp_flags) {
  DoneRecord record{id.cookie, id.dfid, status, begin_rc, end_rc, hp_flags};
  if (getpid() != owner_pid_) {
    // A forked child: the parent's Recv() delivers it.
    if (write(pipe_write_.get(), &record, sizeof(record)) != sizeof(record))
      Log(fmt::format("cannot pass a completion to the parent: {}",
                      strerror(errno)));
    return;
  }
  {
    common::MutexLock lock(&done_mu_);
    undelivered_.push_back(record);
    // Another thread is sending: its next message takes this one.
    if (flushing_) return;
    // Failures leave at once: the server acts on them (a retry, a request
    // Lustre still holds).
    const bool may_wait =
        done_linger_.count() > 0 && !stopping_ && status == 0 && end_rc == 0 &&
        begin_rc == 0 &&
        running_count_.load(std::memory_order_relaxed) < slots_;
    if (may_wait && (held_ || clock_.Now() < linger_end_)) {
      if (!held_) {
        held_ = true;
        if (!sender_)
          sender_ = std::make_unique<std::thread>([this] { SendHeld(); });
        held_cv_.NotifyAll();
      }
      return;
    }
    held_ = false;  // those held leave with this one
    flushing_ = true;
  }
  common::MutexLock lock(&mu_);
  FlushDonesLocked();
}

void Mover::SendHeld() {
  for (;;) {
    {
      common::MutexLock lock(&done_mu_);
      while (!stopping_ && !held_) held_cv_.Wait(&done_mu_);
      if (stopping_) return;
      // The linger's end; a flush by another thread meanwhile (the
      // receiving thread's, a reconnect's) takes the held ones too.
      while (!stopping_ && held_ && clock_.Now() < linger_end_)
        held_cv_.WaitUntil(&done_mu_, linger_end_);
      if (stopping_) return;  // the destructor sends them
      if (!held_) continue;
      held_ = false;
      if (flushing_ || undelivered_.empty()) continue;
      flushing_ = true;
    }
    common::MutexLock lock(&mu_);
    FlushDonesLocked();
  }
}

void Mover::ReportProgress(const protocol::ItemId& id) {
  if (getpid() != owner_pid_) return;
  common::MutexLock lock(&mu_);
  if (!server_takes_progress_ || !UsableLocked()) return;
  if (!SendLocked(protocol::ToJson(protocol::ProgressRequest{id})))
    BreakSessionLocked();
}

void Mover::DrainPipe() {
  // Every completion the children sent so far, then one flush: those that
  // arrived together leave together.
  DoneRecord record;
  bool any = false;
  while (read(pipe_read_.get(), &record, sizeof(record)) == sizeof(record)) {
    common::MutexLock lock(&done_mu_);
    undelivered_.push_back(record);
    any = true;
  }
  if (!any) return;
  common::MutexLock lock(&mu_);
  FlushDonesLocked();
}

int Mover::HandleReply(json::object& reply, char* buffer, size_t capacity) {
  protocol::Command command;
  std::string name, error;
  if (protocol::ReadCommand(reply, &command, &name, &error) !=
      protocol::CommandRead::kOk)
    return 0;
  // The server stepped down and answers as a standby: this session is
  // over; the copytool only sees the wait go on.
  if (std::string leader; client::IsStandbyAnswer(reply, &leader)) {
    if (command == protocol::Command::kRecv) {
      common::MutexLock lock(&mu_);
      recv_pending_ = false;
    }
    FollowStandby(name, leader);
    return 0;
  }
  if (command == protocol::Command::kHeartbeat) {
    // The server checks that this mover lives (docs/operations.md, "Dead
    // connections"): answer at once, whatever the copytool is doing.
    common::MutexLock lock(&mu_);
    if (!SendLocked(protocol::HeartbeatJson())) BreakSessionLocked();
    return 0;
  }
  if (command != protocol::Command::kRecv) return 0;  // a done acknowledgement
  {
    common::MutexLock lock(&mu_);
    recv_pending_ = false;
  }
  protocol::RecvReply recv;
  if (!protocol::Parse(reply, &recv, &error)) {
    Log(fmt::format("unreadable recv reply: {}", error));
    return -EPROTO;
  }
  if (int status = recv.header.status) return -status;
  hsm::HalBuilder builder(recv.hal.fsname, recv.hal.archive_id, recv.hal.flags);
  std::vector<std::pair<protocol::ItemId, json::object>> received;
  size_t added = 0;
  for (protocol::ListEntry& entry : recv.list) {
    if (!entry.ok()) {
      // That item only: the others in the list are served.
      RefuseItem(entry.raw, entry.error);
      continue;
    }
    const protocol::WireItem& item = entry.item;
    if (!builder.Add(item.item, capacity)) return -EMSGSIZE;
    ++added;
    if (item.item.hai.hai_action != HSMA_CANCEL)
      received.emplace_back(protocol::ItemId::Of(item.item.hai),
                            std::move(entry.raw.get_object()));
  }
  backoff_.Healthy();  // a reply this mover can read
  if (added == 0) {
    SendRecv();
    return 0;  // nothing for the copytool: wait for the next reply
  }
  if (builder.size() > capacity) return -EMSGSIZE;
  memcpy(buffer, builder.bytes().data(), builder.size());
  {
    common::MutexLock lock(&mu_);
    for (auto& [id, item] : received) running_[id] = std::move(item);
    running_count_.store(running_.size(), std::memory_order_relaxed);
  }
  // Keep one recv outstanding, for the same reason as in Start(); the
  // server still honours this mover's limits.
  SendRecv();
  return static_cast<int>(builder.size());
}

void Mover::RefuseItem(const json::value& entry, const std::string& why) {
  hsm_action_item hai;
  std::string error;
  if (!entry.is_object() ||
      !protocol::ItemIdentityFromJson(entry.get_object(), &hai, &error)) {
    Log(
        fmt::format("skipping an item that cannot be decoded ({}), nor its "
                    "identity ({}): {:.200}",
                    why, error, protocol::Printable(json::serialize(entry))));
    return;
  }
  const protocol::ItemId id = protocol::ItemId::Of(hai);
  if (hai.hai_action == HSMA_CANCEL) {
    Log(
        fmt::format("skipping a cancel of {} cookie {:#x} that cannot be "
                    "decoded: {}",
                    hsm::FormatFid(id.dfid), id.cookie, why));
    return;
  }
  int rc = end_at_lustre_ ? end_at_lustre_(hai, EPROTO) : -ENOSYS;
  Log(
      fmt::format("item {} cookie {:#x} cannot be decoded ({}): failed at "
                  "Lustre with EPROTO{}",
                  hsm::FormatFid(id.dfid), id.cookie, why,
                  rc < 0 ? fmt::format(" (end: {})", strerror(-rc)) : ""));
  // Reported done: the server forgets it rather than send it again.
  ReportDone(id, EPROTO);
}

bool Mover::TakeBuffered(json::object* reply) {
  common::MutexLock lock(&mu_);
  if (!UsableLocked() || !session_.HasBuffered()) return false;
  std::string error;
  return session_.Receive(reply, 0, &error);
}

// The session is read under the lock like everything else; only the wait
// for input (poll) runs without it, on a descriptor that stays open: only
// this thread closes the session.
int Mover::Recv(char* buffer, size_t capacity, bool nonblocking) {
  for (;;) {
    if (!Usable()) Reconnect();
    DrainPipe();
    if (!SendRecv()) {
      Reconnect();
      continue;
    }
    json::object reply;
    while (TakeBuffered(&reply)) {
      int rc = HandleReply(reply, buffer, capacity);
      if (rc != 0) return rc;
    }
    pollfd fds[2] = {{fd(), POLLIN, 0}, {pipe_read_.get(), POLLIN, 0}};
    int rc = poll(fds, 2, nonblocking ? 0 : -1);
    // A handled signal ends the wait with -EINTR, as Lustre's receive does
    // (its read of the KUC pipe is interrupted): a copytool that stops on
    // EINTR must not wait for the next action list.
    if (rc < 0) return -errno;
    if (rc == 0) return -EAGAIN;
    if (fds[1].revents) DrainPipe();
    if (fds[0].revents) {
      common::MutexLock lock(&mu_);
      std::string error;
      if (!session_broken_ && !session_.Pump(&error)) {
        Log(fmt::format("lost the server: {}", error));
        session_.Close();
      }
    }
  }
}

}  // namespace preload
