// Copytool registration checks and llapi_hsm_copytool_recv's validation of
// KUC messages (docs/lustre.md, copytool registration). Crafted packets
// reach recv through a socketpair wired into a handle with
// TEST_MakeCopytool.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "hsm/hal.h"
#include "sim/llapi/copytool_private.h"
#include "sim/llapi/test_util.h"
#include "sim/wire/packet.h"

namespace {

using sim::llapi::testing::ErrorCapture;
using sim::llapi::testing::FakeMount;
using sim::llapi::testing::ScopedEnv;
using sim::llapi::testing::TempDir;

TEST(CopytoolRegisterTest, ArchiveCountWithoutArchivesIsEinval) {
  ErrorCapture capture;
  hsm_copytool_private* ct = reinterpret_cast<hsm_copytool_private*>(1);
  EXPECT_EQ(llapi_hsm_copytool_register(&ct, "/tmp", 2, nullptr, 0), -EINVAL);
  EXPECT_EQ(ct, nullptr);
}

TEST(CopytoolRegisterTest, NegativeArchiveIsEinval) {
  ErrorCapture capture;
  hsm_copytool_private* ct = nullptr;
  int archives[] = {1, -2};
  EXPECT_EQ(llapi_hsm_copytool_register(&ct, "/tmp", 2, archives, 0), -EINVAL);
  ASSERT_EQ(ErrorCapture::messages().size(), 1u);
  EXPECT_EQ(ErrorCapture::messages()[0].text,
            "-2 requested when archive id >= 0 is supported");
}

TEST(CopytoolRegisterTest, ZeroAnywhereIsTheWildcardEvenAfterANegative) {
  // Lustre looks for a 0 first: {-1, 0} registers for all archives (and
  // fails here only on the non-Lustre directory).
  TempDir plain;
  hsm_copytool_private* ct = nullptr;
  int archives[] = {-1, 0};
  EXPECT_EQ(
      llapi_hsm_copytool_register(&ct, plain.path().c_str(), 2, archives, 0),
      -ENOENT);
}

TEST(CopytoolRegisterTest, ZeroArchiveMeansAllAndStopsTheChecks) {
  // {1, 0, -1}: the 0 switches to "all archives" before -1 is looked at,
  // so registration goes on and fails on the non-Lustre directory.
  TempDir plain;
  hsm_copytool_private* ct = nullptr;
  int archives[] = {1, 0, -1};
  EXPECT_EQ(
      llapi_hsm_copytool_register(&ct, plain.path().c_str(), 3, archives, 0),
      -ENOENT);
}

TEST(CopytoolRegisterTest, NonLustreDirectoryIsEnoent) {
  TempDir plain;
  hsm_copytool_private* ct = nullptr;
  EXPECT_EQ(
      llapi_hsm_copytool_register(&ct, plain.path().c_str(), 0, nullptr, 0),
      -ENOENT);
  EXPECT_EQ(ct, nullptr);
}

TEST(CopytoolRegisterTest, MissingMountIsEnoent) {
  hsm_copytool_private* ct = nullptr;
  EXPECT_EQ(llapi_hsm_copytool_register(&ct, "/nonexistent-mnt", 0, nullptr, 0),
            -ENOENT);
}

TEST(CopytoolRegisterTest, NoDaemonIsEnotconnAfterTheTimeout) {
  ScopedEnv timeout("LUSTRE_SIM_TIMEOUT", "0.1");
  FakeMount mount;
  hsm_copytool_private* ct = nullptr;
  EXPECT_EQ(llapi_hsm_copytool_register(&ct, mount.path().c_str(), 0, nullptr,
                                        O_NONBLOCK),
            -ENOTCONN);
  EXPECT_EQ(ct, nullptr);
}

TEST(CopytoolHandleTest, BadHandlesAreEinval) {
  EXPECT_EQ(llapi_hsm_copytool_unregister(nullptr), -EINVAL);
  hsm_copytool_private* none = nullptr;
  EXPECT_EQ(llapi_hsm_copytool_unregister(&none), -EINVAL);
  EXPECT_EQ(llapi_hsm_copytool_get_fd(nullptr), -EINVAL);
  hsm_action_list* hal = reinterpret_cast<hsm_action_list*>(1);
  int msgsize = 7;
  EXPECT_EQ(llapi_hsm_copytool_recv(nullptr, &hal, &msgsize), -EINVAL);
  EXPECT_EQ(hal, nullptr);
  EXPECT_EQ(msgsize, 0);
}

TEST(CopytoolHandleTest, ActionCallsRejectBadHandles) {
  hsm_extent he{0, 0};
  lu_fid fid;
  EXPECT_EQ(llapi_hsm_action_progress(nullptr, &he, 0, 0), -EINVAL);
  hsm_copyaction_private* hcp = nullptr;
  EXPECT_EQ(llapi_hsm_action_end(&hcp, &he, 0, 0), -EINVAL);
  EXPECT_EQ(llapi_hsm_action_end(nullptr, &he, 0, 0), -EINVAL);
  EXPECT_EQ(llapi_hsm_action_get_dfid(nullptr, &fid), -EINVAL);
  EXPECT_EQ(llapi_hsm_action_get_fd(nullptr), -EINVAL);
  hsm_action_item hai{};
  EXPECT_EQ(llapi_hsm_action_begin(&hcp, nullptr, &hai, -1, 0, false), -EINVAL);
}

// Lustre allocates the copy-action handle with calloc(), and the original
// coordinatool's preload library realloc()s the handle it gets from
// llapi_hsm_action_begin() before handing it back to the other calls. Under
// AddressSanitizer a handle from operator new fails this realloc
// (alloc-dealloc mismatch).
TEST(CopytoolHandleTest, ActionHandleSurvivesRealloc) {
  ScopedEnv timeout("LUSTRE_SIM_TIMEOUT", "0.1");
  ErrorCapture capture;
  TempDir dir;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[1]);
  hsm_copytool_private* ct =
      sim::llapi::TEST_MakeCopytool(sv[0], dir.path(), {});
  hsm_action_item hai{};
  hai.hai_len = sizeof(hai);
  hai.hai_action = HSMA_ARCHIVE;
  hai.hai_fid = {0x200000401, 7, 0};
  hai.hai_dfid = {0x200000401, 8, 0};
  hai.hai_cookie = 42;
  hsm_copyaction_private* hcp = nullptr;
  // is_error: no open and no RPC, so no daemon is needed.
  ASSERT_EQ(llapi_hsm_action_begin(&hcp, ct, &hai, -1, 0, true), 0);
  ASSERT_NE(hcp, nullptr);
  void* grown = realloc(hcp, 4 * sizeof(*hcp));
  ASSERT_NE(grown, nullptr);
  hcp = static_cast<hsm_copyaction_private*>(grown);
  // Lustre's field order: magic, source_fd, data_fd, ct_priv, copy, statx.
  EXPECT_EQ(hcp->magic, 0x19880429u);
  EXPECT_EQ(hcp->source_fd, -1);
  EXPECT_EQ(hcp->data_fd, -1);
  EXPECT_EQ(hcp->ct_priv, ct);
  hsm_copy copy;
  memcpy(&copy, reinterpret_cast<const char*>(hcp) + 24, sizeof(copy));
  EXPECT_EQ(copy.hc_hai.hai_cookie, 42u);
  EXPECT_EQ(copy.hc_hai.hai_action, static_cast<uint32_t>(HSMA_ARCHIVE));
  lu_fid dfid{};
  EXPECT_EQ(llapi_hsm_action_get_dfid(hcp, &dfid), 0);
  EXPECT_EQ(dfid.f_oid, 8u);
  hsm_extent he{0, 0};
  // No daemon behind the mount: the end RPC fails, but the handle is freed
  // (with free(), which ASan checks against the realloc above).
  EXPECT_NE(llapi_hsm_action_end(&hcp, &he, 0, 0), 0);
  EXPECT_EQ(hcp, nullptr);
  EXPECT_EQ(llapi_hsm_copytool_unregister(&ct), 0);
}

// Lustre's llapi_hsm_action_begin returns a failure to open the file
// without a message of its own (the copytool reports it).
TEST(CopytoolHandleTest, ActionBeginFailureLogsNothing) {
  ErrorCapture capture;
  TempDir dir;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[1]);
  hsm_copytool_private* ct =
      sim::llapi::TEST_MakeCopytool(sv[0], dir.path(), {});
  hsm_action_item hai{};
  hai.hai_len = sizeof(hai);
  hai.hai_action = HSMA_ARCHIVE;
  hai.hai_fid = hai.hai_dfid = {0x200000401, 7, 0};
  hsm_copyaction_private* hcp = nullptr;
  EXPECT_LT(llapi_hsm_action_begin(&hcp, ct, &hai, -1, 0, false), 0);
  EXPECT_EQ(hcp, nullptr);
  EXPECT_TRUE(ErrorCapture::messages().empty())
      << ErrorCapture::messages()[0].text;
  EXPECT_EQ(llapi_hsm_copytool_unregister(&ct), 0);
}

// A handle whose KUC channel is one end of a socketpair; the test writes
// crafted packets on the other.
class RecvTest : public ::testing::Test {
 protected:
  void SetUp() override { Make({}); }
  void TearDown() override {
    if (ct_) llapi_hsm_copytool_unregister(&ct_);
    if (peer_ >= 0) close(peer_);
  }

  void Make(std::vector<uint32_t> archives) {
    if (ct_) llapi_hsm_copytool_unregister(&ct_);
    if (peer_ >= 0) close(peer_);
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    peer_ = sv[1];
    ct_ = sim::llapi::TEST_MakeCopytool(sv[0], dir_.path(), archives);
  }

  void Send(const std::string& bytes) {
    ASSERT_EQ(sim::wire::SendRaw(peer_, bytes), 0);
  }

  static std::string Hal(uint32_t archive_id, uint64_t cookie,
                         std::string data = "") {
    hsm::HalBuilder builder("lustre", archive_id, 0);
    hsm_action_item hai{};
    hai.hai_action = HSMA_ARCHIVE;
    hai.hai_fid = {0x200000401, 1, 0};
    hai.hai_dfid = hai.hai_fid;
    hai.hai_extent = {0, LUSTRE_EOF};
    hai.hai_cookie = cookie;
    builder.Add(hai, data);
    return builder.KucMessage();
  }

  static std::string Header(uint16_t magic, uint8_t transport, uint16_t type,
                            uint16_t len) {
    kuc_hdr hdr{};
    hdr.kuc_magic = magic;
    hdr.kuc_transport = transport;
    hdr.kuc_msgtype = type;
    hdr.kuc_msglen = len;
    return std::string(reinterpret_cast<const char*>(&hdr), sizeof(hdr));
  }

  // A KUC message with `body`, its length right.
  static std::string Message(uint8_t transport, uint16_t type,
                             const std::string& body) {
    return Header(KUC_MAGIC, transport, type,
                  static_cast<uint16_t>(8 + body.size())) +
           body;
  }

  int Recv() {
    hal_ = reinterpret_cast<hsm_action_list*>(1);
    msgsize_ = -1;
    return llapi_hsm_copytool_recv(ct_, &hal_, &msgsize_);
  }

  uint64_t FirstCookie() {
    hsm_action_item hai;
    memcpy(&hai, hai_first(hal_), sizeof(hai));
    return hai.hai_cookie;
  }

  ErrorCapture capture_;
  TempDir dir_;
  hsm_copytool_private* ct_ = nullptr;
  int peer_ = -1;
  hsm_action_list* hal_ = nullptr;
  int msgsize_ = 0;
};

TEST_F(RecvTest, ValidActionListIsHandedOutInPlace) {
  std::string msg = Hal(3, 0x66b1f0a3, "hello");
  Send(msg);
  ASSERT_EQ(Recv(), 0);
  EXPECT_EQ(msgsize_, static_cast<int>(msg.size() - 8));
  EXPECT_EQ(hal_->hal_version, 1u);
  EXPECT_EQ(hal_->hal_count, 1u);
  EXPECT_EQ(hal_->hal_archive_id, 3u);
  EXPECT_STREQ(hal_->hal_fsname, "lustre");
  EXPECT_EQ(FirstCookie(), 0x66b1f0a3u);
  EXPECT_EQ(hal_size(hal_), static_cast<size_t>(msgsize_));
}

TEST_F(RecvTest, GetFdIsTheChannel) {
  EXPECT_EQ(llapi_hsm_copytool_get_fd(ct_), ct_->kuc_fd());
}

TEST_F(RecvTest, ZeroTailBeyondTheHalIsAccepted) {
  // The kernel sizes kuc_msglen over items it then left out: the tail is
  // zeros and msgsize exceeds hal_size.
  std::string msg = Hal(1, 9);
  std::string body = msg.substr(8) + std::string(80, '\0');
  Send(Message(KUC_TRANSPORT_HSM, HMT_ACTION_LIST, body));
  ASSERT_EQ(Recv(), 0);
  EXPECT_EQ(msgsize_, static_cast<int>(body.size()));
  EXPECT_LT(hal_size(hal_), static_cast<size_t>(msgsize_));
}

TEST_F(RecvTest, BadMagicIsEproto) {
  Send(Header(0x1234, KUC_TRANSPORT_HSM, HMT_ACTION_LIST, 8));
  EXPECT_EQ(Recv(), -EPROTO);
  EXPECT_EQ(hal_, nullptr);
  EXPECT_EQ(msgsize_, 0);
  ASSERT_FALSE(ErrorCapture::messages().empty());
  EXPECT_EQ(ErrorCapture::messages().back().text,
            "bad message magic 1234 != 191c");
}

TEST_F(RecvTest, LengthShorterThanTheHeaderIsEproto) {
  Send(Header(KUC_MAGIC, KUC_TRANSPORT_HSM, HMT_ACTION_LIST, 4));
  EXPECT_EQ(Recv(), -EPROTO);
}

TEST_F(RecvTest, PacketShorterThanItsLengthIsEproto) {
  std::string msg = Hal(1, 1);
  Send(msg.substr(0, msg.size() - 8));
  EXPECT_EQ(Recv(), -EPROTO);
}

TEST_F(RecvTest, PacketShorterThanAHeaderIsEproto) {
  Send(std::string("\x1c\x19\x02", 3));
  EXPECT_EQ(Recv(), -EPROTO);
}

TEST_F(RecvTest, EmptyNonBlockingChannelIsEagain) {
  int fd = llapi_hsm_copytool_get_fd(ct_);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  EXPECT_EQ(Recv(), -EAGAIN);
  EXPECT_EQ(hal_, nullptr);
}

TEST_F(RecvTest, ShutdownIsEshutdown) {
  Send(hsm::KucShutdownMessage());
  EXPECT_EQ(Recv(), -ESHUTDOWN);
}

TEST_F(RecvTest, OtherTransportsAreSkipped) {
  Send(Message(KUC_TRANSPORT_CHANGELOG, 1, std::string(16, 'x')));
  Send(Hal(1, 42));
  ASSERT_EQ(Recv(), 0);
  EXPECT_EQ(FirstCookie(), 42u);
}

TEST_F(RecvTest, GenericMessageOtherThanShutdownIsEproto) {
  Send(Message(KUC_TRANSPORT_GENERIC, 7, ""));
  EXPECT_EQ(Recv(), -EPROTO);
  EXPECT_EQ(ErrorCapture::messages().back().text,
            "Unknown HSM message type 1:7");
}

TEST_F(RecvTest, HsmMessageOfAnotherTypeIsEproto) {
  Send(Message(KUC_TRANSPORT_HSM, 101, std::string(40, '\0')));
  EXPECT_EQ(Recv(), -EPROTO);
}

TEST_F(RecvTest, ActionListShorterThanItsHeaderIsEproto) {
  Send(Message(KUC_TRANSPORT_HSM, HMT_ACTION_LIST, std::string(16, '\0')));
  EXPECT_EQ(Recv(), -EPROTO);
  EXPECT_EQ(ErrorCapture::messages().back().text, "Short HSM message 24");
}

TEST_F(RecvTest, ItemWithBadLengthIsEproto) {
  std::string msg = Hal(1, 1);
  uint32_t bad_len = 40;
  memcpy(msg.data() + 8 + 40, &bad_len, sizeof(bad_len));  // first hai_len
  Send(msg);
  EXPECT_EQ(Recv(), -EPROTO);
  EXPECT_EQ(ErrorCapture::messages().back().text,
            "invalid HSM action list: item 0: hai_len 40 is shorter than 72");
}

TEST_F(RecvTest, ItemCountBeyondTheMessageIsEproto) {
  std::string msg = Hal(1, 1);
  uint32_t count = 2;
  memcpy(msg.data() + 8 + 4, &count, sizeof(count));
  Send(msg);
  EXPECT_EQ(Recv(), -EPROTO);
}

TEST_F(RecvTest, ChannelStaysUsableAfterAnError) {
  Send(Header(0x1234, KUC_TRANSPORT_HSM, HMT_ACTION_LIST, 8));
  Send(Hal(1, 5));
  EXPECT_EQ(Recv(), -EPROTO);
  ASSERT_EQ(Recv(), 0);
  EXPECT_EQ(FirstCookie(), 5u);
}

TEST_F(RecvTest, ListsForOtherArchivesAreDroppedAndTheNextRead) {
  Make({2, 4});
  Send(Hal(1, 100));
  Send(Hal(4, 101));
  ASSERT_EQ(Recv(), 0);
  EXPECT_EQ(hal_->hal_archive_id, 4u);
  EXPECT_EQ(FirstCookie(), 101u);
}

TEST_F(RecvTest, AllArchivesRegistrationTakesEveryList) {
  Send(Hal(17, 1));
  ASSERT_EQ(Recv(), 0);
  EXPECT_EQ(hal_->hal_archive_id, 17u);
}

TEST_F(RecvTest, EndOfStreamWithoutADaemonToReRegisterIsEpipe) {
  ScopedEnv timeout("LUSTRE_SIM_TIMEOUT", "0.1");
  close(peer_);
  peer_ = -1;
  EXPECT_EQ(Recv(), -EPIPE);
  EXPECT_EQ(hal_, nullptr);
  EXPECT_EQ(msgsize_, 0);
}

TEST_F(RecvTest, UnregisterClosesTheChannel) {
  ASSERT_EQ(llapi_hsm_copytool_unregister(&ct_), 0);
  EXPECT_EQ(ct_, nullptr);
  char c;
  EXPECT_EQ(read(peer_, &c, 1), 0);  // the peer sees end of stream
}

}  // namespace
