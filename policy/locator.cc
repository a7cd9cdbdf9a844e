#include "policy/locator.h"

#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <map>
#include <string_view>
#include <thread>
#include <utility>

#include "common/spawn_attr.h"
#include "common/unique_fd.h"

extern char** environ;

namespace policy {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

// Longest answer line, newline excluded; longer ones are skipped whole.
constexpr size_t kMaxLine = 64 * 1024;
// Longest medium name in an answer.
constexpr size_t kMaxMedium = 256;
// A helper told to go gets SIGTERM, then SIGKILL if it is still there after
// kKillAfter. While the loop runs, it is reaped by polling every kReapPoll
// rather than through SIGCHLD, which belongs to the whole process.
constexpr auto kKillAfter = std::chrono::seconds(1);
constexpr auto kReapPoll = std::chrono::milliseconds(20);

std::string WaitStatus(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exited with status {}", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return fmt::format("was killed by signal {}", WTERMSIG(status));
  }
  return fmt::format("ended with wait status {}", status);
}

// A printable sample of a line from the helper, for the log.
std::string Sample(std::string_view line) {
  std::string out;
  for (char c : line.substr(0, 100)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (line.size() > 100) out += "...";
  return out;
}

std::string RequestLine(uint64_t id, const LocateRequest& request) {
  json::object o;
  o["id"] = id;
  o["fid"] = request.fid;
  o["archive_id"] = request.archive_id;
  o["data"] = json::string(request.data);  // bytes as they are, as protocol/
  json::array movers;
  for (const std::string& mover : request.movers) movers.emplace_back(mover);
  o["movers"] = std::move(movers);
  o["suggested"] = request.suggested;
  std::string line = json::serialize(o);
  line += '\n';
  return line;
}

std::optional<uint64_t> AnswerId(const json::value& id) {
  if (id.is_uint64()) return id.get_uint64();
  if (id.is_int64() && id.get_int64() >= 0) return id.get_int64();
  return std::nullopt;
}

// The answer's fields past `id`, checked: nullopt (and *why) when one is
// malformed. `mover` was checked already (a string or null).
std::optional<Locality> ReadAnswer(const json::object& o, std::string* why) {
  Locality answer;
  const json::value& mover = o.at("mover");
  if (mover.is_string() && !mover.get_string().empty())
    answer.mover = std::string(mover.get_string());
  const json::value* medium = o.if_contains("medium");
  const json::value* position = o.if_contains("position");
  if (medium && !medium->is_null()) {
    if (!medium->is_string()) {
      *why = "'medium' is not a string or null";
      return std::nullopt;
    }
    if (medium->get_string().size() > kMaxMedium) {
      *why = fmt::format("'medium' longer than {} bytes", kMaxMedium);
      return std::nullopt;
    }
    answer.medium = std::string(medium->get_string());
  }
  if (position && !position->is_null()) {
    if (answer.medium.empty()) {
      *why = "'position' without a 'medium'";
      return std::nullopt;
    }
    if (position->is_uint64()) {
      answer.position = position->get_uint64();
    } else if (position->is_int64() && position->get_int64() >= 0) {
      answer.position = static_cast<uint64_t>(position->get_int64());
    } else {
      *why = "'position' is not an integer from 0 to 2^64-1";
      return std::nullopt;
    }
  }
  return answer;
}

// Starts `argv` with one end of a socketpair as its stdin and stdout. A
// socket rather than pipes so that our writes can use MSG_NOSIGNAL. Returns
// 0 and sets *pid and *ours, or returns an errno.
int Spawn(const std::vector<std::string>& argv, pid_t* pid,
          common::UniqueFd* ours) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return errno;
  }
  common::UniqueFd mine(fds[0]), theirs(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDOUT_FILENO);
  const common::SpawnAttr attr;
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int rc =
      posix_spawnp(pid, args[0], &actions, attr.get(), args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == 0) *ours = std::move(mine);
  return rc;
}

// Waits for `pid`, blocking: at most kKillAfter, then SIGKILL. Returns its
// wait status, or nullopt if it was not our child any more.
std::optional<int> ReapNow(pid_t pid) {
  const auto kill_at = Clock::now() + kKillAfter;
  int status;
  pid_t r;
  while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
    if (Clock::now() >= kill_at) {
      kill(pid, SIGKILL);
      while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return r == pid ? std::optional<int>(status) : std::nullopt;
}

// One run of the helper. Held by its pending operations, so that their
// buffers outlive a restart or the Locator.
struct Helper {
  explicit Helper(asio::io_context& io) : socket(io), input(kMaxLine + 1) {}
  pid_t pid = -1;
  asio::local::stream_protocol::socket socket;
  asio::streambuf input;
  bool discarding = false;  // inside a line longer than kMaxLine
  std::string outbox;       // request lines not written yet
  std::string writing;      // request lines being written
};

}  // namespace

class Locator::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, LocatorOptions options)
      : io_(io), options_(std::move(options)), timer_(io), reap_timer_(io) {}

  bool enabled() const { return !options_.command.empty(); }
  size_t in_flight() const { return pending_.size(); }
  uint64_t errors() const { return errors_; }
  void Start() {
    if (enabled()) StartHelper();
  }
  void Locate(const LocateRequest& request, Callback done);
  void Close();

 private:
  struct Pending {
    Clock::time_point deadline;
    Callback done;
  };
  struct Dying {
    pid_t pid;
    Clock::time_point kill_at;
  };

  bool Current(const std::shared_ptr<Helper>& h) const {
    return !closed_ && helper_ == h;
  }
  bool StartHelper();
  void Read(const std::shared_ptr<Helper>& h);
  void OnRead(const std::shared_ptr<Helper>& h, const ErrorCode& ec, size_t n);
  void OnLine(std::string_view line);
  void Flush();
  void HelperDown(const std::string& why);
  void Reap();
  void ArmTimer();
  void Expire();
  void NoPreference(Callback done);

  asio::io_context& io_;
  const LocatorOptions options_;
  bool closed_ = false;             // the Locator is gone
  std::shared_ptr<Helper> helper_;  // null while down
  std::optional<Clock::time_point> last_start_;
  uint64_t next_id_ = 1;
  // By id, hence by deadline: the timeout is the same for all.
  std::map<uint64_t, Pending> pending_;
  asio::steady_timer timer_;  // at the earliest deadline
  bool timer_armed_ = false;
  bool overloaded_ = false;   // the current overload is logged
  uint64_t errors_ = 0;       // see Locator::errors()
  std::vector<Dying> dying_;  // helpers told to go, not reaped yet
  asio::steady_timer reap_timer_;
  bool reaping_ = false;
};

void Locator::Impl::Locate(const LocateRequest& request, Callback done) {
  if (!enabled()) return NoPreference(std::move(done));
  if (pending_.size() >= options_.max_in_flight) {
    if (!overloaded_) {
      spdlog::warn(
          "restore locality: {} lookups in flight, answering no preference "
          "until some complete",
          pending_.size());
    }
    overloaded_ = true;
    ++errors_;
    return NoPreference(std::move(done));
  }
  overloaded_ = false;
  if (!helper_ && !StartHelper()) {
    ++errors_;
    return NoPreference(std::move(done));
  }
  const uint64_t id = next_id_++;
  pending_.emplace(id,
                   Pending{Clock::now() + options_.timeout, std::move(done)});
  helper_->outbox += RequestLine(id, request);
  Flush();
  ArmTimer();
}

bool Locator::Impl::StartHelper() {
  const auto now = Clock::now();
  if (last_start_ && now - *last_start_ < options_.restart_backoff) {
    return false;
  }
  last_start_ = now;
  pid_t pid = -1;
  common::UniqueFd fd;
  if (int err = Spawn(options_.command, &pid, &fd); err != 0) {
    spdlog::error("restore locality: cannot start helper '{}': {}",
                  options_.command[0], std::strerror(err));
    return false;
  }
  auto h = std::make_shared<Helper>(io_);
  h->pid = pid;
  ErrorCode ec;
  h->socket.assign(asio::local::stream_protocol(), fd.get(), ec);
  if (ec) {
    spdlog::error("restore locality: helper socket: {}", ec.message());
    kill(pid, SIGTERM);
    dying_.push_back({pid, now + kKillAfter});
    Reap();
    return false;
  }
  fd.Release();
  spdlog::info("restore locality: started helper '{}' (pid {})",
               options_.command[0], pid);
  helper_ = h;
  Read(h);
  return true;
}

void Locator::Impl::Read(const std::shared_ptr<Helper>& h) {
  asio::async_read_until(
      h->socket, h->input, '\n',
      [self = shared_from_this(), h](const ErrorCode& ec, size_t n) {
        if (self->Current(h)) self->OnRead(h, ec, n);
      });
}

void Locator::Impl::OnRead(const std::shared_ptr<Helper>& h,
                           const ErrorCode& ec, size_t n) {
  if (ec == asio::error::not_found) {
    // The buffer is full without a newline: drop it, and the rest of that
    // line when its newline comes.
    if (!h->discarding) {
      spdlog::warn("restore locality: helper line longer than {} bytes ignored",
                   kMaxLine);
    }
    h->discarding = true;
    h->input.consume(h->input.size());
    return Read(h);
  }
  if (ec) {
    return HelperDown(ec == asio::error::eof ? "closed its output"
                                             : "read: " + ec.message());
  }
  auto begin = asio::buffers_begin(h->input.data());
  std::string line(begin, begin + static_cast<std::ptrdiff_t>(n - 1));
  h->input.consume(n);
  if (h->discarding) {
    h->discarding = false;
  } else {
    OnLine(line);  // may destroy the Locator or restart the helper
  }
  if (Current(h)) Read(h);
}

void Locator::Impl::OnLine(std::string_view line) {
  ErrorCode ec;
  json::value v = json::parse(line, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::value* id = o ? o->if_contains("id") : nullptr;
  const json::value* mover = o ? o->if_contains("mover") : nullptr;
  const std::optional<uint64_t> id_value = id ? AnswerId(*id) : std::nullopt;
  if (!id_value || !mover || !(mover->is_string() || mover->is_null())) {
    ++errors_;
    spdlog::warn(
        "restore locality: helper line ignored, expected "
        "{{\"id\":N,\"mover\":STRING|null}}: {}",
        Sample(line));
    return;
  }
  auto it = pending_.find(*id_value);
  if (it == pending_.end()) {
    ++errors_;
    spdlog::warn(
        "restore locality: helper answered unknown or expired lookup {}",
        *id_value);
    return;
  }
  Callback done = std::move(it->second.done);
  pending_.erase(it);
  std::string why;
  std::optional<Locality> answer = ReadAnswer(*o, &why);
  if (!answer) {
    // The lookup is answered, with nothing: the restore is placed as
    // without a helper, at once rather than after the timeout.
    ++errors_;
    spdlog::warn(
        "restore locality: answer to lookup {} ignored, no preference: {}: {}",
        *id_value, why, Sample(line));
    answer.emplace();
  }
  done(std::move(*answer));
}

void Locator::Impl::Flush() {
  std::shared_ptr<Helper> h = helper_;
  if (!h || !h->writing.empty() || h->outbox.empty()) return;
  std::swap(h->writing, h->outbox);
  asio::async_write(
      h->socket, asio::buffer(h->writing),
      [self = shared_from_this(), h](const ErrorCode& ec, size_t) {
        if (!self->Current(h)) return;
        if (ec) return self->HelperDown("write: " + ec.message());
        h->writing.clear();
        self->Flush();
      });
}

void Locator::Impl::HelperDown(const std::string& why) {
  std::shared_ptr<Helper> h = std::move(helper_);
  helper_.reset();
  spdlog::warn(
      "restore locality: helper (pid {}) {}; {} lookups get no preference",
      h->pid, why, pending_.size());
  ErrorCode ignored;
  h->socket.close(ignored);
  kill(h->pid, SIGTERM);  // harmless if it already exited: not reaped yet
  dying_.push_back({h->pid, Clock::now() + kKillAfter});
  Reap();
  auto failed = std::move(pending_);
  pending_.clear();
  errors_ += failed.size();
  for (auto& [id, p] : failed) {
    if (closed_) return;  // a callback destroyed the Locator
    p.done(Locality{});
  }
}

void Locator::Impl::Reap() {
  const auto now = Clock::now();
  std::erase_if(dying_, [&](Dying& d) {
    int status;
    const pid_t r = waitpid(d.pid, &status, WNOHANG);
    if (r == d.pid) {
      spdlog::warn("restore locality: helper (pid {}) {}", d.pid,
                   WaitStatus(status));
    }
    if (r != 0) return true;  // reaped, or somebody else reaped it
    if (now >= d.kill_at) {
      kill(d.pid, SIGKILL);
      d.kill_at = Clock::time_point::max();
    }
    return false;
  });
  if (dying_.empty() || reaping_) return;
  reaping_ = true;
  reap_timer_.expires_after(kReapPoll);
  reap_timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    self->reaping_ = false;
    if (!ec && !self->closed_) self->Reap();
  });
}

void Locator::Impl::ArmTimer() {
  if (timer_armed_ || pending_.empty()) return;
  timer_armed_ = true;
  timer_.expires_at(pending_.begin()->second.deadline);
  timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    self->timer_armed_ = false;
    if (!ec && !self->closed_) self->Expire();
  });
}

void Locator::Impl::Expire() {
  const auto now = Clock::now();
  std::vector<Callback> expired;
  while (!pending_.empty() && pending_.begin()->second.deadline <= now) {
    expired.push_back(std::move(pending_.begin()->second.done));
    pending_.erase(pending_.begin());
  }
  errors_ += expired.size();
  if (!expired.empty()) {
    spdlog::warn(
        "restore locality: {} lookups unanswered after {} ms get no "
        "preference",
        expired.size(), options_.timeout.count());
  }
  ArmTimer();
  for (Callback& done : expired) {
    if (closed_) return;
    done(Locality{});
  }
}

void Locator::Impl::NoPreference(Callback done) {
  asio::post(io_, [self = shared_from_this(), done = std::move(done)] {
    if (!self->closed_) done(Locality{});
  });
}

void Locator::Impl::Close() {
  closed_ = true;
  pending_.clear();
  timer_.cancel();
  reap_timer_.cancel();
  if (helper_) {
    ErrorCode ignored;
    helper_->socket.close(ignored);
    kill(helper_->pid, SIGTERM);
    dying_.push_back({helper_->pid, Clock::now() + kKillAfter});
    helper_.reset();
  }
  for (const Dying& d : dying_) {
    if (std::optional<int> status = ReapNow(d.pid)) {
      spdlog::info("restore locality: helper (pid {}) stopped: {}", d.pid,
                   WaitStatus(*status));
    }
  }
  dying_.clear();
}

Locator::Locator(asio::io_context& io, LocatorOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {
  impl_->Start();
}

Locator::~Locator() { impl_->Close(); }

bool Locator::enabled() const { return impl_->enabled(); }

void Locator::Locate(const LocateRequest& request, Callback done) {
  impl_->Locate(request, std::move(done));
}

size_t Locator::in_flight() const { return impl_->in_flight(); }

uint64_t Locator::errors() const { return impl_->errors(); }

}  // namespace policy
