#include "copytool/posix/options.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace ct {
namespace {

ParseResult Parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"ct-posix"};
  argv.insert(argv.end(), args);
  return ParseOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(OptionsTest, DefaultsAreLhsmtoolPosixDefaults) {
  ParseResult r = Parse({"-p", "/archive", "/mnt/lustre"});
  ASSERT_TRUE(r.options) << r.message;
  const Options& o = *r.options;
  EXPECT_EQ(o.mount, "/mnt/lustre");
  EXPECT_EQ(o.hsm_root, "/archive");
  EXPECT_TRUE(o.archives.empty());
  EXPECT_EQ(o.update_interval.count(), 30.0);
  EXPECT_EQ(o.chunk_size, 1u << 20);
  EXPECT_EQ(o.bandwidth, 0u);
  EXPECT_EQ(o.archive_format, ArchiveFormat::kV1);
  EXPECT_EQ(o.verbosity, 5);
  EXPECT_FALSE(o.abort_on_error);
  EXPECT_FALSE(o.dry_run);
  EXPECT_EQ(o.threads, 4);
}

TEST(OptionsTest, LongFormsWithDashesAndUnderscores) {
  ParseResult r =
      Parse({"--hsm_root", "/a", "--update-interval", "2", "--chunk_size",
             "64K", "--bandwidth", "3", "--archive-format", "v2",
             "--abort_on_error", "--dry-run", "--threads", "8", "/mnt"});
  ASSERT_TRUE(r.options) << r.message;
  const Options& o = *r.options;
  EXPECT_EQ(o.hsm_root, "/a");
  EXPECT_EQ(o.update_interval.count(), 2.0);
  EXPECT_EQ(o.chunk_size, 64u << 10);
  EXPECT_EQ(o.bandwidth, 3u << 20);  // a plain number is MiB/s
  EXPECT_EQ(o.archive_format, ArchiveFormat::kV2);
  EXPECT_TRUE(o.abort_on_error);
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.threads, 8);
}

TEST(OptionsTest, ArchiveIsRepeatableAndDropsDuplicates) {
  ParseResult r = Parse({"-A", "2", "-A", "1", "-A", "2", "-p", "/a", "/m"});
  ASSERT_TRUE(r.options) << r.message;
  EXPECT_EQ(r.options->archives, (std::vector<int>{2, 1}));
}

TEST(OptionsTest, ArchiveZeroMeansAll) {
  ParseResult r = Parse({"-A", "3", "-A", "0", "-p", "/a", "/m"});
  ASSERT_TRUE(r.options) << r.message;
  EXPECT_TRUE(r.options->archives.empty());
}

TEST(OptionsTest, NegativeArchiveIsAnError) {
  ParseResult r = Parse({"-A", "-1", "-p", "/a", "/m"});
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.exit_code, 2);
}

TEST(OptionsTest, VerboseAndQuietMoveTheLevel) {
  ParseResult r = Parse({"-v", "-v", "-q", "-p", "/a", "/m"});
  ASSERT_TRUE(r.options) << r.message;
  EXPECT_EQ(r.options->verbosity, 6);
  r = Parse({"-qqqqqqq", "-p", "/a", "/m"});
  ASSERT_TRUE(r.options) << r.message;
  EXPECT_EQ(r.options->verbosity, 0);
}

TEST(OptionsTest, HsmRootIsRequired) {
  ParseResult r = Parse({"/mnt"});
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.message.find("hsm-root"), std::string::npos) << r.message;
}

TEST(OptionsTest, MountIsRequired) {
  ParseResult r = Parse({"-p", "/a"});
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.exit_code, 2);
}

TEST(OptionsTest, BadValuesAreUsageErrorsNamingTheOption) {
  struct Case {
    std::initializer_list<const char*> args;
    const char* message;
  };
  for (const Case& c : {
           Case{{"-c", "0", "-p", "/a", "/m"},
                "--chunk-size: invalid size '0'"},
           Case{{"-c", "1X", "-p", "/a", "/m"},
                "--chunk-size: invalid size '1X'"},
           Case{{"-b", "fast", "-p", "/a", "/m"},
                "--bandwidth: invalid rate 'fast'"},
           Case{{"-F", "v3", "-p", "/a", "/m"},
                "--archive-format: expected v1 or v2, got 'v3'"},
           Case{{"-t", "0", "-p", "/a", "/m"}, "--threads: must be >= 1"},
       }) {
    ParseResult r = Parse(c.args);
    EXPECT_FALSE(r.options);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.message, c.message);
  }
}

TEST(OptionsTest, HelpExitsZeroWithUsage) {
  ParseResult r = Parse({"--help"});
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.message.find("--hsm-root"), std::string::npos);
}

TEST(ParseSizeTest, UnitsAreBinaryAndCaseInsensitive) {
  EXPECT_EQ(ParseSize("123", 1), 123u);
  EXPECT_EQ(ParseSize("2", 1 << 20), 2u << 20);
  EXPECT_EQ(ParseSize("4k", 1), 4096u);
  EXPECT_EQ(ParseSize("4KiB", 1), 4096u);
  EXPECT_EQ(ParseSize("1M", 1), 1u << 20);
  EXPECT_EQ(ParseSize("1g", 1), 1u << 30);
  EXPECT_EQ(ParseSize("7b", 1 << 20), 7u);
}

TEST(ParseSizeTest, RejectsGarbageAndOverflow) {
  EXPECT_EQ(ParseSize("", 1), std::nullopt);
  EXPECT_EQ(ParseSize("k", 1), std::nullopt);
  EXPECT_EQ(ParseSize("-1", 1), std::nullopt);
  EXPECT_EQ(ParseSize("1q", 1), std::nullopt);
  EXPECT_EQ(ParseSize("1kx", 1), std::nullopt);
  EXPECT_EQ(ParseSize("99999999999999999999", 1), std::nullopt);
  EXPECT_EQ(ParseSize("17179869184G", 1), std::nullopt);
}

}  // namespace
}  // namespace ct
