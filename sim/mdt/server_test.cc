#include "sim/mdt/server.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

#include "sim/mdt/test_util.h"
#include "sim/wire/packet.h"

namespace sim::mdt {
namespace {

// A real daemon loop on a temp mount, driven over its socket: every bad
// input gets an error reply and the daemon keeps serving.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.mount = dir_.path() + "/mnt";
    options.settings = {"hsm.max_requests=7"};
    server_ = std::make_unique<Server>(&io_, options);
    ASSERT_EQ(server_->Start(), "");
    thread_ = std::thread([this] { io_.run(); });
    sock_ = wire::ConnectSeqPacket(options.mount + "/.lustre/mdt.sock");
    ASSERT_GE(sock_, 0);
  }
  void TearDown() override {
    if (sock_ >= 0) close(sock_);
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  wire::Packet Call(wire::MsgType type, std::string_view payload, int fd = -1) {
    EXPECT_EQ(wire::SendPacket(sock_, type, ++seq_, 0, payload, fd), 0);
    return Receive();
  }
  wire::Packet Receive() {
    wire::Packet reply;
    std::string error;
    EXPECT_EQ(wire::RecvPacket(sock_, &reply, &error), 0) << error;
    return reply;
  }

  testing::TempDir dir_;
  boost::asio::io_context io_{1};
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int sock_ = -1;
  uint32_t seq_ = 0;
};

TEST_F(ServerTest, GarbageGetsAnErrorReplyAndTheDaemonServesOn) {
  ASSERT_EQ(wire::SendRaw(sock_, "garbage"), 0);
  wire::Packet reply = Receive();
  EXPECT_EQ(reply.type(), wire::MsgType::kReply);
  EXPECT_EQ(reply.header.status, -EPROTO);

  reply = Call(static_cast<wire::MsgType>(999), "");
  EXPECT_EQ(reply.header.status, -EPROTO);
  EXPECT_EQ(reply.header.seq, seq_);

  reply = Call(wire::MsgType::kFd2Fid, "");  // no descriptor
  EXPECT_EQ(reply.header.status, -EBADF);

  reply = Call(wire::MsgType::kRelease, "short");
  EXPECT_EQ(reply.header.status, -EPROTO);

  reply = Call(wire::MsgType::kGetParam, "mdt.lustre-MDT0000.hsm.max_requests");
  EXPECT_EQ(reply.header.status, 0);
  EXPECT_EQ(reply.payload, "7\n");

  reply = Call(wire::MsgType::kSetParam, "mdt.*.hsm.max_requests=0");
  EXPECT_EQ(reply.header.status, -EINVAL);
  reply = Call(wire::MsgType::kGetParam, "mdt.*.hsm.nothing");
  EXPECT_EQ(reply.header.status, -ENOENT);
}

TEST_F(ServerTest, FileCallsNameFilesByDescriptor) {
  testing::WriteFile(dir_.path() + "/mnt/f", "abc");
  int fd = open((dir_.path() + "/mnt/f").c_str(), O_RDONLY);
  wire::Packet reply = Call(wire::MsgType::kFd2Fid, "", fd);
  close(fd);
  ASSERT_EQ(reply.header.status, 0);
  ASSERT_EQ(reply.payload.size(), sizeof(lu_fid));
  lu_fid fid;
  memcpy(&fid, reply.payload.data(), sizeof(fid));
  EXPECT_EQ(hsm::FormatFid(fid), "[0x200000401:0x1:0x0]");
  wire::Fid2PathReq req{fid, 0, 0, 0};
  reply =
      Call(wire::MsgType::kFid2Path,
           std::string_view(reinterpret_cast<const char*>(&req), sizeof(req)));
  EXPECT_EQ(reply.header.status, 0);
  EXPECT_EQ(reply.payload, "f");

  testing::WriteFile(dir_.path() + "/outside", "x");
  fd = open((dir_.path() + "/outside").c_str(), O_RDONLY);
  reply = Call(wire::MsgType::kStateGet, "", fd);
  close(fd);
  EXPECT_EQ(reply.header.status, -ENOTTY);
}

}  // namespace
}  // namespace sim::mdt
