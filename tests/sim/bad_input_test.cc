// Hostile input: bytes that are not messages, lying headers, unknown types,
// unknown FIDs and paths, clients that give up halfway. Each time the
// daemon answers with a precise error status and goes on serving: a
// concurrent copytool's archive still completes. The library's KUC reader
// gets the same treatment from a fake MDT (tests/support/fake_mdt.h).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/unique_fd.h"
#include "hsm/hal.h"
#include "hsm/lustreapi.h"
#include "sim/wire/messages.h"
#include "sim/wire/packet.h"
#include "tests/sim/hsm_test_util.h"
#include "tests/support/fake_mdt.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

using common::UniqueFd;
using sim::wire::MsgHeader;
using sim::wire::MsgType;

constexpr lu_fid kUnknownFid = {0x200000401, 0x7777, 0x0};

MsgHeader Header(MsgType type, uint32_t seq, uint32_t payload_len) {
  MsgHeader h{};
  h.magic = sim::wire::kMagic;
  h.version = sim::wire::kVersion;
  h.type = static_cast<uint16_t>(type);
  h.seq = seq;
  h.payload_len = payload_len;
  return h;
}

template <typename T>
std::string Bytes(const T& value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof(value));
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.StartDaemon());
    ASSERT_NE(sim_.StartCopytool(), nullptr);
  }

  UniqueFd Connect() {
    const int fd = sim::wire::ConnectSeqPacket(sim_.Path(".lustre/mdt.sock"));
    EXPECT_GE(fd, 0) << strerror(-fd);
    return UniqueFd(fd);
  }

  // Sends `bytes` as one packet and returns the reply's status; fails the
  // test if no well-formed reply comes within 10 s.
  int32_t SendAndGetStatus(int sock, const std::string& bytes) {
    EXPECT_EQ(sim::wire::SendRaw(sock, bytes), 0);
    pollfd p{sock, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) {
      ADD_FAILURE() << "no reply within 10 s";
      return 0;
    }
    sim::wire::Packet reply;
    std::string error;
    const int rc = sim::wire::RecvPacket(sock, &reply, &error);
    EXPECT_EQ(rc, 0) << error;
    EXPECT_EQ(reply.type(), MsgType::kReply);
    return reply.header.status;
  }

  // A valid request on `sock` still gets a good reply.
  void ExpectConnectionUsable(int sock) {
    EXPECT_EQ(SendAndGetStatus(sock, Bytes(Header(MsgType::kListParam, 99, 0))),
              0);
  }

  // Another client's work goes on: a fresh file is archived by the
  // copytool.
  void ExpectDaemonServes() {
    const std::string file = sim_.Path("probe" + std::to_string(++probes_));
    ASSERT_TRUE(WriteTestFile(file, 300000, probes_));
    CommandResult r = sim_.Lfs({"hsm_archive", file});
    ASSERT_TRUE(r.ok()) << r.Describe();
    EXPECT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "SUCCEED"));
  }

  SimMount sim_;
  int probes_ = 0;
};

TEST_F(BadInputTest, GarbageBytesGetEproto) {
  UniqueFd sock = Connect();
  EXPECT_EQ(SendAndGetStatus(sock.get(), "this is not a message at all!!"),
            -EPROTO);
  ExpectConnectionUsable(sock.get());
  ExpectDaemonServes();
}

TEST_F(BadInputTest, ShortHeaderGetsEproto) {
  UniqueFd sock = Connect();
  const std::string header = Bytes(Header(MsgType::kListParam, 1, 0));
  EXPECT_EQ(SendAndGetStatus(sock.get(), header.substr(0, 10)), -EPROTO);
  ExpectConnectionUsable(sock.get());
  ExpectDaemonServes();
}

TEST_F(BadInputTest, PayloadLenLongerThanThePacketGetsEproto) {
  UniqueFd sock = Connect();
  EXPECT_EQ(
      SendAndGetStatus(sock.get(), Bytes(Header(MsgType::kGetParam, 1, 100)) +
                                       "hsm.actions"),
      -EPROTO);
  ExpectConnectionUsable(sock.get());
  ExpectDaemonServes();
}

TEST_F(BadInputTest, PayloadLenShorterThanThePacketGetsEproto) {
  UniqueFd sock = Connect();
  EXPECT_EQ(
      SendAndGetStatus(sock.get(), Bytes(Header(MsgType::kListParam, 1, 0)) +
                                       std::string(64, 'x')),
      -EPROTO);
  ExpectConnectionUsable(sock.get());
  ExpectDaemonServes();
}

TEST_F(BadInputTest, OversizedPacketGetsE2big) {
  UniqueFd sock = Connect();
  const uint32_t len = sim::wire::kMaxMessage + 1000;
  EXPECT_EQ(
      SendAndGetStatus(sock.get(), Bytes(Header(MsgType::kGetParam, 1, len)) +
                                       std::string(len, 'a')),
      -E2BIG);
  ExpectConnectionUsable(sock.get());
  ExpectDaemonServes();
}

TEST_F(BadInputTest, BadMagicAndVersionGetEproto) {
  UniqueFd sock = Connect();
  MsgHeader h = Header(MsgType::kListParam, 1, 0);
  h.magic = 0xdeadbeef;
  EXPECT_EQ(SendAndGetStatus(sock.get(), Bytes(h)), -EPROTO);
  h = Header(MsgType::kListParam, 1, 0);
  h.version = 77;
  EXPECT_EQ(SendAndGetStatus(sock.get(), Bytes(h)), -EPROTO);
  ExpectConnectionUsable(sock.get());
  ExpectDaemonServes();
}

TEST_F(BadInputTest, UnknownMessageTypeIsRejected) {
  UniqueFd sock = Connect();
  EXPECT_EQ(SendAndGetStatus(sock.get(),
                             Bytes(Header(static_cast<MsgType>(999), 1, 0))),
            -EPROTO);
  ExpectConnectionUsable(sock.get());
  ExpectDaemonServes();
}

TEST_F(BadInputTest, RequestWithTheWrongPayloadSizeGetsEproto) {
  UniqueFd sock = Connect();
  // kFid2Path takes a Fid2PathReq (32 bytes); send 3.
  EXPECT_EQ(SendAndGetStatus(sock.get(),
                             Bytes(Header(MsgType::kFid2Path, 1, 3)) + "abc"),
            -EPROTO);
  // kHsmRequest whose item count does not match its length.
  hsm_request hr{};
  hr.hr_action = HUA_ARCHIVE;
  hr.hr_itemcount = 5;
  EXPECT_EQ(SendAndGetStatus(
                sock.get(),
                Bytes(Header(MsgType::kHsmRequest, 2, sizeof(hr))) + Bytes(hr)),
            -EPROTO);
  ExpectConnectionUsable(sock.get());
  ExpectDaemonServes();
}

TEST_F(BadInputTest, UnknownFidIsEnoent) {
  UniqueFd sock = Connect();
  sim::wire::Fid2PathReq req{};
  req.fid = kUnknownFid;
  EXPECT_EQ(SendAndGetStatus(
                sock.get(),
                Bytes(Header(MsgType::kFid2Path, 1, sizeof(req))) + Bytes(req)),
            -ENOENT);
  char path[PATH_MAX];
  long long recno = -1;
  int linkno = 0;
  EXPECT_EQ(llapi_fid2path(sim_.mount().c_str(), "[0x200000401:0x7777:0x0]",
                           path, sizeof(path), &recno, &linkno),
            -ENOENT);
  hsm_user_state hus{};
  EXPECT_EQ(llapi_hsm_state_get(
                sim_.Path(".lustre/fid/0x200000401:0x7777:0x0").c_str(), &hus),
            -ENOENT);
  // An archive request for it.
  hsm_user_request* hur = llapi_hsm_user_request_alloc(1, 0);
  hur->hur_request.hr_action = HUA_ARCHIVE;
  hur->hur_request.hr_itemcount = 1;
  hur->hur_user_item[0].hui_fid = kUnknownFid;
  hur->hur_user_item[0].hui_extent = {0, LUSTRE_EOF};
  EXPECT_EQ(llapi_hsm_request(sim_.mount().c_str(), hur), -ENOENT);
  free(hur);
  ExpectConnectionUsable(sock.get());
  ExpectDaemonServes();
}

TEST_F(BadInputTest, PathOutsideTheMountIsAnError) {
  TempDir outside("not-lustre");
  const std::string file = outside.Join("x");
  ASSERT_TRUE(WriteTestFile(file, 10, 1));
  lu_fid fid{};
  EXPECT_LT(llapi_path2fid(file.c_str(), &fid), 0);
  hsm_user_state hus{};
  EXPECT_LT(llapi_hsm_state_get(file.c_str(), &hus), 0);
  CommandResult r = sim_.Lfs({"hsm_archive", file});
  EXPECT_FALSE(r.ok()) << r.Describe();
  ExpectDaemonServes();
}

TEST_F(BadInputTest, ClientThatSendsHalfARequestAndLeavesIsForgotten) {
  {
    UniqueFd sock = Connect();
    hsm_request hr{};
    hr.hr_action = HUA_ARCHIVE;
    hr.hr_itemcount = 1;
    const std::string whole = Bytes(Header(MsgType::kHsmRequest, 1, 56)) +
                              Bytes(hr) + std::string(32, '\0');
    ASSERT_EQ(sim::wire::SendRaw(sock.get(), whole.substr(0, whole.size() / 2)),
              0);
  }  // closed without reading the reply
  {
    UniqueFd sock = Connect();
    ASSERT_EQ(shutdown(sock.get(), SHUT_WR), 0);  // nothing at all, then EOF
  }
  ExpectDaemonServes();
}

TEST_F(BadInputTest, ManyClientsOfGarbageAtOnceDoNotStopTheDaemon) {
  std::vector<UniqueFd> socks;
  for (int i = 0; i < 32; ++i) {
    socks.push_back(Connect());
    ASSERT_EQ(
        sim::wire::SendRaw(socks.back().get(), std::string(i + 1, '\xff')), 0);
  }
  socks.clear();
  ExpectDaemonServes();
}

std::string KucHeader(uint8_t transport, uint16_t type, uint16_t len) {
  kuc_hdr h{};
  h.kuc_magic = KUC_MAGIC;
  h.kuc_transport = transport;
  h.kuc_msgtype = type;
  h.kuc_msglen = len;
  return Bytes(h);
}

class KucStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("LUSTRE_SIM_TIMEOUT", "1", 1);
    ASSERT_TRUE(mdt_.ok());
    ASSERT_EQ(
        llapi_hsm_copytool_register(&ct_, mdt_.mount().c_str(), 0, nullptr, 0),
        0);
  }
  void TearDown() override {
    if (ct_ != nullptr) llapi_hsm_copytool_unregister(&ct_);
  }

  // Sends `bytes` from the MDT side and returns what recv makes of them.
  int Receive(const std::string& bytes, int* msgsize = nullptr) {
    EXPECT_EQ(mdt_.SendKuc(bytes), 0);
    hsm_action_list* hal = nullptr;
    int size = -1;
    const int rc = llapi_hsm_copytool_recv(ct_, &hal, &size);
    if (msgsize != nullptr) *msgsize = size;
    if (rc < 0) {
      EXPECT_EQ(hal, nullptr);
      EXPECT_EQ(size, 0);
    }
    return rc;
  }

  std::string ValidMessage() {
    hsm::HalBuilder hal("lustre", 1, 0);
    hsm_action_item hai{};
    hai.hai_action = HSMA_ARCHIVE;
    hai.hai_fid = {0x200000401, 1, 0};
    hai.hai_dfid = hai.hai_fid;
    hai.hai_extent = {0, LUSTRE_EOF};
    hai.hai_cookie = 42;
    hal.Add(hai, "");
    return hal.KucMessage();
  }

  FakeMdt mdt_;
  hsm_copytool_private* ct_ = nullptr;
};

TEST_F(KucStreamTest, ValidActionListIsReceived) {
  int msgsize = 0;
  const std::string msg = ValidMessage();
  EXPECT_EQ(Receive(msg, &msgsize), 0);
  EXPECT_EQ(msgsize, static_cast<int>(msg.size() - sizeof(kuc_hdr)));
}

TEST_F(KucStreamTest, BadMagicIsEproto) {
  std::string msg = ValidMessage();
  msg[0] ^= 0x55;
  EXPECT_EQ(Receive(msg), -EPROTO);
  EXPECT_EQ(Receive(ValidMessage()), 0);  // the stream goes on
}

TEST_F(KucStreamTest, MessageShorterThanItsHeaderIsEproto) {
  EXPECT_EQ(Receive(std::string("\x1c\x19\x02", 3)), -EPROTO);
  EXPECT_EQ(Receive(KucHeader(KUC_TRANSPORT_HSM, HMT_ACTION_LIST, 4)), -EPROTO);
}

TEST_F(KucStreamTest, LengthThatDisagreesWithThePacketIsEproto) {
  std::string msg = ValidMessage();
  msg.resize(msg.size() - 8);  // kuc_msglen still counts those bytes
  EXPECT_EQ(Receive(msg), -EPROTO);
}

TEST_F(KucStreamTest, UnknownHsmMessageTypeIsEproto) {
  std::string msg = ValidMessage();
  msg.replace(
      0, sizeof(kuc_hdr),
      KucHeader(KUC_TRANSPORT_HSM, 77, static_cast<uint16_t>(msg.size())));
  EXPECT_EQ(Receive(msg), -EPROTO);
}

TEST_F(KucStreamTest, ActionListShorterThanItsHeaderIsEproto) {
  EXPECT_EQ(Receive(KucHeader(KUC_TRANSPORT_HSM, HMT_ACTION_LIST, 16) +
                    std::string(8, '\0')),
            -EPROTO);
}

TEST_F(KucStreamTest, ItemOverrunningTheListIsEproto) {
  std::string msg = ValidMessage();
  const size_t hai_len_at =
      sizeof(kuc_hdr) + 40;  // first item, fsname "lustre"
  const uint32_t huge = 4000;
  std::memcpy(&msg[hai_len_at], &huge, sizeof(huge));
  EXPECT_EQ(Receive(msg), -EPROTO);
}

TEST_F(KucStreamTest, OtherTransportsAreSkipped) {
  EXPECT_EQ(mdt_.SendKuc(KucHeader(7, 1, 8)), 0);
  int msgsize = 0;
  EXPECT_EQ(Receive(ValidMessage(), &msgsize), 0);
  EXPECT_GT(msgsize, 0);
}

TEST_F(KucStreamTest, ShutdownMessageIsEshutdown) {
  EXPECT_EQ(Receive(hsm::KucShutdownMessage()), -ESHUTDOWN);
}

}  // namespace
}  // namespace testing_support
