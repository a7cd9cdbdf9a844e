// The library against a scripted stand-in for sim-mdt that speaks the wire
// protocol (sim/wire/messages.h): descriptor passing, concurrent RPCs over
// the connection pool, registration and the KUC channel, re-registration
// on the same descriptor after a daemon restart, and the copy actions.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hsm/hal.h"
#include "sim/llapi/test_util.h"
#include "sim/wire/packet.h"

namespace {

using sim::llapi::testing::FakeMount;
using sim::llapi::testing::ScopedEnv;
using sim::wire::MsgType;
using sim::wire::Packet;

// Listens on MOUNT/.lustre/mdt.sock and calls `handler` for each request on
// a thread per connection. The handler returns the reply payload and
// status; after a kRegister reply `after_register` runs on the connection
// (given to the constructor: a connection may be served as soon as it
// returns, ThreadSanitizer saw it assigned after).
class FakeDaemon {
 public:
  struct Reply {
    int status = 0;
    std::string payload;
  };
  using Handler = std::function<Reply(const Packet&)>;

  FakeDaemon(const std::string& root, Handler handler,
             std::function<void(int conn)> after_register = {})
      : path_(root + "/.lustre/mdt.sock"),
        handler_(std::move(handler)),
        after_register_(std::move(after_register)) {
    listen_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    unlink(path_.c_str());
    EXPECT_EQ(bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              0);
    EXPECT_EQ(listen(listen_, 64), 0);
    EXPECT_EQ(pipe2(stop_, O_CLOEXEC), 0);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~FakeDaemon() { Stop(); }

  // Closes every connection and the socket, as a dying daemon does.
  void Stop() {
    if (stopped_.exchange(true)) return;
    write(stop_[1], "x", 1);
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : conns_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    for (int fd : conns_) close(fd);
    close(listen_);
    close(stop_[0]);
    close(stop_[1]);
    unlink(path_.c_str());
  }

  std::atomic<int> max_in_flight{0};

 private:
  void AcceptLoop() {
    for (;;) {
      pollfd fds[2] = {{listen_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      poll(fds, 2, -1);
      if (fds[1].revents) return;
      int conn = accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      std::lock_guard lock(mu_);
      conns_.push_back(conn);
      workers_.emplace_back([this, conn] { Serve(conn); });
    }
  }

  void Serve(int conn) {
    for (;;) {
      Packet packet;
      std::string error;
      if (sim::wire::RecvPacket(conn, &packet, &error) != 0) return;
      int now = ++in_flight_;
      int seen = max_in_flight.load();
      while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
      }
      Reply reply = handler_(packet);
      --in_flight_;
      sim::wire::SendPacket(conn, MsgType::kReply, packet.header.seq,
                            reply.status, reply.payload);
      if (packet.type() == MsgType::kRegister && reply.status == 0 &&
          after_register_)
        after_register_(conn);
    }
  }

  std::string path_;
  Handler handler_;
  const std::function<void(int conn)> after_register_;
  int listen_ = -1;
  int stop_[2] = {-1, -1};
  std::atomic<bool> stopped_{false};
  std::atomic<int> in_flight_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
};

template <class T>
std::string Bytes(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(v));
}

lu_fid FidOfFd(int fd) {
  struct stat st;
  fstat(fd, &st);
  return lu_fid{0x200000401, static_cast<uint32_t>(st.st_ino), 0};
}

class FakeDaemonTest : public ::testing::Test {
 protected:
  ScopedEnv timeout_{"LUSTRE_SIM_TIMEOUT", "5"};
  FakeMount mount_;
};

TEST_F(FakeDaemonTest, Path2fidSendsTheFilesDescriptor) {
  FakeDaemon daemon(mount_.path(), [](const Packet& p) {
    FakeDaemon::Reply r;
    if (p.type() != MsgType::kFd2Fid || !p.fd.valid()) {
      r.status = -EPROTO;
      return r;
    }
    r.payload = Bytes(FidOfFd(p.fd.get()));
    return r;
  });
  std::string file = mount_.path() + "/f";
  std::ofstream(file) << "x";
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  lu_fid fid{};
  ASSERT_EQ(llapi_path2fid(file.c_str(), &fid), 0);
  EXPECT_EQ(fid.f_seq, 0x200000401u);
  EXPECT_EQ(fid.f_oid, static_cast<uint32_t>(st.st_ino));
}

TEST_F(FakeDaemonTest, DaemonErrorsAreReturnedAsIs) {
  FakeDaemon daemon(mount_.path(), [](const Packet&) {
    return FakeDaemon::Reply{-ENOENT, ""};
  });
  char path[64];
  EXPECT_EQ(llapi_fid2path(mount_.path().c_str(), "[0x200000401:0x9:0x0]", path,
                           sizeof(path), nullptr, nullptr),
            -ENOENT);
}

TEST_F(FakeDaemonTest, ConcurrentCallsUseSeveralConnections) {
  FakeDaemon daemon(mount_.path(), [](const Packet&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    hsm_user_state hus{};
    hus.hus_states = HS_EXISTS | HS_ARCHIVED;
    hus.hus_archive_id = 3;
    hus.hus_in_progress_state = 99;  // the library zeroes this
    return FakeDaemon::Reply{0, Bytes(hus)};
  });
  std::string file = mount_.path() + "/f";
  std::ofstream(file) << "x";
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        hsm_user_state hus{};
        if (llapi_hsm_state_get(file.c_str(), &hus) != 0 ||
            hus.hus_states != (HS_EXISTS | HS_ARCHIVED) ||
            hus.hus_archive_id != 3 || hus.hus_in_progress_state != 0)
          ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(daemon.max_in_flight.load(), 1);
}

TEST_F(FakeDaemonTest, CallsWaitForADaemonThatStartsLate) {
  std::string file = mount_.path() + "/f";
  std::ofstream(file) << "x";
  std::unique_ptr<FakeDaemon> daemon;
  std::thread starter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    daemon = std::make_unique<FakeDaemon>(mount_.path(), [](const Packet& p) {
      return FakeDaemon::Reply{0, Bytes(FidOfFd(p.fd.get()))};
    });
  });
  lu_fid fid{};
  EXPECT_EQ(llapi_path2fid(file.c_str(), &fid), 0);
  starter.join();
}

std::string HalFor(uint32_t archive, uint64_t cookie) {
  hsm::HalBuilder builder("testfs", archive, 0);
  hsm_action_item hai{};
  hai.hai_action = HSMA_ARCHIVE;
  hai.hai_fid = {0x200000401, 1, 0};
  hai.hai_dfid = hai.hai_fid;
  hai.hai_cookie = cookie;
  builder.Add(hai, "");
  return builder.KucMessage();
}

uint64_t FirstCookie(hsm_action_list* hal) {
  hsm_action_item hai;
  memcpy(&hai, hai_first(hal), sizeof(hai));
  return hai.hai_cookie;
}

TEST_F(FakeDaemonTest, RegisterSendsUuidArchivesAndReceivesOnTheChannel) {
  ScopedEnv uuid("LUSTRE_SIM_CLIENT_UUID", "agent-one");
  std::mutex mu;
  sim::wire::RegisterReq seen{};
  std::vector<uint32_t> archives;
  FakeDaemon daemon(
      mount_.path(),
      [&](const Packet& p) {
        if (p.type() == MsgType::kRegister) {
          std::lock_guard lock(mu);
          memcpy(&seen, p.payload.data(), sizeof(seen));
          archives.resize(seen.archive_count);
          memcpy(archives.data(), p.payload.data() + sizeof(seen),
                 archives.size() * 4);
        }
        return FakeDaemon::Reply{};
      },
      [](int conn) { sim::wire::SendRaw(conn, HalFor(2, 77)); });
  hsm_copytool_private* ct = nullptr;
  int ids[] = {2, 5};
  ASSERT_EQ(llapi_hsm_copytool_register(&ct, mount_.path().c_str(), 2, ids, 0),
            0);
  {
    std::lock_guard lock(mu);
    EXPECT_STREQ(seen.uuid, "agent-one");
    EXPECT_EQ(seen.pid, static_cast<uint32_t>(getpid()));
    EXPECT_EQ(archives, (std::vector<uint32_t>{2, 5}));
  }
  hsm_action_list* hal = nullptr;
  int msgsize = 0;
  ASSERT_EQ(llapi_hsm_copytool_recv(ct, &hal, &msgsize), 0);
  EXPECT_EQ(FirstCookie(hal), 77u);
  int fd = llapi_hsm_copytool_get_fd(ct);
  EXPECT_GE(fd, 0);
  EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_EQ(llapi_hsm_copytool_unregister(&ct), 0);
}

TEST_F(FakeDaemonTest, RecvReRegistersOnTheSameFdAfterARestart) {
  std::atomic<int> registrations{0};
  std::vector<std::string> uuids;
  std::mutex mu;
  auto handler = [&](const Packet& p) {
    if (p.type() == MsgType::kRegister) {
      sim::wire::RegisterReq req;
      memcpy(&req, p.payload.data(), sizeof(req));
      std::lock_guard lock(mu);
      uuids.push_back(req.uuid);
      ++registrations;
    }
    return FakeDaemon::Reply{};
  };
  auto daemon = std::make_unique<FakeDaemon>(mount_.path(), handler);
  hsm_copytool_private* ct = nullptr;
  ASSERT_EQ(
      llapi_hsm_copytool_register(&ct, mount_.path().c_str(), 0, nullptr, 0),
      0);
  int fd = llapi_hsm_copytool_get_fd(ct);
  daemon->Stop();  // the copytool's channel sees end of stream
  std::thread restart([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    daemon = std::make_unique<FakeDaemon>(mount_.path(), handler, [](int conn) {
      sim::wire::SendRaw(conn, HalFor(1, 1234));
    });
  });
  hsm_action_list* hal = nullptr;
  int msgsize = 0;
  int rc = llapi_hsm_copytool_recv(ct, &hal, &msgsize);
  restart.join();
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(FirstCookie(hal), 1234u);
  EXPECT_EQ(llapi_hsm_copytool_get_fd(ct), fd);
  EXPECT_EQ(registrations.load(), 2);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(uuids.size(), 2u);
    EXPECT_EQ(uuids[0], uuids[1]);
    EXPECT_EQ(uuids[0].size(), 36u);  // generated in Lustre's uuid form
  }
  EXPECT_EQ(llapi_hsm_copytool_unregister(&ct), 0);
}

struct Recorded {
  std::mutex mu;
  std::vector<MsgType> types;
  std::vector<sim::wire::CopyReq> copies;
  std::string volatile_data;
};

TEST_F(FakeDaemonTest, ArchiveBeginSamplesVersionAndEndReturnsDaemonStatus) {
  Recorded rec;
  FakeDaemon daemon(mount_.path(), [&](const Packet& p) {
    std::lock_guard lock(rec.mu);
    rec.types.push_back(p.type());
    FakeDaemon::Reply r;
    if (p.type() == MsgType::kDataVersion) r.payload = Bytes(uint64_t{7});
    if (p.type() == MsgType::kCopyStart || p.type() == MsgType::kCopyEnd) {
      sim::wire::CopyReq req;
      memcpy(&req, p.payload.data(), sizeof(req));
      rec.copies.push_back(req);
    }
    if (p.type() == MsgType::kCopyEnd) r.status = -EBUSY;
    return r;
  });
  hsm_copytool_private* ct = nullptr;
  ASSERT_EQ(
      llapi_hsm_copytool_register(&ct, mount_.path().c_str(), 0, nullptr, 0),
      0);
  std::ofstream(mount_.path() + "/.lustre/fid/0x200000401:0x1:0x0")
      << "payload";
  hsm_action_item hai{};
  hai.hai_len = 80;
  hai.hai_action = HSMA_ARCHIVE;
  hai.hai_fid = {0x200000401, 1, 0};
  hai.hai_dfid = hai.hai_fid;
  hai.hai_cookie = 55;
  hsm_copyaction_private* hcp = nullptr;
  ASSERT_EQ(llapi_hsm_action_begin(&hcp, ct, &hai, -1, 0, false), 0);
  int fd = llapi_hsm_action_get_fd(hcp);
  ASSERT_GE(fd, 0);
  char buf[16] = {};
  EXPECT_EQ(read(fd, buf, sizeof(buf)), 7);
  close(fd);
  lu_fid dfid;
  EXPECT_EQ(llapi_hsm_action_get_dfid(hcp, &dfid), 0);
  hsm_extent he{0, 7};
  EXPECT_EQ(llapi_hsm_action_progress(hcp, &he, 7, 0), 0);
  EXPECT_EQ(llapi_hsm_action_end(&hcp, &he, 0, 0), -EBUSY);
  EXPECT_EQ(hcp, nullptr);
  std::lock_guard lock(rec.mu);
  EXPECT_EQ(rec.types,
            (std::vector<MsgType>{MsgType::kRegister, MsgType::kDataVersion,
                                  MsgType::kCopyStart, MsgType::kProgress,
                                  MsgType::kCopyEnd}));
  ASSERT_EQ(rec.copies.size(), 2u);
  EXPECT_EQ(rec.copies[0].copy.hc_data_version, 7u);
  EXPECT_EQ(rec.copies[0].copy.hc_hai.hai_len, 72u);
  EXPECT_EQ(rec.copies[0].copy.hc_hai.hai_cookie, 55u);
  EXPECT_EQ(rec.copies[1].copy.hc_flags, HP_FLAG_COMPLETED);
  EXPECT_EQ(rec.copies[1].copy.hc_hai.hai_extent.length, 7u);
  llapi_hsm_copytool_unregister(&ct);
}

TEST_F(FakeDaemonTest, RestoreWritesAVolatileInTheParentAndHandsItOver) {
  std::filesystem::create_directories(mount_.path() + "/dir");
  std::ofstream(mount_.path() + "/dir/f") << "";
  std::filesystem::create_hard_link(
      mount_.path() + "/dir/f",
      mount_.path() + "/.lustre/fid/0x200000401:0x1:0x0");
  const lu_fid volatile_fid{0x200000401, 99, 0};
  Recorded rec;
  std::string volatile_dir;
  FakeDaemon daemon(mount_.path(), [&](const Packet& p) {
    std::lock_guard lock(rec.mu);
    rec.types.push_back(p.type());
    FakeDaemon::Reply r;
    switch (p.type()) {
      case MsgType::kFid2Path:
        r.payload = "dir//f";
        break;
      case MsgType::kFidAlloc: {
        char link[64], target[4096] = {};
        snprintf(link, sizeof(link), "/proc/self/fd/%d", p.fd.get());
        readlink(link, target, sizeof(target) - 1);
        volatile_dir = target;
        r.payload = Bytes(volatile_fid);
        break;
      }
      case MsgType::kDataVersion:
        r.payload = Bytes(uint64_t{1});
        break;
      case MsgType::kCopyEnd: {
        sim::wire::CopyReq req;
        memcpy(&req, p.payload.data(), sizeof(req));
        rec.copies.push_back(req);
        char buf[64] = {};
        if (p.fd.valid()) pread(p.fd.get(), buf, sizeof(buf) - 1, 0);
        rec.volatile_data = buf;
        break;
      }
      default:
        break;
    }
    return r;
  });
  hsm_copytool_private* ct = nullptr;
  ASSERT_EQ(
      llapi_hsm_copytool_register(&ct, mount_.path().c_str(), 0, nullptr, 0),
      0);
  hsm_action_item hai{};
  hai.hai_action = HSMA_RESTORE;
  hai.hai_fid = {0x200000401, 1, 0};
  hai.hai_dfid = hai.hai_fid;
  hai.hai_cookie = 56;
  hsm_copyaction_private* hcp = nullptr;
  ASSERT_EQ(
      llapi_hsm_action_begin(&hcp, ct, &hai, -1, O_LOV_DELAY_CREATE, false), 0);
  lu_fid dfid{};
  ASSERT_EQ(llapi_hsm_action_get_dfid(hcp, &dfid), 0);
  EXPECT_EQ(dfid.f_oid, 99u);
  int fd = llapi_hsm_action_get_fd(hcp);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(write(fd, "restored", 8), 8);
  close(fd);
  hsm_extent he{0, 8};
  ASSERT_EQ(llapi_hsm_action_end(&hcp, &he, 0, 0), 0);
  std::lock_guard lock(rec.mu);
  EXPECT_EQ(volatile_dir.rfind(mount_.path() + "/dir/", 0), 0u) << volatile_dir;
  EXPECT_EQ(rec.volatile_data, "restored");
  ASSERT_EQ(rec.copies.size(), 1u);
  EXPECT_EQ(rec.copies[0].copy.hc_hai.hai_dfid.f_oid, 99u);
  EXPECT_EQ(rec.copies[0].copy.hc_hai.hai_fid.f_oid, 99u);
  EXPECT_EQ(rec.copies[0].copy.hc_errval, 0u);
  llapi_hsm_copytool_unregister(&ct);
}

TEST_F(FakeDaemonTest, FailedRestoreSendsNoDescriptorAndAbsoluteErrval) {
  std::ofstream(mount_.path() + "/.lustre/fid/0x200000401:0x1:0x0") << "";
  std::atomic<bool> had_fd{true};
  std::atomic<int> errval{0};
  FakeDaemon daemon(mount_.path(), [&](const Packet& p) {
    FakeDaemon::Reply r;
    if (p.type() == MsgType::kFid2Path) r.status = -ENOENT;  // root fallback
    if (p.type() == MsgType::kFidAlloc)
      r.payload = Bytes(lu_fid{0x200000401, 7, 0});
    if (p.type() == MsgType::kCopyEnd) {
      had_fd = p.fd.valid();
      sim::wire::CopyReq req;
      memcpy(&req, p.payload.data(), sizeof(req));
      errval = req.copy.hc_errval;
    }
    return r;
  });
  hsm_copytool_private* ct = nullptr;
  ASSERT_EQ(
      llapi_hsm_copytool_register(&ct, mount_.path().c_str(), 0, nullptr, 0),
      0);
  hsm_action_item hai{};
  hai.hai_action = HSMA_RESTORE;
  hai.hai_fid = {0x200000401, 1, 0};
  // As the MDT sends a restore not yet begun: its data FID is the file's
  // (begin opens it).
  hai.hai_dfid = hai.hai_fid;
  hsm_copyaction_private* hcp = nullptr;
  ASSERT_EQ(llapi_hsm_action_begin(&hcp, ct, &hai, -1, 0, false), 0);
  hsm_extent he{0, 0};
  EXPECT_EQ(llapi_hsm_action_end(&hcp, &he, 0, -EIO), 0);
  EXPECT_FALSE(had_fd.load());
  EXPECT_EQ(errval.load(), EIO);
  llapi_hsm_copytool_unregister(&ct);
}

}  // namespace
