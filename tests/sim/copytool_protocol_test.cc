// ct-posix's main loop against a fake MDT (tests/support/fake_mdt.h), which
// sends what the real daemon never does: unknown actions, action lists for
// another filesystem, malformed lists, a shutdown.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "hsm/hal.h"
#include "sim/wire/messages.h"
#include "tests/support/fake_mdt.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

using sim::wire::MsgType;

// One-item action list for `fsname`.
std::string ActionList(const std::string& fsname, uint32_t action,
                       uint64_t cookie) {
  hsm::HalBuilder hal(fsname, 1, 0);
  hsm_action_item hai{};
  hai.hai_action = action;
  hai.hai_fid = {0x200000401, static_cast<uint32_t>(cookie), 0};
  hai.hai_dfid = hai.hai_fid;
  hai.hai_extent = {0, LUSTRE_EOF};
  hai.hai_cookie = cookie;
  hal.Add(hai, "");
  return hal.KucMessage();
}

class CopytoolProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mdt_.ok()); }

  Process* Start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {CtPosixBinary(), "-p", archive_.path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(mdt_.mount());
    SpawnOptions options;
    options.stdout_path = options.stderr_path = archive_.Join("ct.log");
    options.env = {{"LUSTRE_SIM_TIMEOUT", "2"}};
    std::string error;
    ct_ = Process::Spawn(argv, options, &error);
    EXPECT_GT(ct_.pid(), 0) << error;
    EXPECT_TRUE(mdt_.WaitForRegistrations(1, std::chrono::seconds(30)));
    return &ct_;
  }

  // The flags and error of the COPY_END received for `cookie`, if any.
  struct CopyEnd {
    uint16_t flags;
    uint16_t errval;
  };
  std::optional<CopyEnd> CopyEndOf(uint64_t cookie) {
    for (const FakeMdt::Request& r : mdt_.Requests()) {
      if (r.type != MsgType::kCopyEnd ||
          r.payload.size() != sizeof(sim::wire::CopyReq)) {
        continue;
      }
      hsm_copy copy;
      std::memcpy(&copy, r.payload.data(), sizeof(copy));
      if (copy.hc_hai.hai_cookie == cookie) {
        return CopyEnd{copy.hc_flags, copy.hc_errval};
      }
    }
    return std::nullopt;
  }

  std::string Log() { return ReadWholeFile(archive_.Join("ct.log")); }

  ::testing::AssertionResult ExitsWith(int code) {
    std::optional<int> status = ct_.Wait(std::chrono::seconds(10));
    if (!status) return ::testing::AssertionFailure() << "still running";
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == code) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "wait status " << *status << "; log:\n"
           << Log();
  }

  FakeMdt mdt_;
  TempDir archive_{"ct-archive"};
  Process ct_;
};

TEST_F(CopytoolProtocolTest, UnknownActionIsEndedWithEinval) {
  Start();
  ASSERT_EQ(mdt_.SendKuc(ActionList("lustre", 99, 7)), 0);
  ASSERT_TRUE(WaitFor([&] { return CopyEndOf(7).has_value(); })) << Log();
  const CopyEnd end = *CopyEndOf(7);
  EXPECT_EQ(end.errval, EINVAL);
  EXPECT_EQ(end.flags & HP_FLAG_RETRY, 0);
}

TEST_F(CopytoolProtocolTest, ActionListOfAnotherFilesystemIsSkipped) {
  Start();
  ASSERT_EQ(mdt_.SendKuc(ActionList("other", 99, 8)), 0);
  ASSERT_EQ(mdt_.SendKuc(ActionList("lustre", 99, 9)), 0);
  ASSERT_TRUE(WaitFor([&] { return CopyEndOf(9).has_value(); })) << Log();
  EXPECT_FALSE(CopyEndOf(8).has_value());
  EXPECT_NE(Log().find("action list for filesystem 'other', serving 'lustre'"),
            std::string::npos)
      << Log();
  EXPECT_TRUE(ct_.Running());
}

TEST_F(CopytoolProtocolTest, AbortOnErrorExitsOnAForeignActionList) {
  Start({"--abort-on-error"});
  ASSERT_EQ(mdt_.SendKuc(ActionList("other", HSMA_ARCHIVE, 10)), 0);
  EXPECT_TRUE(ExitsWith(1));
}

TEST_F(CopytoolProtocolTest, AbortOnErrorExitsOnAMalformedActionList) {
  Start({"--abort-on-error"});
  std::string msg = ActionList("lustre", HSMA_ARCHIVE, 11);
  const uint32_t count = 3;  // one item follows, not three
  std::memcpy(&msg[sizeof(kuc_hdr) + 4], &count, sizeof(count));
  ASSERT_EQ(mdt_.SendKuc(msg), 0);
  EXPECT_TRUE(ExitsWith(1));
}

TEST_F(CopytoolProtocolTest, MalformedActionListIsSkippedWithoutAbortOnError) {
  Start();
  ASSERT_EQ(mdt_.SendKuc(std::string("\x1c\x19\x02\x00\x64\x00\x30\x00", 8) +
                         std::string(40, '\xee')),
            0);
  ASSERT_EQ(mdt_.SendKuc(ActionList("lustre", 99, 12)), 0);
  EXPECT_TRUE(WaitFor([&] { return CopyEndOf(12).has_value(); })) << Log();
  EXPECT_TRUE(ct_.Running());
}

TEST_F(CopytoolProtocolTest, ShutdownMessageStopsTheCopytool) {
  Start();
  ASSERT_EQ(mdt_.SendKuc(hsm::KucShutdownMessage()), 0);
  EXPECT_TRUE(ExitsWith(0));
}

TEST_F(CopytoolProtocolTest, SigintStopsTheCopytool) {
  Start();
  ASSERT_EQ(ct_.Signal(SIGINT), 0);
  EXPECT_TRUE(ExitsWith(0));
}

}  // namespace
}  // namespace testing_support
