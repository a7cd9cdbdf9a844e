#include "sim/mdt/server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/spawn_attr.h"
#include "sim/mdt/layout.h"
#include "sim/mdt/upcall.h"

namespace sim::mdt {

namespace asio = boost::asio;

namespace {

std::string NewUuid() {
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32,
                     (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffULL);
}

std::string Errno(int rc) { return strerror(rc < 0 ? -rc : rc); }

// How many packets one connection may have handled per loop turn, so that a
// busy client does not starve the others.
constexpr int kPacketsPerTurn = 64;

}  // namespace

Server::Server(asio::io_context* io, ServerOptions options)
    : io_(io), options_(std::move(options)), timer_(*io) {}

struct Server::Upcall {
  pid_t pid = -1;
  std::unique_ptr<asio::posix::stream_descriptor> pidfd;
  std::unique_ptr<asio::steady_timer> timer;
  std::weak_ptr<Connection> conn;
  uint32_t seq = 0;
  bool timed_out = false;
  std::string what;  // "ARCHIVE of 3 files", for the log
};

Server::~Server() {
  for (auto& [id, conn] : conns_) conn->closed = true;
  // An upcall still running is not waited for; it is reaped by init.
  for (auto& [pid, upcall] : upcalls_) kill(pid, SIGKILL);
}

std::string Server::Who(const Connection& conn) const {
  return fmt::format("client pid {} (uid {})", conn.caller.pid,
                     conn.caller.uid);
}

// ---- Start-up ----

std::string Server::Start() {
  if (std::string err = PrepareMount(); !err.empty()) return err;
  bool stay_stopped = false;
  for (const std::string& s : options_.settings)
    if (s == "hsm_control=stopped") stay_stopped = true;
  // The daemon starts with the coordinator enabled (a simulator
  // convenience: a real MDT starts "stopped").
  if (!stay_stopped) cdt_->Control("enabled");
  if (std::string err = ApplySettings(&stay_stopped); !err.empty()) return err;
  if (cdt_->CompactionDue()) journal_->Rewrite(cdt_->Snapshot());
  if (int rc = journal_->Flush(); rc < 0)
    return fmt::format("cannot write {}: {}", journal_->path(), Errno(rc));
  if (std::string err = Listen(); !err.empty()) return err;
  if (!options_.fuse_mountpoint.empty()) {
    fuse_ =
        std::make_unique<FuseMount>(io_, options_.fuse_mountpoint,
                                    options_.mount, cdt_.get(), files_.get());
    fuse_->after_turn = [this] { EndOfTurnSoon(); };
    // Lustre gives every regular file a layout (docs/simulator.md, layout
    // attribute); a file gets its FID here if it had none.
    fuse_->lov_xattr = [this](int backing_fd, std::string* value) {
      FileEntry* entry = nullptr;
      struct stat st;
      if (int rc = files_->Identify(backing_fd, &entry, &st); rc < 0) return rc;
      *value = LayoutXattr(entry->fid, (entry->hsm.flags & HS_RELEASED) != 0);
      return 0;
    };
    if (std::string err = fuse_->Start(); !err.empty()) return err;
  }
  AcceptLoop();
  EndOfTurnSoon();
  return "";
}

std::string Server::PrepareMount() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path mount(options_.mount);
  fs::create_directories(mount / ".lustre" / "fid", ec);
  if (!ec) fs::create_directories(mount / ".lustre" / "state", ec);
  if (ec)
    return fmt::format("cannot create {}/.lustre: {}", options_.mount,
                       ec.message());
  std::string fsname_path = (mount / ".lustre" / "fsname").string();
  {
    std::string content = options_.fsname + "\n";
    common::UniqueFd fd(open(fsname_path.c_str(),
                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd || write(fd.get(), content.data(), content.size()) !=
                   static_cast<ssize_t>(content.size()))
      return fmt::format("cannot write {}: {}", fsname_path, strerror(errno));
  }
  Journal::Options jopts;
  jopts.sync = options_.sync;
  journal_ = std::make_unique<Journal>(
      (mount / ".lustre" / "state" / "journal").string(), jopts);
  files_ = std::make_unique<FileTable>(options_.mount, journal_.get());
  if (int rc = files_->Init(); rc < 0)
    return fmt::format("cannot open {}: {}", options_.mount, Errno(rc));
  cdt_ = std::make_unique<Coordinator>(options_.fsname, files_.get(),
                                       journal_.get(), &clock_, this);
  std::string warning;
  size_t replayed = 0;
  int rc = journal_->Open(
      [&](std::string_view payload) {
        cdt_->ApplyJournal(payload);
        ++replayed;
      },
      &warning);
  if (rc < 0)
    return fmt::format("cannot read {}: {}", journal_->path(), Errno(rc));
  if (!warning.empty())
    spdlog::warn("journal {}: {}", journal_->path(), warning);
  cdt_->FinishRecovery();
  spdlog::info("journal: replayed {} records: {} files, {} requests", replayed,
               files_->size(), cdt_->log().records().size());
  params_ = std::make_unique<ParamTable>(cdt_.get());
  rpc_ = std::make_unique<RpcHandler>(cdt_.get(), files_.get(), params_.get());
  params_->AddReadOnly("hsm.sim_copy_peaks",
                       [rpc = rpc_.get()] { return rpc->copies().Format(); });
  return "";
}

std::string Server::ApplySettings(bool* stay_stopped) {
  const std::string prefix = fmt::format("mdt.{}-MDT0000.", options_.fsname);
  for (const std::string& s : options_.settings) {
    size_t eq = s.find('=');
    if (eq == std::string::npos)
      return fmt::format("--set {}: expected NAME=VALUE", s);
    std::string name = s.substr(0, eq), value = s.substr(eq + 1);
    if (name == "hsm_control" && value == "stopped") continue;
    if (name.rfind("mdt.", 0) != 0) name = prefix + name;
    int rc = params_->Set(name, value);
    if (rc < 0) return fmt::format("--set {}: {}", s, Errno(rc));
    if (name == prefix + "hsm_control") *stay_stopped = false;
  }
  return "";
}

std::string Server::Listen() {
  std::string dir = options_.mount + "/.lustre";
  common::UniqueFd dir_fd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return fmt::format("cannot open {}: {}", dir, strerror(errno));
  std::string path = options_.mount + "/" + wire::kSocketPath;
  // A daemon already serving this mount answers on the socket.
  int probe = wire::ConnectSeqPacket(path);
  if (probe >= 0) {
    close(probe);
    return fmt::format("another sim-mdt is serving {}", options_.mount);
  }
  unlinkat(dir_fd.get(), "mdt.sock", 0);
  common::UniqueFd sock(
      socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!sock) return fmt::format("socket: {}", strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string target = path;
  if (target.size() >= sizeof(addr.sun_path))
    target = fmt::format("/proc/self/fd/{}/mdt.sock", dir_fd.get());
  memcpy(addr.sun_path, target.c_str(), target.size() + 1);
  if (bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0)
    return fmt::format("cannot bind {}: {}", path, strerror(errno));
  if (listen(sock.get(), 512) < 0)
    return fmt::format("listen: {}", strerror(errno));
  listener_ =
      std::make_unique<asio::posix::stream_descriptor>(*io_, sock.Release());
  return "";
}

void Server::Flush() {
  if (!journal_) return;
  if (int rc = journal_->Flush(); rc < 0)
    spdlog::error("journal: write failed: {}", Errno(rc));
}

// ---- Connections ----

void Server::AcceptLoop() {
  listener_->async_wait(asio::posix::stream_descriptor::wait_read,
                        [this](const boost::system::error_code& ec) {
                          if (ec) return;
                          OnAccept();
                          AcceptLoop();
                        });
}

void Server::OnAccept() {
  for (;;) {
    int fd = accept4(listener_->native_handle(), nullptr, nullptr,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        spdlog::warn("accept: {}", strerror(errno));
      return;
    }
    auto conn = std::make_shared<Connection>();
    conn->id = next_conn_id_++;
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      conn->caller.uid = cred.uid;
      conn->caller.gid = cred.gid;
      conn->caller.pid = static_cast<uint32_t>(cred.pid);
    }
    conn->socket = std::make_unique<asio::posix::stream_descriptor>(*io_, fd);
    conns_[conn->id] = conn;
    ArmRead(conn);
  }
}

void Server::ArmRead(const ConnPtr& conn) {
  conn->socket->async_wait(asio::posix::stream_descriptor::wait_read,
                           [this, conn](const boost::system::error_code& ec) {
                             if (ec || conn->closed) return;
                             OnReadable(conn);
                           });
}

void Server::OnReadable(const ConnPtr& conn) {
  for (int i = 0; i < kPacketsPerTurn && !conn->closed; ++i) {
    wire::Packet packet;
    std::string error;
    int rc = wire::RecvPacket(conn->socket->native_handle(), &packet, &error);
    if (rc == -EAGAIN) break;
    if (rc == -EPROTO) {
      spdlog::warn("{}: malformed packet: {}", Who(*conn), error);
      bool too_long = error.rfind("packet longer", 0) == 0;
      Reply(conn, packet.header.seq, too_long ? -E2BIG : -EPROTO, {});
      continue;
    }
    if (rc < 0) {
      Drop(conn, rc == -EPIPE ? "" : Errno(rc));
      break;
    }
    if (fuse_ && packet.fd.valid()) {
      // The daemon only ever touches the backing files: I/O on a FUSE
      // descriptor would be a request to itself.
      common::UniqueFd backing;
      int trc = fuse_->Translate(packet.fd.get(), &backing);
      if (trc < 0) {
        spdlog::warn("{}: descriptor on the FUSE mount not found: {}",
                     Who(*conn), Errno(trc));
        Reply(conn, packet.header.seq, trc, {});
        continue;
      }
      if (trc > 0) packet.fd = std::move(backing);
    }
    HandlePacket(conn, packet);
  }
  if (!conn->closed) ArmRead(conn);
  EndOfTurnSoon();
}

void Server::HandlePacket(const ConnPtr& conn, wire::Packet& packet) {
  const uint32_t seq = packet.header.seq;
  if (!conn->agent_uuid.empty()) {
    spdlog::warn("{}: ignoring a type {} packet on a KUC channel", Who(*conn),
                 packet.header.type);
    return;
  }
  switch (packet.type()) {
    case wire::MsgType::kRegister:
      HandleRegister(conn, packet);
      return;
    case wire::MsgType::kWaitRestore: {
      lu_fid fid;
      if (packet.payload.size() != sizeof(fid)) {
        spdlog::warn("{}: WaitRestore payload of {} bytes, expected {}",
                     Who(*conn), packet.payload.size(), sizeof(fid));
        Reply(conn, seq, -EPROTO, {});
        return;
      }
      memcpy(&fid, packet.payload.data(), sizeof(fid));
      if (!cdt_->RestoreLocked(fid))
        Reply(conn, seq, 0, {});
      else
        waiters_[fid].push_back(Waiter{conn, seq});
      return;
    }
    case wire::MsgType::kHsmRequest:
      if (DivertToUpcall(conn, packet)) return;
      break;
    default:
      break;
  }
  RpcReply reply = rpc_->Handle(conn->caller, packet, &conn->param_cache);
  if (!reply.complaint.empty())
    spdlog::warn("{}: {}: {}", Who(*conn), reply.complaint,
                 Errno(reply.status));
  else if (reply.status < 0)
    spdlog::debug("{}: type {} -> {}", Who(*conn), packet.header.type,
                  Errno(reply.status));
  Reply(conn, seq, reply.status, reply.payload);
}

void Server::HandleRegister(const ConnPtr& conn, const wire::Packet& packet) {
  const uint32_t seq = packet.header.seq;
  wire::RegisterReq req;
  if (packet.payload.size() < sizeof(req)) {
    spdlog::warn("{}: Register payload of {} bytes, shorter than {}",
                 Who(*conn), packet.payload.size(), sizeof(req));
    Reply(conn, seq, -EPROTO, {});
    return;
  }
  memcpy(&req, packet.payload.data(), sizeof(req));
  size_t rest = packet.payload.size() - sizeof(req);
  if (rest != uint64_t{req.archive_count} * sizeof(uint32_t)) {
    spdlog::warn("{}: Register announces {} archives but carries {} bytes",
                 Who(*conn), req.archive_count, rest);
    Reply(conn, seq, -EPROTO, {});
    return;
  }
  std::vector<uint32_t> archives(req.archive_count);
  if (!archives.empty())
    memcpy(archives.data(), packet.payload.data() + sizeof(req), rest);
  std::string uuid(req.uuid, strnlen(req.uuid, sizeof(req.uuid)));
  if (uuid.empty()) uuid = NewUuid();
  int rc = cdt_->RegisterAgent(uuid, archives);
  Reply(conn, seq, rc, {});
  if (rc < 0) return;
  conn->agent_uuid = uuid;
  kuc_groups_[uuid].push_back(conn);
  spdlog::info(
      "{}: registered agent {} for archives {}", Who(*conn), uuid,
      archives.empty() ? "ANY" : fmt::format("{}", fmt::join(archives, ",")));
}

void Server::Reply(const ConnPtr& conn, uint32_t seq, int32_t status,
                   std::string_view payload) {
  wire::MsgHeader header{};
  header.magic = wire::kMagic;
  header.version = wire::kVersion;
  header.type = static_cast<uint16_t>(wire::MsgType::kReply);
  header.seq = seq;
  header.status = status;
  header.payload_len = static_cast<uint32_t>(payload.size());
  std::string bytes(reinterpret_cast<const char*>(&header), sizeof(header));
  bytes.append(payload);
  Send(conn, std::move(bytes));
}

bool Server::Send(const ConnPtr& conn, std::string bytes) {
  if (conn->closed) return false;
  if (conn->out.empty()) {
    int rc = wire::SendRaw(conn->socket->native_handle(), bytes);
    if (rc == 0) return true;
    if (rc != -EAGAIN) {
      Drop(conn, rc == -EPIPE ? "" : Errno(rc));
      return false;
    }
  }
  conn->out_bytes += bytes.size();
  conn->out.push_back(std::move(bytes));
  if (conn->out_bytes > options_.max_queued_bytes) {
    Drop(conn, fmt::format("more than {} bytes queued for it",
                           options_.max_queued_bytes));
    return false;
  }
  if (!conn->write_armed) {
    conn->write_armed = true;
    conn->socket->async_wait(asio::posix::stream_descriptor::wait_write,
                             [this, conn](const boost::system::error_code& ec) {
                               conn->write_armed = false;
                               if (ec || conn->closed) return;
                               FlushOutput(conn);
                             });
  }
  return true;
}

void Server::FlushOutput(const ConnPtr& conn) {
  while (!conn->out.empty()) {
    int rc = wire::SendRaw(conn->socket->native_handle(), conn->out.front());
    if (rc == -EAGAIN) break;
    if (rc < 0) {
      Drop(conn, rc == -EPIPE ? "" : Errno(rc));
      return;
    }
    conn->out_bytes -= conn->out.front().size();
    conn->out.pop_front();
  }
  if (!conn->out.empty() && !conn->write_armed) {
    conn->write_armed = true;
    conn->socket->async_wait(asio::posix::stream_descriptor::wait_write,
                             [this, conn](const boost::system::error_code& ec) {
                               conn->write_armed = false;
                               if (ec || conn->closed) return;
                               FlushOutput(conn);
                             });
  }
}

void Server::Drop(const ConnPtr& conn, const std::string& why) {
  if (conn->closed) return;
  conn->closed = true;
  if (!why.empty())
    spdlog::warn("{}: dropping the connection: {}", Who(*conn), why);
  // Freed at a safe point, after the handler that noticed.
  asio::post(*io_, [this, conn] {
    if (!conn->agent_uuid.empty()) {
      auto group = kuc_groups_.find(conn->agent_uuid);
      if (group != kuc_groups_.end()) {
        std::erase(group->second, conn);
        if (group->second.empty()) kuc_groups_.erase(group);
      }
      // As in Lustre, any registrant leaving removes the mount's agent.
      cdt_->UnregisterAgent(conn->agent_uuid);
      spdlog::info("{}: agent {} unregistered", Who(*conn), conn->agent_uuid);
    }
    boost::system::error_code ignored;
    conn->socket->cancel(ignored);
    conn->socket->close(ignored);
    conns_.erase(conn->id);
    EndOfTurnSoon();
  });
}

// ---- LU-10968 upcall ----

bool Server::DivertToUpcall(const ConnPtr& conn, const wire::Packet& packet) {
  if (cdt_->tunables().upcall_mask == 0) return false;
  UpcallDecision decision;
  std::vector<std::string> argv;
  int rc = DecideUpcall(conn->caller, packet.payload, cdt_->tunables(),
                        options_.fsname, files_.get(), &decision, &argv);
  if (rc < 0) {
    spdlog::info("{}: request refused before its upcall: {}", Who(*conn),
                 Errno(rc));
    Reply(conn, packet.header.seq, rc, {});
    return true;
  }
  switch (decision) {
    case UpcallDecision::kCoordinator:
      return false;
    case UpcallDecision::kNothing:
      Reply(conn, packet.header.seq, 0, {});
      return true;
    case UpcallDecision::kRun:
      RunUpcall(conn, packet.header.seq, argv);
      return true;
  }
  return false;
}

void Server::RunUpcall(const ConnPtr& conn, uint32_t seq,
                       const std::vector<std::string>& argv) {
  // As the MDT runs it: an empty environment, nothing on stdin; its output
  // goes to the daemon's log (stderr). The request's reply waits for its
  // exit, other clients do not.
  auto upcall = std::make_shared<Upcall>();
  upcall->conn = conn;
  upcall->seq = seq;
  upcall->what = fmt::format("{} of {} files", argv[1], argv.size() - 6);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char* envp[] = {nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  common::SpawnAttr attr;
  pid_t pid = -1;
  int err = posix_spawn(&pid, argv[0].c_str(), &actions, attr.get(),
                        args.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    spdlog::warn("{}: cannot run the upcall {}: {}", Who(*conn), argv[0],
                 strerror(err));
    Reply(conn, seq, -err, {});
    return;
  }
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // No pidfd (a kernel before 5.3): the loop could not wait for the
    // upcall without blocking every client, so it is stopped at once and
    // the request fails.
    int err = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    spdlog::warn("{}: cannot wait for the upcall {}: pidfd_open: {}",
                 Who(*conn), argv[0], strerror(err));
    Reply(conn, seq, -ENOSYS, {});
    return;
  }
  upcall->pid = pid;
  upcall->pidfd = std::make_unique<asio::posix::stream_descriptor>(*io_, pidfd);
  upcall->timer = std::make_unique<asio::steady_timer>(*io_);
  upcall->timer->expires_after(
      std::chrono::seconds(cdt_->tunables().upcall_timeout_s));
  upcall->timer->async_wait([upcall](const boost::system::error_code& ec) {
    if (ec || upcall->pid < 0) return;
    upcall->timed_out = true;
    kill(upcall->pid, SIGKILL);
  });
  upcalls_[pid] = upcall;
  spdlog::info("{}: upcall {} runs for {} (pid {})", Who(*conn), argv[0],
               upcall->what, pid);
  upcall->pidfd->async_wait(
      asio::posix::stream_descriptor::wait_read,
      [this, upcall](const boost::system::error_code& ec) {
        if (ec) return;
        int status = 0;
        if (waitpid(upcall->pid, &status, 0) < 0) status = -1;
        upcall->timer->cancel();
        upcalls_.erase(upcall->pid);
        upcall->pid = -1;
        // The exit code is taken as an errno (coordinatool-upcall exits
        // with one); a signal or a timeout fails the request too.
        int rc = 0;
        if (upcall->timed_out)
          rc = -ETIMEDOUT;
        else if (status < 0 || !WIFEXITED(status))
          rc = -EIO;
        else if (WEXITSTATUS(status) != 0)
          rc = -WEXITSTATUS(status);
        if (rc == 0)
          spdlog::info("upcall for {} done", upcall->what);
        else
          spdlog::warn("upcall for {} failed: {}", upcall->what, Errno(rc));
        if (ConnPtr conn = upcall->conn.lock(); conn && !conn->closed)
          Reply(conn, upcall->seq, rc, {});
        EndOfTurnSoon();
      });
}

// ---- AgentChannel ----

int Server::SendToAgent(const std::string& uuid, const std::string& kuc) {
  auto group = kuc_groups_.find(uuid);
  if (group == kuc_groups_.end()) return -EAGAIN;
  bool delivered = false, any_open = false;
  // Copy: Send may drop a connection, which edits the group later.
  std::vector<ConnPtr> members = group->second;
  for (const ConnPtr& conn : members) {
    if (conn->closed) continue;
    any_open = true;
    if (Send(conn, kuc)) delivered = true;
  }
  if (delivered) return 0;
  return any_open ? -EPIPE : -EAGAIN;
}

void Server::RestoreReleased(const lu_fid& fid) {
  if (fuse_) fuse_->RestoreEnded(fid);
  auto it = waiters_.find(fid);
  if (it == waiters_.end()) return;
  std::vector<Waiter> waiters = std::move(it->second);
  waiters_.erase(it);
  for (const Waiter& w : waiters)
    if (ConnPtr conn = w.conn.lock(); conn && !conn->closed)
      Reply(conn, w.seq, 0, {});
}

// ---- Loop turns and timers ----

void Server::EndOfTurnSoon() {
  if (turn_pending_) return;
  turn_pending_ = true;
  asio::post(*io_, [this] {
    turn_pending_ = false;
    EndOfTurn();
  });
}

void Server::EndOfTurn() {
  cdt_->RunDue();
  if (cdt_->CompactionDue()) {
    uint64_t before = journal_->size();
    if (int rc = journal_->Rewrite(cdt_->Snapshot()); rc < 0)
      spdlog::error("journal: compaction failed: {}", Errno(rc));
    else
      spdlog::info("journal: compacted {} bytes into {}", before,
                   journal_->size());
  }
  Flush();
  ArmTimer();
}

void Server::ArmTimer() {
  std::optional<common::Clock::TimePoint> deadline = cdt_->NextDeadline();
  if (deadline == timer_deadline_) return;
  timer_deadline_ = deadline;
  if (!deadline) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(*deadline);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    timer_deadline_.reset();
    EndOfTurn();
  });
}

}  // namespace sim::mdt
