#include "sim/mdt/upcall.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"
#include "hsm/fid.h"
#include "sim/mdt/test_util.h"

namespace sim::mdt {
namespace {

class UpcallTest : public testing::CdtFixture {
 protected:
  int Decide(const std::string& hur, Caller caller = {}) {
    return DecideUpcall(caller, hur, cdt_->tunables(), "lustre", files_.get(),
                        &decision_, &argv_);
  }
  wire::UpcallReq Req(const lu_fid& fid, uint32_t action, uint32_t archive = 1,
                      uint64_t version = 0, int32_t errval = 0) {
    wire::UpcallReq req{};
    req.fid = fid;
    req.action = action;
    req.archive_id = archive;
    req.data_version = version;
    req.errval = errval;
    return req;
  }
  common::UniqueFd Open(const std::string& name) {
    return common::UniqueFd(open((mount_ + "/" + name).c_str(), O_RDONLY));
  }
  UpcallDecision decision_{};
  std::vector<std::string> argv_;
};

TEST_F(UpcallTest, ActionsOutsideTheMaskGoToTheCoordinator) {
  lu_fid fid = MakeFile("a");
  EXPECT_EQ(Decide(Hur(HUA_ARCHIVE, {fid})), 0);
  EXPECT_EQ(decision_, UpcallDecision::kCoordinator);
  cdt_->tunables().upcall_mask = 1ULL << HSMA_REMOVE;
  cdt_->tunables().upcall_path = "/sbin/up";
  EXPECT_EQ(Decide(Hur(HUA_ARCHIVE, {fid})), 0);
  EXPECT_EQ(decision_, UpcallDecision::kCoordinator);
  EXPECT_EQ(Decide(Hur(HUA_RESTORE, {fid})), 0);
  EXPECT_EQ(decision_, UpcallDecision::kCoordinator);
}

TEST_F(UpcallTest, ArchiveInTheMaskBuildsTheDesignsArguments) {
  lu_fid a = MakeFile("a"), b = MakeFile("b");
  cdt_->tunables().upcall_mask = 1ULL << HSMA_ARCHIVE;
  EXPECT_EQ(Decide(Hur(HUA_ARCHIVE, {a})), -ENOSYS);  // no path
  cdt_->tunables().upcall_path = "/sbin/up";
  cdt_->tunables().default_archive_id = 3;
  std::string data("tag=x\0rest", 10);
  ASSERT_EQ(Decide(Hur(HUA_ARCHIVE, {a, b, a}, 0, 0, data)), 0);
  EXPECT_EQ(decision_, UpcallDecision::kRun);
  std::vector<std::string> want = {
      "/sbin/up", "ARCHIVE", "lustre",          "3",
      "0",        "tag=x",   hsm::FormatFid(a), hsm::FormatFid(b)};
  EXPECT_EQ(argv_, want);
  // Nothing was recorded for the coordinator.
  EXPECT_TRUE(cdt_->log().records().empty());
  ASSERT_EQ(Decide(Hur(HUA_ARCHIVE, {a}, 2, HSM_FORCE_ACTION)), 0);
  EXPECT_EQ(argv_[3], "2");
  EXPECT_EQ(argv_[4], std::to_string(HSM_FORCE_ACTION));
}

TEST_F(UpcallTest, RefusesAsTheCoordinatorWouldAndSkipsWhatIsDone) {
  lu_fid a = MakeFile("a");
  cdt_->tunables().upcall_mask = 1ULL << HSMA_ARCHIVE;
  cdt_->tunables().upcall_path = "/sbin/up";
  // An unprivileged caller without ARCHIVE in its request mask.
  Caller user{1000, 1000, 1};
  EXPECT_EQ(Decide(Hur(HUA_ARCHIVE, {a}), user), -EPERM);
  EXPECT_EQ(Decide(Hur(HUA_ARCHIVE, {lu_fid{0x200000401, 999, 0}})), -ENOENT);
  FileEntry* entry;
  struct stat st;
  ASSERT_EQ(files_->Stat(a, &entry, &st), 0);
  files_->SetHsm(entry, {HS_EXISTS | HS_ARCHIVED, 1, DataVersion(st)});
  ASSERT_EQ(Decide(Hur(HUA_ARCHIVE, {a})), 0);
  EXPECT_EQ(decision_, UpcallDecision::kNothing);  // archived already
  EXPECT_TRUE(argv_.empty());
}

TEST_F(UpcallTest, BeginAndEndOfAnArchiveMarkItArchived) {
  lu_fid a = MakeFile("a", "contents");
  common::UniqueFd fd = Open("a");
  uint64_t version = 0;
  ASSERT_EQ(
      UpcallBegin(files_.get(), Req(a, HSMA_ARCHIVE, 2), fd.get(), &version),
      0);
  EXPECT_NE(version, 0u);
  EXPECT_EQ(Flags(a), uint32_t{HS_EXISTS});
  ASSERT_EQ(UpcallEnd(files_.get(), Req(a, HSMA_ARCHIVE, 2, version), fd.get()),
            0);
  EXPECT_EQ(Flags(a), uint32_t{HS_EXISTS | HS_ARCHIVED});
  FileEntry* entry;
  struct stat st;
  ASSERT_EQ(files_->Stat(a, &entry, &st), 0);
  EXPECT_EQ(entry->hsm.archive_id, 2u);
  EXPECT_EQ(entry->hsm.arch_ver, version);
  // Archived and clean: a second begin is refused.
  EXPECT_EQ(
      UpcallBegin(files_.get(), Req(a, HSMA_ARCHIVE, 2), fd.get(), &version),
      -EPERM);
  // A remove clears the archive state.
  ASSERT_EQ(UpcallBegin(files_.get(), Req(a, HSMA_REMOVE, 2), -1, &version), 0);
  ASSERT_EQ(UpcallEnd(files_.get(), Req(a, HSMA_REMOVE, 2), -1), 0);
  EXPECT_EQ(Flags(a), 0u);
}

TEST_F(UpcallTest, AFileWrittenDuringItsArchiveEndsDirtyWithEbusy) {
  lu_fid a = MakeFile("a", "v1");
  common::UniqueFd fd = Open("a");
  uint64_t version = 0;
  ASSERT_EQ(UpcallBegin(files_.get(), Req(a, HSMA_ARCHIVE), fd.get(), &version),
            0);
  testing::WriteFile(mount_ + "/a", "version two", /*append=*/true);
  EXPECT_EQ(UpcallEnd(files_.get(), Req(a, HSMA_ARCHIVE, 1, version), fd.get()),
            -EBUSY);
  EXPECT_EQ(Flags(a) & HS_ARCHIVED, 0u);
  // A failed worker leaves a never-archived file as it was.
  lu_fid b = MakeFile("b");
  common::UniqueFd fdb = Open("b");
  ASSERT_EQ(
      UpcallBegin(files_.get(), Req(b, HSMA_ARCHIVE), fdb.get(), &version), 0);
  EXPECT_EQ(
      UpcallEnd(files_.get(), Req(b, HSMA_ARCHIVE, 1, version, EIO), fdb.get()),
      0);
  EXPECT_EQ(Flags(b), uint32_t{HS_EXISTS});
}

}  // namespace
}  // namespace sim::mdt
