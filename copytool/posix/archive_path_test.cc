#include "copytool/posix/archive_path.h"

#include <gtest/gtest.h>

namespace ct {
namespace {

constexpr lu_fid kFirstFid = {0x200000401, 0x1, 0x0};

TEST(ArchivePathTest, V1HasSixLevelsOfFourHexDigits) {
  // docs/lustre.md, archive layout: the example of [0x200000401:0x1:0x0].
  EXPECT_EQ(ArchivePath("/archive", kFirstFid, ArchiveFormat::kV1),
            "/archive/0001/0000/0401/0000/0002/0000/0x200000401:0x1:0x0");
}

TEST(ArchivePathTest, V2HasOneLevelOfOidXorSeq) {
  EXPECT_EQ(ArchivePath("/archive", kFirstFid, ArchiveFormat::kV2),
            "/archive/0400/0x200000401:0x1:0x0");
}

TEST(ArchivePathTest, V1SplitsLargeOidAndSequence) {
  const lu_fid fid = {0x123456789abcdef0, 0xfedc1234, 0x0};
  EXPECT_EQ(ArchivePath("/a", fid, ArchiveFormat::kV1),
            "/a/1234/fedc/def0/9abc/5678/1234/"
            "0x123456789abcdef0:0xfedc1234:0x0");
}

TEST(ArchivePathTest, ZeroSequencePrintsAsGlibcDoes) {
  // DFID_NOBRACE's %#llx prints 0 as "0" under glibc.
  const lu_fid fid = {0x0, 0x2a, 0x0};
  EXPECT_EQ(ArchivePath("/a", fid, ArchiveFormat::kV2), "/a/002a/0:0x2a:0x0");
}

TEST(ArchivePathTest, TrailingSlashesOfTheRootAreDropped) {
  EXPECT_EQ(ArchivePath("/archive//", kFirstFid, ArchiveFormat::kV2),
            "/archive/0400/0x200000401:0x1:0x0");
}

TEST(ArchivePathTest, DirIsThePathWithoutTheFileName) {
  EXPECT_EQ(ArchiveDir("/archive", kFirstFid, ArchiveFormat::kV1),
            "/archive/0001/0000/0401/0000/0002/0000");
}

TEST(ArchivePathTest, KeyedByFidSoDistinctFidsNeverCollide) {
  const lu_fid other = {0x200000401, 0x10001, 0x0};
  EXPECT_NE(ArchivePath("/a", kFirstFid, ArchiveFormat::kV1),
            ArchivePath("/a", other, ArchiveFormat::kV1));
}

TEST(ArchiveFormatTest, ParsesV1AndV2Only) {
  EXPECT_EQ(ParseArchiveFormat("v1"), ArchiveFormat::kV1);
  EXPECT_EQ(ParseArchiveFormat("v2"), ArchiveFormat::kV2);
  EXPECT_EQ(ParseArchiveFormat("v3"), std::nullopt);
  EXPECT_EQ(ParseArchiveFormat(""), std::nullopt);
}

}  // namespace
}  // namespace ct
