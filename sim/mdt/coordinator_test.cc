#include "sim/mdt/coordinator.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <string>

#include "sim/mdt/test_util.h"

namespace sim::mdt {
namespace {

using std::chrono::seconds;
using testing::CdtFixture;

class CoordinatorTest : public CdtFixture {
 protected:
  // The preamble of the restore tests: file "a" ("original") archived by
  // agent "x" and released, then its restore requested and sent (record
  // 2). Returns the restore's item as sent; *fid is the file's.
  hsm_action_item RestoreOfReleasedFile(lu_fid* fid) {
    *fid = MakeFile("a", "original");
    EXPECT_EQ(Request(HUA_ARCHIVE, {*fid}), 0);
    EXPECT_EQ(cdt_->RegisterAgent("x", {}), 0);
    Scan();
    EXPECT_EQ(RunItem(channel_.hals.at(0).hal.items.at(0).hai), 0);
    EXPECT_EQ(files_->Release(*fid), 0);
    EXPECT_EQ(Request(HUA_RESTORE, {*fid}), 0);
    Scan();
    return channel_.hals.at(1).hal.items.at(0).hai;
  }
};

TEST_F(CoordinatorTest, ArchiveGoesWaitingStartedSucceed) {
  lu_fid fid = MakeFile("a");
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  EXPECT_EQ(Status(1), ARS_WAITING);
  Scan();  // no agent: nothing is sent
  EXPECT_TRUE(channel_.hals.empty());
  EXPECT_EQ(Status(1), ARS_WAITING);

  ASSERT_EQ(cdt_->RegisterAgent("agent-1", {}), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 1u);
  const auto& hal = channel_.hals[0].hal;
  EXPECT_EQ(channel_.hals[0].uuid, "agent-1");
  EXPECT_EQ(hal.archive_id, 1u);
  EXPECT_EQ(hal.fsname, "lustre");
  ASSERT_EQ(hal.items.size(), 1u);
  const hsm_action_item& hai = hal.items[0].hai;
  EXPECT_EQ(hai.hai_action, HSMA_ARCHIVE);
  EXPECT_TRUE(hai.hai_fid == fid);
  EXPECT_TRUE(hai.hai_dfid == fid);
  EXPECT_EQ(hai.hai_cookie, Rec(1).cookie());
  EXPECT_EQ(Status(1), ARS_STARTED);
  // EXISTS and the archive id are set at dispatch.
  EXPECT_EQ(Flags(fid), uint32_t{HS_EXISTS});
  EXPECT_EQ(cdt_->ActiveCount(HSMA_ARCHIVE), 1);

  EXPECT_EQ(RunItem(hai), 0);
  EXPECT_EQ(Status(1), ARS_SUCCEED);
  EXPECT_EQ(Flags(fid), uint32_t{HS_EXISTS | HS_ARCHIVED});
  EXPECT_EQ(cdt_->ActiveCount(HSMA_ARCHIVE), 0);
  EXPECT_EQ(cdt_->agents()[0].ok, 1);
  EXPECT_EQ(cdt_->agents()[0].current, 0);
}

TEST_F(CoordinatorTest, CookiesCountFromTheUnixTime) {
  lu_fid a = MakeFile("a"), b = MakeFile("b");
  ASSERT_EQ(Request(HUA_ARCHIVE, {a, b}), 0);
  uint64_t base = static_cast<uint64_t>(clock_.UnixSeconds());
  EXPECT_EQ(Rec(1).cookie(), base + 1);
  EXPECT_EQ(Rec(2).cookie(), base + 2);
}

TEST_F(CoordinatorTest, AcceptanceErrors) {
  lu_fid fid = MakeFile("a");
  EXPECT_EQ(Request(HUA_ARCHIVE, {}), 0);
  EXPECT_EQ(Request(HUA_RELEASE, {fid}), -EINVAL);
  EXPECT_EQ(Request(HUA_NONE, {fid}), -EINVAL);
  EXPECT_EQ(Request(99, {fid}), -EINVAL);
  EXPECT_EQ(Request(HUA_ARCHIVE, {lu_fid{0x200000401, 1, 5}}), -EINVAL);
  EXPECT_EQ(Request(HUA_ARCHIVE, {lu_fid{0x200000401, 999, 0}}), -ENOENT);
  // Not needed: silently skipped.
  EXPECT_EQ(Request(HUA_RESTORE, {fid}), 0);
  EXPECT_EQ(Request(HUA_REMOVE, {fid}), 0);
  // Forced but incompatible: EPERM.
  EXPECT_EQ(Request(HUA_RESTORE, {fid}, 0, HSM_FORCE_ACTION), -EPERM);
  // Unknown file: REMOVE is recorded for root only.
  Caller user{1000, 1000, 1};
  EXPECT_EQ(Request(HUA_REMOVE, {lu_fid{0x200000401, 999, 0}}, 0, 0, "", user),
            -ENOENT);
  EXPECT_EQ(Request(HUA_REMOVE, {lu_fid{0x200000401, 999, 0}}), 0);
  EXPECT_EQ(cdt_->log().records().size(), 1u);
  // Malformed length.
  EXPECT_EQ(cdt_->Request({}, Hur(HUA_ARCHIVE, {fid}) + "x"), -EPROTO);
}

TEST_F(CoordinatorTest, PermissionMasksApplyToUnprivilegedCallers) {
  lu_fid fid = MakeFile("a");
  Caller other{4242, 4242, 1};
  EXPECT_EQ(Request(HUA_ARCHIVE, {fid}, 0, 0, "", other), -EPERM);
  cdt_->tunables().other_request_mask = 1ULL << HSMA_ARCHIVE;
  EXPECT_EQ(Request(HUA_ARCHIVE, {fid}, 0, 0, "", other), 0);
  // The owner (root here) uses user_request_mask, group the group mask.
  Caller group{4242, 0, 1};
  cdt_->tunables().group_request_mask = 0;
  EXPECT_EQ(Request(HUA_ARCHIVE, {fid}, 0, HSM_FORCE_ACTION, "", group),
            -EPERM);
}

TEST_F(CoordinatorTest, StoppedCoordinatorRefusesRequestsWithEagain) {
  lu_fid fid = MakeFile("a");
  ASSERT_EQ(cdt_->Control("shutdown"), 0);
  EXPECT_STREQ(cdt_->StateName(), "stopped");
  EXPECT_EQ(Request(HUA_ARCHIVE, {fid}), -EAGAIN);
  EXPECT_EQ(cdt_->RegisterAgent("a", {}), -ENXIO);
  ASSERT_EQ(cdt_->Control("enabled"), 0);
  EXPECT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  // Disabled: accepted and recorded, but not dispatched.
  ASSERT_EQ(cdt_->Control("disabled"), 0);
  ASSERT_EQ(cdt_->RegisterAgent("a", {}), 0);
  Scan();
  EXPECT_TRUE(channel_.hals.empty());
  ASSERT_EQ(cdt_->Control("enabled\n"), 0);
  Scan();
  EXPECT_EQ(channel_.hals.size(), 1u);
  EXPECT_EQ(cdt_->Control("bogus"), -EINVAL);
  EXPECT_EQ(cdt_->Control("enabled123"), -EINVAL);  // 10 bytes or more
}

TEST_F(CoordinatorTest, BatchesHoldSeventyItemsWithin5120Bytes) {
  cdt_->tunables().max_requests = 1000;
  std::vector<lu_fid> fids;
  for (int i = 0; i < 140; ++i) fids.push_back(MakeFile(std::to_string(i)));
  for (size_t i = 0; i < fids.size(); i += 50)
    ASSERT_EQ(
        Request(HUA_ARCHIVE, std::vector<lu_fid>(
                                 fids.begin() + i,
                                 fids.begin() + std::min(i + 50, fids.size()))),
        0);
  ASSERT_EQ(cdt_->RegisterAgent("a", {}), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 2u);
  EXPECT_EQ(channel_.hals[0].hal.items.size(), 70u);
  EXPECT_EQ(channel_.hals[1].hal.items.size(), 70u);
  // FIFO order.
  EXPECT_TRUE(channel_.hals[0].hal.items[0].hai.hai_fid == fids[0]);
  EXPECT_TRUE(channel_.hals[1].hal.items[69].hai.hai_fid == fids[139]);
}

TEST_F(CoordinatorTest, MaxRequestsLimitsDispatch) {
  cdt_->tunables().max_requests = 2;
  lu_fid a = MakeFile("a"), b = MakeFile("b"), c = MakeFile("c");
  ASSERT_EQ(Request(HUA_ARCHIVE, {a, b, c}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 1u);
  EXPECT_EQ(channel_.hals[0].hal.items.size(), 2u);
  EXPECT_EQ(Status(3), ARS_WAITING);
  // Completing one frees a slot.
  EXPECT_EQ(RunItem(channel_.hals[0].hal.items[0].hai), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 2u);
  EXPECT_TRUE(channel_.hals[1].hal.items[0].hai.hai_fid == c);
}

TEST_F(CoordinatorTest, OneRestorePerScanMayPassMaxRequests) {
  cdt_->tunables().max_requests = 2;
  lu_fid r = MakeFile("r");
  FileEntry* e;
  struct stat st;
  ASSERT_EQ(files_->Stat(r, &e, &st), 0);
  files_->SetHsm(e, {HS_EXISTS | HS_ARCHIVED | HS_RELEASED, 1, 0});
  lu_fid a = MakeFile("a"), b = MakeFile("b");
  ASSERT_EQ(Request(HUA_ARCHIVE, {a, b}), 0);
  ASSERT_EQ(Request(HUA_RESTORE, {r}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 1u);
  ASSERT_EQ(channel_.hals[0].hal.items.size(), 3u);
  EXPECT_EQ(channel_.hals[0].hal.items[2].hai.hai_action, HSMA_RESTORE);
  EXPECT_EQ(cdt_->ActiveCount(HSMA_ARCHIVE) + cdt_->ActiveCount(HSMA_RESTORE),
            3);
}

TEST_F(CoordinatorTest, RestoresAreDeduplicatedByTheRestoreLock) {
  lu_fid r = MakeFile("r");
  FileEntry* e;
  struct stat st;
  ASSERT_EQ(files_->Stat(r, &e, &st), 0);
  files_->SetHsm(e, {HS_EXISTS | HS_ARCHIVED | HS_RELEASED, 1, 0});
  ASSERT_EQ(Request(HUA_RESTORE, {r, r}), 0);
  ASSERT_EQ(Request(HUA_RESTORE, {r}), 0);
  EXPECT_EQ(cdt_->log().records().size(), 1u);
  EXPECT_TRUE(cdt_->RestoreLocked(r));
  hsm_current_action hca;
  cdt_->CurrentAction(r, &hca);
  EXPECT_EQ(hca.hca_state, uint32_t{HPS_WAITING});
  EXPECT_EQ(hca.hca_action, uint32_t{HUA_RESTORE});
}

TEST_F(CoordinatorTest, LeastLoadedAgentInRegistrationOrder) {
  cdt_->tunables().max_requests = 100;
  ASSERT_EQ(cdt_->RegisterAgent("first", {}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("second", {}), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("a")}), 0);
  Scan();
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("b")}), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 2u);
  EXPECT_EQ(channel_.hals[0].uuid, "first");   // tie: the earlier one
  EXPECT_EQ(channel_.hals[1].uuid, "second");  // first is busier
  // An agent serving only archive 2 never gets archive 1 work.
  ASSERT_EQ(cdt_->RegisterAgent("two", {2}), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("c")}, 2), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 3u);
  EXPECT_EQ(channel_.hals[2].uuid, "two");
  EXPECT_EQ(channel_.hals[2].hal.archive_id, 2u);
}

TEST_F(CoordinatorTest, SecondRegistrationWithSameUuidKeepsFirstArchives) {
  ASSERT_EQ(cdt_->RegisterAgent("u", {3}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("u", {0}), 0);
  ASSERT_EQ(cdt_->agents().size(), 1u);
  EXPECT_EQ(cdt_->agents()[0].archives, std::vector<uint32_t>{3});
}

TEST_F(CoordinatorTest, StartedRequestTimesOutAsCanceled) {
  cdt_->tunables().active_request_timeout = 100;
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("a")}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  hsm_action_item hai = channel_.hals.at(0).hal.items.at(0).hai;
  EXPECT_EQ(cdt_->CopyStart(Copy(hai)), 0);
  clock_.Advance(seconds(95));
  Scan();  // housekeeping (loop_period 10 s) but not yet timed out
  EXPECT_EQ(Status(1), ARS_STARTED);
  hsm_progress hp{hai.hai_fid, hai.hai_cookie, {0, 10}, 0, 0, 0};
  EXPECT_EQ(cdt_->Progress(hp), 0);  // pushes the timeout back
  clock_.Advance(seconds(95));
  Scan();
  EXPECT_EQ(Status(1), ARS_STARTED);
  clock_.Advance(seconds(10));
  Scan();
  EXPECT_EQ(Status(1), ARS_CANCELED);
  EXPECT_EQ(cdt_->agents()[0].errors, 1);
  EXPECT_EQ(cdt_->Progress(hp), -ENOENT);
  EXPECT_EQ(channel_.hals.size(), 1u);  // the copytool is not told
}

TEST_F(CoordinatorTest, CancelOfStartedRequest) {
  lu_fid fid = MakeFile("a");
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  hsm_action_item hai = channel_.hals.at(0).hal.items.at(0).hai;
  EXPECT_EQ(cdt_->CopyStart(Copy(hai)), 0);
  ASSERT_EQ(Request(HUA_CANCEL, {fid}), 0);
  EXPECT_EQ(Rec(2).cookie(), hai.hai_cookie);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 2u);
  EXPECT_EQ(channel_.hals[1].hal.items[0].hai.hai_action, HSMA_CANCEL);
  EXPECT_EQ(Status(1), ARS_CANCELED);
  EXPECT_EQ(Status(2), ARS_STARTED);
  hsm_progress hp{hai.hai_fid, hai.hai_cookie, {0, 10}, 0, 0, 0};
  EXPECT_EQ(cdt_->Progress(hp), -ECANCELED);
  EXPECT_EQ(cdt_->CopyEnd(Copy(hai, ECANCELED), -1), 0);
  EXPECT_EQ(Status(1), ARS_CANCELED);
  EXPECT_EQ(Status(2), ARS_SUCCEED);
  // Nothing left to cancel: dropped silently.
  EXPECT_EQ(Request(HUA_CANCEL, {fid}), 0);
  EXPECT_EQ(cdt_->log().records().size(), 2u);
}

// llapi_hsm_current_action as Lustre's MDT answers it (mdt_hsm_get_action):
// the first request of the file in log order that is waiting or started
// and not a cancel; nothing of the kind: HPS_NONE and HUA_NONE. The
// server's `queue` check relies on it.
TEST_F(CoordinatorTest, CurrentActionIsTheFirstLiveRequestNeverACancel) {
  lu_fid fid = MakeFile("a");
  hsm_current_action hca;
  cdt_->CurrentAction(fid, &hca);
  EXPECT_EQ(hca.hca_state, uint32_t{HPS_NONE});
  EXPECT_EQ(hca.hca_action, uint32_t{HUA_NONE});
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  cdt_->CurrentAction(fid, &hca);
  EXPECT_EQ(hca.hca_state, uint32_t{HPS_WAITING});
  EXPECT_EQ(hca.hca_action, uint32_t{HUA_ARCHIVE});
  EXPECT_EQ(hca.hca_location.length, Rec(1).hai.hai_extent.length);
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  hsm_action_item hai = channel_.hals.at(0).hal.items.at(0).hai;
  EXPECT_EQ(cdt_->CopyStart(Copy(hai)), 0);
  cdt_->CurrentAction(fid, &hca);
  EXPECT_EQ(hca.hca_state, uint32_t{HPS_RUNNING});
  EXPECT_EQ(hca.hca_action, uint32_t{HUA_ARCHIVE});
  // The cancel record is live (started) but never reported; the archive
  // it cancelled is not live any more.
  ASSERT_EQ(Request(HUA_CANCEL, {fid}), 0);
  Scan();
  ASSERT_EQ(Status(2), ARS_STARTED);
  cdt_->CurrentAction(fid, &hca);
  EXPECT_EQ(hca.hca_state, uint32_t{HPS_NONE});
  EXPECT_EQ(hca.hca_action, uint32_t{HUA_NONE});
}

TEST_F(CoordinatorTest, CancelOfWaitingRequestInTheSameBatch) {
  lu_fid fid = MakeFile("a");
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  ASSERT_EQ(Request(HUA_CANCEL, {fid}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 1u);
  ASSERT_EQ(channel_.hals[0].hal.items.size(), 2u);
  EXPECT_EQ(Status(1), ARS_CANCELED);
  EXPECT_EQ(Status(2), ARS_STARTED);
  hsm_action_item hai = channel_.hals[0].hal.items[0].hai;
  EXPECT_EQ(cdt_->CopyStart(Copy(hai)), -ECANCELED);
  EXPECT_EQ(cdt_->CopyEnd(Copy(hai, ECANCELED), -1), 0);
  EXPECT_EQ(Status(2), ARS_SUCCEED);
}

TEST_F(CoordinatorTest, FailureRetriesOnlyWithoutNra) {
  lu_fid fid = MakeFile("a");
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  Scan();
  hsm_action_item hai = channel_.hals.at(0).hal.items.at(0).hai;
  EXPECT_EQ(RunItem(hai, EIO, HP_FLAG_RETRY), 0);
  EXPECT_EQ(Status(1), ARS_FAILED);  // NRA is the default

  cdt_->tunables().policy = 0;
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  Scan();
  hai = channel_.hals.at(1).hal.items.at(0).hai;
  EXPECT_EQ(RunItem(hai, EIO, HP_FLAG_RETRY), 0);
  EXPECT_EQ(Status(2), ARS_WAITING);
  // Sent again at the next housekeeping pass only (see
  // RetriedRequestGoesAgainAtHousekeepingToTheLeastLoadedAgent).
  clock_.Advance(seconds(cdt_->tunables().loop_period));
  Scan();
  ASSERT_EQ(channel_.hals.size(), 3u);
  EXPECT_EQ(channel_.hals[2].hal.items[0].hai.hai_cookie, hai.hai_cookie);
  // Without RETRY, or with ENOSYS, it fails.
  EXPECT_EQ(RunItem(hai, ENOSYS, HP_FLAG_RETRY), 0);
  EXPECT_EQ(Status(2), ARS_FAILED);
  EXPECT_EQ(cdt_->agents()[0].errors, 3);
}

TEST_F(CoordinatorTest, ProgressChecks) {
  lu_fid fid = MakeFile("a");
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  hsm_action_item hai = channel_.hals.at(0).hal.items.at(0).hai;
  hsm_progress hp{hai.hai_fid, hai.hai_cookie + 100, {0, 10}, 0, 0, 0};
  EXPECT_EQ(cdt_->Progress(hp), -ENOENT);
  hp.hp_cookie = hai.hai_cookie;
  hp.hp_fid = lu_fid{0x200000401, 77, 0};
  EXPECT_EQ(cdt_->Progress(hp), -EINVAL);
  hp.hp_fid = fid;
  hp.hp_errval = EIO;
  EXPECT_EQ(cdt_->Progress(hp), -EINVAL);  // error without COMPLETED
  hp.hp_errval = 0;
  EXPECT_EQ(cdt_->Progress(hp), 0);
  hp.hp_extent = {5, 10};
  EXPECT_EQ(cdt_->Progress(hp), 0);
  hp.hp_extent = {100, 1};
  EXPECT_EQ(cdt_->Progress(hp), 0);
  hsm_current_action hca;
  cdt_->CurrentAction(fid, &hca);
  EXPECT_EQ(hca.hca_state, uint32_t{HPS_RUNNING});
  EXPECT_EQ(hca.hca_action, uint32_t{HUA_ARCHIVE});
  EXPECT_EQ(hca.hca_location.length, 16u);  // [0,15) + [100,101)
}

TEST_F(CoordinatorTest, ArchiveOfAFileWrittenDuringTheCopyFailsWithEbusy) {
  lu_fid fid = MakeFile("a", "hello");
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  hsm_action_item hai = channel_.hals.at(0).hal.items.at(0).hai;
  EXPECT_EQ(cdt_->CopyStart(Copy(hai)), 0);
  testing::WriteFile(mount_ + "/a", " world", /*append=*/true);
  EXPECT_EQ(cdt_->CopyEnd(Copy(hai), -1), -EBUSY);
  EXPECT_EQ(Status(1), ARS_FAILED);
  EXPECT_EQ(Flags(fid), uint32_t{HS_EXISTS | HS_DIRTY});
}

TEST_F(CoordinatorTest, RestoreCopiesTheVolatileIntoTheFile) {
  lu_fid fid = MakeFile("a", "original");
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  ASSERT_EQ(RunItem(channel_.hals.at(0).hal.items.at(0).hai), 0);
  struct stat before;
  ASSERT_EQ(stat((mount_ + "/a").c_str(), &before), 0);
  ASSERT_EQ(files_->Release(fid), 0);
  EXPECT_EQ(testing::ReadFile(mount_ + "/a"), std::string(8, '\0'));
  EXPECT_EQ(Flags(fid), uint32_t{HS_EXISTS | HS_ARCHIVED | HS_RELEASED});

  ASSERT_EQ(Request(HUA_RESTORE, {fid}), 0);
  Scan();
  hsm_action_item hai = channel_.hals.at(1).hal.items.at(0).hai;
  int vfd = open(mount_.c_str(), O_TMPFILE | O_RDWR, 0600);
  ASSERT_GE(vfd, 0);
  ASSERT_EQ(write(vfd, "original", 8), 8);
  FileEntry* v;
  struct stat vst;
  ASSERT_EQ(files_->Identify(vfd, &v, &vst), 0);
  EXPECT_TRUE(v->is_volatile);
  lu_fid vfid = v->fid;
  EXPECT_EQ(cdt_->CopyStart(Copy(hai)), 0);
  hsm_progress hp{vfid, hai.hai_cookie, {0, 8}, 0, 0, 0};
  EXPECT_EQ(cdt_->Progress(hp), 0);
  EXPECT_TRUE(Rec(2).hai.hai_dfid == vfid);
  hsm_copy end = Copy(hai);
  end.hc_hai.hai_fid = vfid;
  end.hc_hai.hai_dfid = vfid;
  EXPECT_EQ(cdt_->CopyEnd(end, vfd), 0);
  close(vfd);
  EXPECT_EQ(Status(2), ARS_SUCCEED);
  EXPECT_EQ(testing::ReadFile(mount_ + "/a"), "original");
  EXPECT_EQ(Flags(fid), uint32_t{HS_EXISTS | HS_ARCHIVED});
  struct stat after;
  ASSERT_EQ(stat((mount_ + "/a").c_str(), &after), 0);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_FALSE(cdt_->RestoreLocked(fid));
  ASSERT_EQ(channel_.released.size(), 1u);
}

// Lustre (mdt_hsm_update_request_state): the first progress naming a
// volatile binds a restore to it. A second copy (its first copytool died)
// starts fine (copy start names the file's own FID), but its progress and
// end name its own volatile and are refused with EINVAL; the refused
// progress still counts as activity and copied bytes, as Lustre updates the
// request before it checks the FID. Ending it from the file's FID with
// HP_FLAG_RETRY (NRA off) puts it back to WAITING, still bound; with NRA (the
// default) it fails and the reader is answered.
TEST_F(CoordinatorTest, SecondCopyOfABoundRestoreIsRefusedUntilRetried) {
  cdt_->tunables().active_request_timeout = 100;
  lu_fid fid;
  hsm_action_item hai = RestoreOfReleasedFile(&fid);
  auto volatile_fid = [&](int* fd) {
    *fd = open(mount_.c_str(), O_TMPFILE | O_RDWR, 0600);
    FileEntry* v;
    struct stat vst;
    EXPECT_EQ(files_->Identify(*fd, &v, &vst), 0);
    return v->fid;
  };
  int first_fd, second_fd;
  lu_fid first = volatile_fid(&first_fd);
  lu_fid second = volatile_fid(&second_fd);
  EXPECT_EQ(cdt_->CopyStart(Copy(hai)), 0);
  EXPECT_EQ(cdt_->Progress({first, hai.hai_cookie, {0, 4}, 0, 0, 0}), 0);
  EXPECT_TRUE(Rec(2).hai.hai_dfid == first);
  // The first copytool dies; a second one starts the same request.
  EXPECT_EQ(cdt_->CopyStart(Copy(hai)), 0);
  clock_.Advance(seconds(95));
  EXPECT_EQ(cdt_->Progress({second, hai.hai_cookie, {4, 4}, 0, 0, 0}), -EINVAL);
  hsm_current_action hca;
  cdt_->CurrentAction(fid, &hca);
  EXPECT_EQ(hca.hca_state, uint32_t{HPS_RUNNING});
  EXPECT_EQ(hca.hca_location.length, 8u);  // counted all the same
  clock_.Advance(seconds(10));
  Scan();
  EXPECT_EQ(Status(2), ARS_STARTED);  // the refused progress was activity
  hsm_copy end = Copy(hai);
  end.hc_hai.hai_fid = second;
  end.hc_hai.hai_dfid = second;
  EXPECT_EQ(cdt_->CopyEnd(end, second_fd), -EINVAL);
  EXPECT_EQ(Status(2), ARS_STARTED);
  EXPECT_TRUE(cdt_->RestoreLocked(fid));
  // The agent ends it from the file's FID, asking for a retry.
  cdt_->tunables().policy &= ~kPolicyNra;
  EXPECT_EQ(cdt_->CopyEnd(Copy(hai, EIO, HP_FLAG_RETRY), -1), 0);
  EXPECT_EQ(Status(2), ARS_WAITING);
  // Lustre writes the request's record back as it is in memory: it stays
  // bound to the first volatile, and goes again so.
  EXPECT_TRUE(Rec(2).hai.hai_dfid == first);
  EXPECT_TRUE(cdt_->RestoreLocked(fid));
  clock_.Advance(seconds(cdt_->tunables().loop_period));
  Scan();
  ASSERT_EQ(channel_.hals.size(), 3u);
  const hsm_action_item again = channel_.hals[2].hal.items.at(0).hai;
  EXPECT_EQ(again.hai_cookie, hai.hai_cookie);
  EXPECT_TRUE(again.hai_dfid == first);
  // So the new copy, into its own volatile, is refused as the second was:
  // a retried restore cannot end; it times out.
  int third_fd;
  lu_fid third = volatile_fid(&third_fd);
  EXPECT_EQ(cdt_->CopyStart(Copy(again)), 0);
  EXPECT_EQ(cdt_->Progress({third, hai.hai_cookie, {0, 4}, 0, 0, 0}), -EINVAL);
  end.hc_hai.hai_fid = third;
  end.hc_hai.hai_dfid = third;
  EXPECT_EQ(cdt_->CopyEnd(end, third_fd), -EINVAL);
  EXPECT_EQ(Status(2), ARS_STARTED);
  close(first_fd);
  close(second_fd);
  close(third_fd);
}

// Lustre's loop: a pass after an event reads only the records after the
// last one it took; a request put back to WAITING by a retry is behind
// that point and goes at the next housekeeping pass (loop_period), to the
// least loaded agent, which may be the one that failed it (Lustre keeps no
// memory of it). Same cookie, same item.
TEST_F(CoordinatorTest,
       RetriedRequestGoesAgainAtHousekeepingToTheLeastLoadedAgent) {
  cdt_->tunables().policy = 0;
  lu_fid a = MakeFile("a");
  lu_fid b = MakeFile("b");
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("y", {}), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {a}), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 1u);
  EXPECT_EQ(channel_.hals[0].uuid, "x");
  hsm_action_item hai = channel_.hals[0].hal.items.at(0).hai;
  EXPECT_EQ(RunItem(hai, EIO, HP_FLAG_RETRY), 0);
  EXPECT_EQ(Status(1), ARS_WAITING);
  // Events do not bring it back: neither the end nor a new request.
  Scan();
  EXPECT_EQ(channel_.hals.size(), 1u);
  clock_.Advance(std::chrono::milliseconds(1100));
  ASSERT_EQ(Request(HUA_ARCHIVE, {b}), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 2u);
  ASSERT_EQ(channel_.hals[1].hal.items.size(), 1u);
  EXPECT_TRUE(channel_.hals[1].hal.items[0].hai.hai_fid == b);
  EXPECT_EQ(channel_.hals[1].uuid, "x");  // idle again: the first one
  EXPECT_EQ(Status(1), ARS_WAITING);
  // Housekeeping: "x" runs b, so the retry goes to "y".
  clock_.Advance(seconds(cdt_->tunables().loop_period));
  Scan();
  ASSERT_EQ(channel_.hals.size(), 3u);
  EXPECT_EQ(channel_.hals[2].uuid, "y");
  const hsm_action_item again = channel_.hals[2].hal.items.at(0).hai;
  EXPECT_EQ(again.hai_cookie, hai.hai_cookie);
  EXPECT_TRUE(again.hai_fid == a);
  EXPECT_EQ(Status(1), ARS_STARTED);
  EXPECT_EQ(RunItem(again), 0);
  EXPECT_EQ(Status(1), ARS_SUCCEED);
}

// A pass that cannot send puts its start point back: the records it took
// are read again by the next pass after an event.
TEST_F(CoordinatorTest, FailedSendIsReadAgainByTheNextEventPass) {
  lu_fid a = MakeFile("a");
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  channel_.fail = -EAGAIN;
  ASSERT_EQ(Request(HUA_ARCHIVE, {a}), 0);
  Scan();
  EXPECT_EQ(Status(1), ARS_WAITING);
  channel_.fail = 0;
  clock_.Advance(std::chrono::milliseconds(1100));
  cdt_->Wake();
  Scan();
  EXPECT_EQ(Status(1), ARS_STARTED);
}

// A restore whose layout swap fails: FAILED under NRA; without NRA Lustre
// leaves the record SUCCEED (the file still released), the end answered
// with the error.
TEST_F(CoordinatorTest, FailedLayoutSwapFailsTheRestoreOnlyUnderNra) {
  lu_fid fid;
  const hsm_action_item hai = RestoreOfReleasedFile(&fid);
  // No volatile handed over: nothing to swap.
  EXPECT_EQ(RunItem(hai), -ENOENT);
  EXPECT_EQ(Status(2), ARS_FAILED);
  cdt_->tunables().policy = 0;
  ASSERT_EQ(Request(HUA_RESTORE, {fid}), 0);
  Scan();
  EXPECT_EQ(RunItem(channel_.hals.at(2).hal.items.at(0).hai), -ENOENT);
  EXPECT_EQ(Status(3), ARS_SUCCEED);
  EXPECT_EQ(Flags(fid) & HS_RELEASED, uint32_t{HS_RELEASED});
  EXPECT_FALSE(cdt_->RestoreLocked(fid));
}

TEST_F(CoordinatorTest, RemoveClearsArchiveFlags) {
  lu_fid fid = MakeFile("a");
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {fid}), 0);
  Scan();
  ASSERT_EQ(RunItem(channel_.hals.at(0).hal.items.at(0).hai), 0);
  ASSERT_EQ(Request(HUA_REMOVE, {fid}), 0);
  Scan();
  ASSERT_EQ(RunItem(channel_.hals.at(1).hal.items.at(0).hai), 0);
  EXPECT_EQ(Flags(fid), 0u);
}

// A REMOVE of a file that is gone, without an archive id: Lustre records it
// with archive id 0 (not the default) and sends it to a copytool serving
// every archive.
TEST_F(CoordinatorTest,
       RemoveOfADeletedFileWithoutArchiveGoesToAnAllArchiveAgent) {
  cdt_->tunables().default_archive_id = 5;
  const lu_fid gone{0x200000401, 999, 0};
  ASSERT_EQ(Request(HUA_REMOVE, {gone}), 0);
  EXPECT_EQ(Rec(1).archive_id, 0u);
  ASSERT_EQ(cdt_->RegisterAgent("some", {2}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("all", {}), 0);
  Scan();
  ASSERT_EQ(channel_.hals.size(), 1u);
  EXPECT_EQ(channel_.hals[0].uuid, "all");
  EXPECT_EQ(channel_.hals[0].hal.archive_id, 0u);
  ASSERT_EQ(channel_.hals[0].hal.items.size(), 1u);
  EXPECT_TRUE(channel_.hals[0].hal.items[0].hai.hai_fid == gone);
  EXPECT_EQ(Status(1), ARS_STARTED);
  EXPECT_EQ(cdt_->log().records().size(), 1u);
}

// Without such a copytool, Lustre records the REMOVE again once per archive
// id served and marks the original SUCCEED.
TEST_F(CoordinatorTest, RemoveOfADeletedFileWithoutArchiveGoesToEveryArchive) {
  const lu_fid gone{0x200000401, 999, 0};
  ASSERT_EQ(Request(HUA_REMOVE, {gone}, 0, 0, "opaque"), 0);
  Scan();  // no copytool: it waits
  EXPECT_EQ(Status(1), ARS_WAITING);
  ASSERT_EQ(cdt_->RegisterAgent("a", {3, 2}), 0);
  ASSERT_EQ(cdt_->RegisterAgent("b", {2, 4}), 0);
  Scan();
  EXPECT_EQ(Status(1), ARS_SUCCEED);
  ASSERT_EQ(cdt_->log().records().size(), 4u);
  std::map<uint32_t, std::string> sent;  // archive id -> agent
  for (const auto& m : channel_.hals) {
    ASSERT_EQ(m.hal.items.size(), 1u);
    const hsm_action_item& hai = m.hal.items[0].hai;
    EXPECT_EQ(hai.hai_action, HSMA_REMOVE);
    EXPECT_TRUE(hai.hai_fid == gone);
    EXPECT_NE(hai.hai_cookie, Rec(1).cookie());
    EXPECT_EQ(m.hal.items[0].data, "opaque");
    sent[m.hal.archive_id] = m.uuid;
  }
  // Each archive id once; 2 goes to whichever of its two agents is idle.
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[3], "a");
  EXPECT_EQ(sent[4], "b");
  EXPECT_TRUE(sent[2] == "a" || sent[2] == "b") << sent[2];
  for (uint32_t idx : {2u, 3u, 4u}) {
    EXPECT_EQ(Status(idx), ARS_STARTED);
    EXPECT_EQ(Rec(idx).flags, 0u);
  }
}

TEST_F(CoordinatorTest, FinishedRecordsArePurgedAfterGraceDelay) {
  cdt_->tunables().grace_delay = 60;
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("a")}), 0);
  Scan();
  ASSERT_EQ(RunItem(channel_.hals.at(0).hal.items.at(0).hai), 0);
  clock_.Advance(seconds(60));
  Scan();
  EXPECT_EQ(cdt_->log().records().size(), 1u);
  clock_.Advance(seconds(10));
  Scan();
  EXPECT_EQ(cdt_->log().records().size(), 0u);
}

TEST_F(CoordinatorTest, ScansAreSpacedByMinScanInterval) {
  cdt_->tunables().min_scan_interval_ms = 1000;
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  Scan();
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("a")}), 0);
  auto deadline = cdt_->NextDeadline();
  ASSERT_TRUE(deadline.has_value());
  EXPECT_EQ(*deadline - clock_.Now(), std::chrono::seconds(1));
  Scan();
  EXPECT_TRUE(channel_.hals.empty());
  clock_.Advance(std::chrono::milliseconds(1000));
  Scan();
  EXPECT_EQ(channel_.hals.size(), 1u);
}

TEST_F(CoordinatorTest, ShutdownDropsAgentsAndActiveRequests) {
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("a")}), 0);
  Scan();
  ASSERT_EQ(cdt_->Control("shutdown"), 0);
  EXPECT_TRUE(cdt_->agents().empty());
  EXPECT_EQ(Status(1), ARS_STARTED);
  ASSERT_EQ(cdt_->Control("enabled"), 0);
  EXPECT_EQ(Status(1), ARS_WAITING);  // STARTED -> WAITING at start
}

TEST_F(CoordinatorTest, PurgeCancelsEverything) {
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("a")}), 0);
  Scan();
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("b")}), 0);
  ASSERT_EQ(cdt_->Control("purge"), 0);
  EXPECT_EQ(Status(1), ARS_CANCELED);
  EXPECT_EQ(Status(2), ARS_CANCELED);
  ASSERT_EQ(channel_.hals.size(), 2u);
  EXPECT_EQ(channel_.hals[1].hal.items[0].hai.hai_action, HSMA_CANCEL);
  EXPECT_STREQ(cdt_->StateName(), "enabled");
}

}  // namespace
}  // namespace sim::mdt
