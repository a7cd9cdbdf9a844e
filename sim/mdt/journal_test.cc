#include "sim/mdt/journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "sim/mdt/state_codec.h"
#include "sim/mdt/test_util.h"

namespace sim::mdt {
namespace {

using testing::TempDir;

std::vector<std::string> Replay(const std::string& path, std::string* warning) {
  Journal journal(path, {});
  std::vector<std::string> out;
  EXPECT_EQ(
      journal.Open([&](std::string_view p) { out.emplace_back(p); }, warning),
      0);
  return out;
}

TEST(JournalTest, RecordsSurviveReopen) {
  TempDir dir;
  std::string path = dir.path() + "/journal";
  {
    Journal journal(path, {});
    std::string warning;
    ASSERT_EQ(journal.Open([](std::string_view) {}, &warning), 0);
    journal.Append("one");
    journal.Append("two");
    ASSERT_EQ(journal.Flush(), 0);
    journal.Append("lost: never flushed");
  }
  std::string warning;
  EXPECT_EQ(Replay(path, &warning), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(warning, "");
}

TEST(JournalTest, TruncatedTrailingRecordIsIgnored) {
  TempDir dir;
  std::string path = dir.path() + "/journal";
  {
    Journal journal(path, {});
    std::string warning;
    ASSERT_EQ(journal.Open([](std::string_view) {}, &warning), 0);
    journal.Append("one");
    journal.Append("two-two");
    ASSERT_EQ(journal.Flush(), 0);
  }
  ASSERT_EQ(truncate(path.c_str(), 8 + 3 + 8 + 4), 0);
  std::string warning;
  EXPECT_EQ(Replay(path, &warning), std::vector<std::string>{"one"});
  EXPECT_EQ(warning,
            "torn record at offset 11: 7 payload bytes announced, 4 present; "
            "ignoring the last 12 bytes");
  // The tail was cut off, so new records follow the good ones.
  {
    Journal journal(path, {});
    ASSERT_EQ(journal.Open([](std::string_view) {}, &warning), 0);
    EXPECT_EQ(warning, "");
    journal.Append("three");
    ASSERT_EQ(journal.Flush(), 0);
  }
  EXPECT_EQ(Replay(path, &warning), (std::vector<std::string>{"one", "three"}));
}

TEST(JournalTest, CorruptRecordEndsTheReplay) {
  TempDir dir;
  std::string path = dir.path() + "/journal";
  {
    Journal journal(path, {});
    std::string warning;
    ASSERT_EQ(journal.Open([](std::string_view) {}, &warning), 0);
    journal.Append("one");
    journal.Append("two");
    ASSERT_EQ(journal.Flush(), 0);
  }
  int fd = open(path.c_str(), O_WRONLY);
  ASSERT_EQ(pwrite(fd, "X", 1, 8 + 3 + 8), 1);
  close(fd);
  std::string warning;
  EXPECT_EQ(Replay(path, &warning), std::vector<std::string>{"one"});
  EXPECT_EQ(warning,
            "corrupt record at offset 11: bad checksum; ignoring the last 11 "
            "bytes");
}

TEST(JournalTest, CompactionIsDueOnlyWhenLargeRelativeToLiveState) {
  TempDir dir;
  Journal journal(dir.path() + "/journal", {false, 100});
  std::string warning;
  ASSERT_EQ(journal.Open([](std::string_view) {}, &warning), 0);
  for (int i = 0; i < 10; ++i) journal.Append(std::string(20, 'x'));
  ASSERT_EQ(journal.Flush(), 0);
  EXPECT_EQ(journal.size(), 280u);
  EXPECT_TRUE(journal.NeedsCompaction(60));
  EXPECT_FALSE(journal.NeedsCompaction(70));
  std::string snapshot;
  Journal::Frame("snap", &snapshot);
  ASSERT_EQ(journal.Rewrite(snapshot), 0);
  EXPECT_EQ(journal.size(), 12u);
  journal.Append("after");
  ASSERT_EQ(journal.Flush(), 0);
  EXPECT_EQ(Replay(dir.path() + "/journal", &warning),
            (std::vector<std::string>{"snap", "after"}));
}

// The coordinator's state comes back from the journal: files, records and
// the cookie counter; STARTED records become WAITING, restores relock.
class RecoveryTest : public testing::CdtFixture {
 protected:
  std::unique_ptr<Coordinator> Restart(std::string* warning) {
    EXPECT_EQ(journal_->Flush(), 0);
    journal2_ = std::make_unique<Journal>(mount_ + "/.lustre/state/journal",
                                          Journal::Options{});
    files2_ = std::make_unique<FileTable>(mount_, journal2_.get());
    EXPECT_EQ(files2_->Init(), 0);
    auto cdt = std::make_unique<Coordinator>(
        "lustre", files2_.get(), journal2_.get(), &clock_, &channel_);
    EXPECT_EQ(journal2_->Open([&](std::string_view p) { cdt->ApplyJournal(p); },
                              warning),
              0);
    cdt->FinishRecovery();
    EXPECT_EQ(cdt->Control("enabled"), 0);
    return cdt;
  }
  std::unique_ptr<Journal> journal2_;
  std::unique_ptr<FileTable> files2_;
};

TEST_F(RecoveryTest, StateSurvivesRestart) {
  lu_fid a = MakeFile("a"), r = MakeFile("r");
  FileEntry* e;
  struct stat st;
  ASSERT_EQ(files_->Stat(r, &e, &st), 0);
  files_->SetHsm(e, {HS_EXISTS | HS_ARCHIVED | HS_RELEASED, 1, 0});
  ASSERT_EQ(cdt_->RegisterAgent("x", {}), 0);
  ASSERT_EQ(Request(HUA_ARCHIVE, {a}), 0);
  Scan();
  ASSERT_EQ(Request(HUA_RESTORE, {r}, 0, 0, "data"), 0);
  uint64_t last = cdt_->last_cookie();

  std::string warning;
  auto cdt = Restart(&warning);
  EXPECT_EQ(warning, "");
  EXPECT_EQ(files2_->size(), 2u);
  ASSERT_NE(files2_->Find(r), nullptr);
  EXPECT_EQ(files2_->Find(r)->hsm.flags,
            uint32_t{HS_EXISTS | HS_ARCHIVED | HS_RELEASED});
  EXPECT_EQ(files2_->Find(a)->hsm.flags, uint32_t{HS_EXISTS});
  ASSERT_EQ(cdt->log().records().size(), 2u);
  EXPECT_EQ(cdt->log().records().at(1).status, uint32_t{ARS_WAITING});
  EXPECT_EQ(cdt->log().records().at(2).data, "data");
  EXPECT_TRUE(cdt->RestoreLocked(r));
  EXPECT_EQ(cdt->last_cookie(), last);
  // New FIDs and cookies do not reuse old ones.
  EXPECT_EQ(files2_->next_oid(), 3u);
}

TEST_F(RecoveryTest, SnapshotReplaysToTheSameState) {
  lu_fid a = MakeFile("a");
  ASSERT_EQ(Request(HUA_ARCHIVE, {a}), 0);
  ASSERT_EQ(journal_->Flush(), 0);
  ASSERT_EQ(journal_->Rewrite(cdt_->Snapshot()), 0);
  std::string warning;
  auto cdt = Restart(&warning);
  EXPECT_EQ(warning, "");
  EXPECT_EQ(cdt->log().records().size(), 1u);
  EXPECT_EQ(cdt->last_cookie(), cdt_->last_cookie());
  EXPECT_NE(files2_->Find(a), nullptr);
}

TEST_F(RecoveryTest, TornTailIsReportedAndTheRestKept) {
  ASSERT_EQ(Request(HUA_ARCHIVE, {MakeFile("a")}), 0);
  ASSERT_EQ(journal_->Flush(), 0);
  std::string path = mount_ + "/.lustre/state/journal";
  int fd = open(path.c_str(), O_WRONLY | O_APPEND);
  ASSERT_EQ(write(fd, "\x50\x00\x00\x00\x01\x02", 6), 6);
  close(fd);
  std::string warning;
  auto cdt = Restart(&warning);
  EXPECT_NE(warning.find("torn record"), std::string::npos) << warning;
  EXPECT_EQ(cdt->log().records().size(), 1u);
}

}  // namespace
}  // namespace sim::mdt
