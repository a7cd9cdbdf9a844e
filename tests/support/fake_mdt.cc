#include "tests/support/fake_mdt.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include "sim/wire/packet.h"
#include "tests/support/wait_for.h"

namespace testing_support {

using sim::wire::MsgType;

FakeMdt::FakeMdt() : dir_("fake-mdt") {
  mkdir(dir_.Join(".lustre").c_str(), 0755);
  mkdir(dir_.Join(".lustre/fid").c_str(), 0755);
  if (FILE* f = std::fopen(dir_.Join(".lustre/fsname").c_str(), "w")) {
    std::fputs("lustre\n", f);
    std::fclose(f);
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) < 0) return;
  stop_read_.Reset(pipe_fds[0]);
  stop_write_.Reset(pipe_fds[1]);
  listen_.Reset(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s",
                dir_.Join(".lustre/mdt.sock").c_str());
  ok_ = listen_.valid() &&
        bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ==
            0 &&
        listen(listen_.get(), 16) == 0;
  if (ok_) server_ = std::thread([this] { Serve(); });
}

FakeMdt::~FakeMdt() {
  if (server_.joinable()) {
    const char byte = 1;
    if (write(stop_write_.get(), &byte, 1) == 1)
      server_.join();
    else
      server_.detach();
  }
}

bool FakeMdt::WaitForRegistrations(size_t n,
                                   std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        std::lock_guard lock(mu_);
        return registrations_ >= n;
      },
      timeout);
}

int FakeMdt::SendKuc(const std::string& bytes) {
  std::lock_guard lock(mu_);
  if (latest_kuc_ < 0) return -ENOTCONN;
  return sim::wire::SendRaw(conns_[latest_kuc_].get(), bytes);
}

std::vector<FakeMdt::Request> FakeMdt::Requests() {
  std::lock_guard lock(mu_);
  return requests_;
}

void FakeMdt::Serve() {
  for (;;) {
    std::vector<pollfd> fds = {{stop_read_.get(), POLLIN, 0},
                               {listen_.get(), POLLIN, 0}};
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < conns_.size(); ++i) {
        // KUC channels are only written to; a closed one shows as POLLHUP.
        fds.push_back({conns_[i].get(), POLLIN, 0});
      }
    }
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents != 0) {
      common::UniqueFd conn(
          accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      std::lock_guard lock(mu_);
      if (conn) {
        conns_.push_back(std::move(conn));
        is_kuc_.push_back(false);
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents != 0 && fds[i].fd >= 0) HandleOne(i - 2);
    }
  }
}

bool FakeMdt::HandleOne(size_t i) {
  std::lock_guard lock(mu_);
  sim::wire::Packet packet;
  std::string error;
  const int rc = sim::wire::RecvPacket(conns_[i].get(), &packet, &error);
  if (rc == -EAGAIN) return true;
  if (rc < 0) {
    // Closed (or garbage): keep the slot so indices stay valid, but stop
    // polling it.
    if (static_cast<int>(i) == latest_kuc_) latest_kuc_ = -1;
    conns_[i].Reset(-1);
    return false;
  }
  requests_.push_back({packet.type(), packet.payload});
  sim::wire::SendPacket(conns_[i].get(), MsgType::kReply, packet.header.seq, 0,
                        "");
  if (packet.type() == MsgType::kRegister) {
    is_kuc_[i] = true;
    latest_kuc_ = static_cast<int>(i);
    ++registrations_;
  }
  return true;
}

}  // namespace testing_support
