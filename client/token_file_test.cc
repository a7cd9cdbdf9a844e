#include "client/token_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace client {
namespace {

// A fresh directory, removed with its contents at the end.
struct ScratchDir {
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "coordinatool_XXXXXX")
            .string();
    path_ = mkdtemp(pattern.data()) ? pattern : "";
    EXPECT_FALSE(path_.empty());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }
  std::string path_;
};

class TokenFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text, mode_t mode) {
    std::ofstream(path_) << text;
    EXPECT_EQ(chmod(path_.c_str(), mode), 0);
    return path_;
  }
  ScratchDir dir_;
  std::string path_ = dir_.Join("token");
};

TEST_F(TokenFileTest, ReadsTheFirstLineTrimmed) {
  std::string token, error;
  ASSERT_TRUE(ReadTokenFile(Write("  s3cret-token-0123 \nsecond line\n", 0600),
                            &token, &error))
      << error;
  EXPECT_EQ(token, "s3cret-token-0123");
  ASSERT_TRUE(ReadTokenFile(Write("abc", 0400), &token, &error)) << error;
  EXPECT_EQ(token, "abc");
}

TEST_F(TokenFileTest, RefusedWhenOthersCanReadItOrItHoldsNoToken) {
  std::string token = "unchanged", error;
  for (mode_t mode : {0640, 0604, 0644}) {
    EXPECT_FALSE(ReadTokenFile(Write("s3cret\n", mode), &token, &error));
    EXPECT_NE(error.find("readable by group or other"), std::string::npos)
        << error;
  }
  EXPECT_FALSE(ReadTokenFile(Write(" \n s3cret\n", 0600), &token, &error));
  EXPECT_NE(error.find("no token"), std::string::npos) << error;
  EXPECT_FALSE(
      ReadTokenFile(Write(std::string(5000, 'a'), 0600), &token, &error));
  EXPECT_FALSE(ReadTokenFile(dir_.Join("missing"), &token, &error));
  EXPECT_FALSE(ReadTokenFile(dir_.path(), &token, &error));
  EXPECT_EQ(token, "unchanged");
}

}  // namespace
}  // namespace client
