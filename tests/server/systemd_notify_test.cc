// Issue 13: under systemd (Type=notify) the server says READY=1 only once
// it serves: the store recovered and the port listening; STOPPING=1 on
// SIGTERM; nothing when it fails to start. systemd's side is played by a
// datagram socket named by NOTIFY_SOCKET, as sd_notify(3) documents it.
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

class SystemdNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_path_ = dir_.path() + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0) << strerror(errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(socket_path_.size(), sizeof(addr.sun_path));
    std::strcpy(addr.sun_path, socket_path_.c_str());
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
        << strerror(errno);
    // The servers this test starts inherit it.
    setenv("NOTIFY_SOCKET", socket_path_.c_str(), 1);
    ASSERT_TRUE(sim_.StartDaemon());
  }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    if (fd_ >= 0) close(fd_);
  }

  // The next notification, waiting up to `timeout`; "" if none came.
  std::string Receive(std::chrono::milliseconds timeout = kWaitTimeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buffer[4096];
    ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, n) : "";
  }

  TempDir dir_{"notify"};
  std::string socket_path_;
  int fd_ = -1;
  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
};

TEST_F(SystemdNotifyTest, ReadyOnceRecoveredAndListeningStoppingOnSigterm) {
  ASSERT_TRUE(cdt_.StartServer());
  std::string ready = Receive();
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  EXPECT_NE(ready.find("STATUS=serving " + sim_.mount() +
                       " on 127.0.0.1:" + std::to_string(cdt_.port())),
            std::string::npos)
      << ready;

  // Work waiting in the server's store (no mover takes it), then a restart:
  // READY comes with all of it recovered and the port answering.
  std::vector<std::string> files;
  for (int i = 0; i < 20; ++i) {
    files.push_back(sim_.Path("f" + std::to_string(i)));
    ASSERT_TRUE(WriteTestFile(files.back(), 100, i).has_value());
  }
  RunLfs(sim_, "hsm_archive", files);
  ASSERT_TRUE(WaitFor([&] { return cdt_.Counter("pending_archive") == 20; }))
      << cdt_.Logs();
  ASSERT_EQ(cdt_.server().Signal(SIGTERM), 0);
  std::string stopping = Receive();
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos) << stopping;
  ASSERT_TRUE(cdt_.server().Wait(kWaitTimeout).has_value());

  ASSERT_TRUE(cdt_.StartServer());
  ready = Receive();
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  EXPECT_EQ(cdt_.Counter("pending_archive"), 20) << cdt_.Logs();
}

TEST_F(SystemdNotifyTest, NoReadyWhenTheServerCannotStart) {
  ASSERT_TRUE(cdt_.StartServer());
  ASSERT_NE(Receive().find("READY=1"), std::string::npos);
  // A second server on the same port and mount fails to start.
  std::string log = dir_.path() + "/second.log";
  SpawnOptions options;
  options.stdout_path = options.stderr_path = log;
  options.env = {{"COORDINATOOL_REDIS_HOST", ""},
                 {"COORDINATOOL_CONF", "/dev/null"}};
  std::string error;
  Process second =
      Process::Spawn({CoordinatoolBinary(), "-H", "127.0.0.1", "-p",
                      std::to_string(cdt_.port()), "--state-dir",
                      dir_.path() + "/state2", sim_.mount()},
                     options, &error);
  ASSERT_GT(second.pid(), 0) << error;
  std::optional<int> status = second.Wait(kWaitTimeout);
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  // It exited: anything it sent is already queued on the socket.
  EXPECT_EQ(Receive(std::chrono::milliseconds(0)), "");
}

}  // namespace
}  // namespace testing_support
