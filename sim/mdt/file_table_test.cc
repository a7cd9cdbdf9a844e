#include "sim/mdt/file_table.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sim/mdt/test_util.h"

namespace sim::mdt {
namespace {

class FileTableTest : public testing::CdtFixture {
 protected:
  HsmAttrs Attrs(const lu_fid& fid) {
    FileEntry* e;
    struct stat st;
    EXPECT_EQ(files_->Stat(fid, &e, &st), 0);
    return e->hsm;
  }
  void Archived(const lu_fid& fid) {
    FileEntry* e;
    struct stat st;
    ASSERT_EQ(files_->Stat(fid, &e, &st), 0);
    files_->SetHsm(e, {HS_EXISTS | HS_ARCHIVED, 1, DataVersion(st)});
  }
  int StateSet(const lu_fid& fid, uint64_t set, uint64_t clear,
               uint32_t archive = 0, bool root = true) {
    FileEntry* e;
    struct stat st;
    EXPECT_EQ(files_->Stat(fid, &e, &st), 0);
    hsm_state_set hss{
        HSS_SETMASK | HSS_CLEARMASK | (archive ? uint32_t{HSS_ARCHIVE_ID} : 0),
        archive, set, clear};
    return files_->StateSet(e, st, hss, root);
  }
};

TEST_F(FileTableTest, FidsComeFromSequence0x200000401WithAHardLink) {
  lu_fid a = MakeFile("a");
  lu_fid b = MakeFile("b");
  EXPECT_EQ(hsm::FormatFid(a), "[0x200000401:0x1:0x0]");
  EXPECT_EQ(hsm::FormatFid(b), "[0x200000401:0x2:0x0]");
  EXPECT_EQ(testing::ReadFile(mount_ + "/.lustre/fid/0x200000401:0x1:0x0"),
            "data");
  EXPECT_TRUE(MakeFile("a") == a);  // same inode, same FID
  int fd = open(mount_.c_str(), O_RDONLY | O_DIRECTORY);
  FileEntry* e;
  struct stat st;
  ASSERT_EQ(files_->Identify(fd, &e, &st), 0);
  close(fd);
  EXPECT_EQ(hsm::FormatFid(e->fid), "[0x200000007:0x1:0x0]");
}

// Lustre's .lustre/fid lookup skips a leading '[': `[seq:oid:ver]` opens the
// file as `seq:oid:ver` does. Both links go when the file is deleted.
TEST_F(FileTableTest, BracketedFidNameOpensTheFileToo) {
  lu_fid a = MakeFile("a");
  const std::string plain = mount_ + "/.lustre/fid/0x200000401:0x1:0x0";
  const std::string bracket = mount_ + "/.lustre/fid/[0x200000401:0x1:0x0]";
  EXPECT_EQ(testing::ReadFile(bracket), "data");
  struct stat p, b;
  ASSERT_EQ(stat(plain.c_str(), &p), 0);
  ASSERT_EQ(stat(bracket.c_str(), &b), 0);
  EXPECT_EQ(p.st_ino, b.st_ino);
  // Still known while any name of the file's own is left.
  EXPECT_EQ(Attrs(a).flags, 0u);
  ASSERT_EQ(unlink((mount_ + "/a").c_str()), 0);
  FileEntry* e;
  struct stat st;
  EXPECT_EQ(files_->Stat(a, &e, &st), -ENOENT);
  EXPECT_NE(access(plain.c_str(), F_OK), 0);
  EXPECT_NE(access(bracket.c_str(), F_OK), 0);
}

// A mount made before the bracketed names gets them when a file is next
// looked at, and its files are not mistaken for deleted ones.
TEST_F(FileTableTest, MissingBracketedNameIsAddedBack) {
  lu_fid a = MakeFile("a");
  const std::string bracket = mount_ + "/.lustre/fid/[0x200000401:0x1:0x0]";
  ASSERT_EQ(unlink(bracket.c_str()), 0);
  FileEntry* e;
  struct stat st;
  ASSERT_EQ(files_->Stat(a, &e, &st), 0);
  EXPECT_EQ(st.st_nlink, 3u);  // its name and our two
  EXPECT_EQ(testing::ReadFile(bracket), "data");
  ASSERT_EQ(unlink((mount_ + "/a").c_str()), 0);
  EXPECT_EQ(files_->Stat(a, &e, &st), -ENOENT);
  EXPECT_NE(access(bracket.c_str(), F_OK), 0);
}

TEST_F(FileTableTest, FilesOutsideTheMountHaveNoFid) {
  testing::WriteFile(dir_.path() + "/outside", "x");
  int fd = open((dir_.path() + "/outside").c_str(), O_RDONLY);
  FileEntry* e;
  struct stat st;
  EXPECT_EQ(files_->Identify(fd, &e, &st), -ENOTTY);
  close(fd);
}

TEST_F(FileTableTest, Fid2PathFollowsRenamesAndForgetsDeletedFiles) {
  std::filesystem::create_directories(mount_ + "/d1/d2");
  testing::WriteFile(mount_ + "/d1/d2/f", "x");
  int fd = open((mount_ + "/d1/d2/f").c_str(), O_RDONLY);
  FileEntry* e;
  struct stat st;
  ASSERT_EQ(files_->Identify(fd, &e, &st), 0);
  close(fd);
  lu_fid fid = e->fid;
  std::string path;
  EXPECT_EQ(files_->Fid2Path(fid, &path), 0);
  EXPECT_EQ(path, "d1/d2/f");
  ASSERT_EQ(rename((mount_ + "/d1/d2/f").c_str(), (mount_ + "/d1/g").c_str()),
            0);
  EXPECT_EQ(files_->Fid2Path(fid, &path), 0);
  EXPECT_EQ(path, "d1/g");
  EXPECT_EQ(files_->Fid2Path(kRootFid, &path), -ENOENT);  // never seen
  ASSERT_EQ(unlink((mount_ + "/d1/g").c_str()), 0);
  EXPECT_EQ(files_->Fid2Path(fid, &path), -ENOENT);
  EXPECT_EQ(files_->Find(fid), nullptr);
}

TEST_F(FileTableTest, WritingAnArchivedFileMakesItDirty) {
  lu_fid fid = MakeFile("a", "abc");
  Archived(fid);
  EXPECT_EQ(Attrs(fid).flags, uint32_t{HS_EXISTS | HS_ARCHIVED});
  chmod((mount_ + "/a").c_str(), 0600);  // metadata only: still clean
  EXPECT_EQ(Attrs(fid).flags, uint32_t{HS_EXISTS | HS_ARCHIVED});
  testing::WriteFile(mount_ + "/a", "d", /*append=*/true);
  EXPECT_EQ(Attrs(fid).flags, uint32_t{HS_EXISTS | HS_ARCHIVED | HS_DIRTY});
  EXPECT_EQ(files_->Release(fid), -EPERM);
}

TEST_F(FileTableTest, ReleaseKeepsSizeAndMtimeAndDropsData) {
  lu_fid fid = MakeFile("a", "abcdef");
  EXPECT_EQ(files_->Release(fid), -EPERM);  // not archived
  Archived(fid);
  struct stat before, after;
  ASSERT_EQ(stat((mount_ + "/a").c_str(), &before), 0);
  EXPECT_EQ(files_->Release(fid), 0);
  ASSERT_EQ(stat((mount_ + "/a").c_str(), &after), 0);
  EXPECT_EQ(after.st_size, 6);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_EQ(testing::ReadFile(mount_ + "/a"), std::string(6, '\0'));
  EXPECT_EQ(Attrs(fid).flags, uint32_t{HS_EXISTS | HS_ARCHIVED | HS_RELEASED});
  EXPECT_EQ(files_->Release(fid), 0);  // already released
  EXPECT_EQ(StateSet(fid, HS_NORELEASE, 0), 0);
  lu_fid other = MakeFile("b");
  Archived(other);
  EXPECT_EQ(StateSet(other, HS_NORELEASE, 0), 0);
  EXPECT_EQ(files_->Release(other), -EPERM);
}

TEST_F(FileTableTest, ReleaseRefusesAVersionOtherThanTheArchivedOne) {
  lu_fid fid = MakeFile("a", "abc");
  FileEntry* e;
  struct stat st;
  ASSERT_EQ(files_->Stat(fid, &e, &st), 0);
  // Archived, not dirty, but arch_ver is not the current version.
  files_->SetHsm(e, {HS_ARCHIVED, 1, 12345});
  EXPECT_EQ(files_->Release(fid), -EPERM);
}

TEST_F(FileTableTest, StateSetChecks) {
  lu_fid fid = MakeFile("a");
  EXPECT_EQ(StateSet(fid, 0x1000, 0), -EINVAL);
  EXPECT_EQ(StateSet(fid, HS_EXISTS, 0, 0, /*root=*/false), -EPERM);
  EXPECT_EQ(StateSet(fid, HS_NOARCHIVE, 0, 0, /*root=*/false), 0);
  EXPECT_EQ(Attrs(fid).flags, uint32_t{HS_NOARCHIVE});
  EXPECT_EQ(StateSet(fid, HS_DIRTY, 0), -EINVAL);     // without EXISTS
  EXPECT_EQ(StateSet(fid, HS_RELEASED, 0), -EINVAL);  // without ARCHIVED
  EXPECT_EQ(StateSet(fid, HS_LOST, 0), -EINVAL);      // without ARCHIVED
  EXPECT_EQ(StateSet(fid, HS_EXISTS | HS_ARCHIVED | HS_RELEASED | HS_DIRTY, 0),
            -EINVAL);
  // An archive id without EXISTS: success, nothing saved.
  EXPECT_EQ(StateSet(fid, HS_NORELEASE, 0, 5), 0);
  EXPECT_EQ(Attrs(fid).flags, uint32_t{HS_NOARCHIVE});
  EXPECT_EQ(StateSet(fid, HS_EXISTS | HS_ARCHIVED, HS_NOARCHIVE, 5), 0);
  EXPECT_EQ(Attrs(fid).flags, uint32_t{HS_EXISTS | HS_ARCHIVED});
  EXPECT_EQ(Attrs(fid).archive_id, 5u);
}

TEST_F(FileTableTest, ImportMakesAReleasedArchivedFile) {
  std::string path = mount_ + "/imported";
  int fd = open(path.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  hsm_user_import hui{};
  hui.hui_size = 1000;
  hui.hui_mtime = 1600000000;
  hui.hui_atime = 1600000000;
  hui.hui_mode = 0640;
  hui.hui_archive_id = 3;
  lu_fid fid;
  ASSERT_EQ(files_->Import(fd, hui, &fid), 0);
  close(fd);
  EXPECT_EQ(Attrs(fid).flags, uint32_t{HS_EXISTS | HS_ARCHIVED | HS_RELEASED});
  EXPECT_EQ(Attrs(fid).archive_id, 3u);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 1000);
  EXPECT_EQ(st.st_mtime, 1600000000);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(FileTableTest, DataVersionFollowsSizeAndMtime) {
  struct stat a {
  }, b{};
  a.st_ino = b.st_ino = 7;
  a.st_size = b.st_size = 10;
  a.st_mtim = b.st_mtim = {100, 5};
  EXPECT_EQ(DataVersion(a), DataVersion(b));
  b.st_mtim.tv_nsec = 6;
  EXPECT_NE(DataVersion(a), DataVersion(b));
  b = a;
  b.st_size = 11;
  EXPECT_NE(DataVersion(a), DataVersion(b));
  b = a;
  b.st_mode = 0777;  // chmod does not count
  EXPECT_EQ(DataVersion(a), DataVersion(b));
}

}  // namespace
}  // namespace sim::mdt
