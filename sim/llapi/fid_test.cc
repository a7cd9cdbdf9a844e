// llapi_fid_parse (docs/lustre.md, helpers copytools use) and
// llapi_parse_size.
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>

#include <cerrno>

namespace {

struct Parsed {
  int rc;
  lu_fid fid;
  std::string rest;  // what *endptr points at
  int saved_errno;
};

Parsed Parse(const char* text) {
  Parsed p{};
  p.fid = {0xdead, 0xbeef, 0xcafe};
  char* end = nullptr;
  errno = 12345;
  p.rc = llapi_fid_parse(text, &p.fid, &end);
  p.saved_errno = errno;
  p.rest = end ? end : "<null>";
  return p;
}

TEST(FidParseTest, BracketedFid) {
  Parsed p = Parse("[0x200000401:0x1:0x0]");
  EXPECT_EQ(p.rc, 0);
  EXPECT_EQ(p.fid.f_seq, 0x200000401ULL);
  EXPECT_EQ(p.fid.f_oid, 1u);
  EXPECT_EQ(p.fid.f_ver, 0u);
  EXPECT_EQ(p.rest, "");
  EXPECT_EQ(p.saved_errno, 0);
}

TEST(FidParseTest, WithoutBracketsAndDecimal) {
  Parsed p = Parse("0x200000402:44:7");
  EXPECT_EQ(p.rc, 0);
  EXPECT_EQ(p.fid.f_seq, 0x200000402ULL);
  EXPECT_EQ(p.fid.f_oid, 44u);
  EXPECT_EQ(p.fid.f_ver, 7u);
  EXPECT_EQ(p.rest, "");
}

TEST(FidParseTest, SkipsLeadingSpaceAndBracketsEndptrAfterOneBracket) {
  Parsed p = Parse("  [[0x1:0x2:0x3]] tail");
  EXPECT_EQ(p.rc, 0);
  EXPECT_EQ(p.fid.f_seq, 1u);
  EXPECT_EQ(p.fid.f_oid, 2u);
  EXPECT_EQ(p.fid.f_ver, 3u);
  EXPECT_EQ(p.rest, "] tail");
}

TEST(FidParseTest, ClosingBracketOnlyConsumedWhenOpened) {
  Parsed p = Parse("0x1:0x2:0x3]");
  EXPECT_EQ(p.rc, 0);
  EXPECT_EQ(p.rest, "]");
  p = Parse("[0x1:0x2:0x3");
  EXPECT_EQ(p.rc, 0);
  EXPECT_EQ(p.rest, "");
}

TEST(FidParseTest, GarbageIsEinvalWithEndptrAtTheBadField) {
  Parsed p = Parse("foo");
  EXPECT_EQ(p.rc, -EINVAL);
  EXPECT_EQ(p.saved_errno, EINVAL);
  EXPECT_EQ(p.rest, "foo");
  EXPECT_EQ(p.fid.f_seq, 0xdeadu);  // untouched
}

TEST(FidParseTest, MissingFieldIsEinval) {
  Parsed p = Parse("[0x1:0x2]");
  EXPECT_EQ(p.rc, -EINVAL);
  EXPECT_EQ(p.saved_errno, EINVAL);
  EXPECT_EQ(p.rest, "]");
}

TEST(FidParseTest, OidBeyond32BitsIsErangeAfterParsingTheRest) {
  Parsed p = Parse("[0x1:0x100000000:0x5]x");
  EXPECT_EQ(p.rc, -ERANGE);
  EXPECT_EQ(p.saved_errno, ERANGE);
  EXPECT_EQ(p.fid.f_seq, 1u);
  EXPECT_EQ(p.fid.f_oid, 0xbeefu);  // not stored
  EXPECT_EQ(p.fid.f_ver, 5u);
  EXPECT_EQ(p.rest, "x");
}

TEST(FidParseTest, VerBeyond32BitsIsErange) {
  Parsed p = Parse("0x1:0x2:0x100000000");
  EXPECT_EQ(p.rc, -ERANGE);
  EXPECT_EQ(p.saved_errno, ERANGE);
  EXPECT_EQ(p.fid.f_oid, 2u);
  EXPECT_EQ(p.fid.f_ver, 0xcafeu);
  EXPECT_EQ(p.rest, "");
}

TEST(FidParseTest, SeqOverflowIsErange) {
  Parsed p = Parse("0xfffffffffffffffffff:0x1:0x0");
  EXPECT_EQ(p.rc, -ERANGE);
  EXPECT_EQ(p.fid.f_seq, 0xdeadu);
}

TEST(FidParseTest, LaterEinvalWinsOverErange) {
  Parsed p = Parse("0x1:0x100000000");
  EXPECT_EQ(p.rc, -EINVAL);
  EXPECT_EQ(p.saved_errno, EINVAL);
}

TEST(FidParseTest, NullArgumentsAreEinval) {
  lu_fid fid;
  char* end = reinterpret_cast<char*>(1);
  EXPECT_EQ(llapi_fid_parse(nullptr, &fid, &end), -EINVAL);
  EXPECT_EQ(end, nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(llapi_fid_parse("0x1:0x2:0x3", nullptr, nullptr), -EINVAL);
}

TEST(FidParseTest, NullEndptrIsAllowed) {
  lu_fid fid{};
  EXPECT_EQ(llapi_fid_parse("[0x200000401:0x1:0x0]", &fid, nullptr), 0);
  EXPECT_EQ(fid.f_seq, 0x200000401ULL);
}

struct Size {
  int rc;
  unsigned long long size;
  unsigned long long units;
};

Size ParseSize(const char* text, int bytes_spec = 0,
               unsigned long long units = 0) {
  Size s{0, 0, units};
  s.rc = llapi_parse_size(text, &s.size, &s.units, bytes_spec);
  return s;
}

TEST(ParseSizeTest, PlainNumberUsesDefaultUnits) {
  Size s = ParseSize("1024");
  EXPECT_EQ(s.rc, 0);
  EXPECT_EQ(s.size, 1024u);
  EXPECT_EQ(s.units, 1u);
  s = ParseSize("3", 0, 1024);
  EXPECT_EQ(s.size, 3072u);
}

TEST(ParseSizeTest, BinarySuffixesAnyCase) {
  EXPECT_EQ(ParseSize("4k").size, 4096u);
  EXPECT_EQ(ParseSize("4K").units, 1024u);
  EXPECT_EQ(ParseSize("2M").size, 2ULL << 20);
  EXPECT_EQ(ParseSize("3g").size, 3ULL << 30);
  EXPECT_EQ(ParseSize("1T").size, 1ULL << 40);
  EXPECT_EQ(ParseSize("1P").size, 1ULL << 50);
  EXPECT_EQ(ParseSize("1KiB").size, 1024u);
  EXPECT_EQ(ParseSize("1kb").size, 1024u);
}

TEST(ParseSizeTest, Fractions) {
  EXPECT_EQ(ParseSize("1.5M").size, 1572864u);
  EXPECT_EQ(ParseSize("0.25k").size, 256u);
}

TEST(ParseSizeTest, BIsBlocksUnlessBytesSpec) {
  EXPECT_EQ(ParseSize("10b").size, 5120u);
  EXPECT_EQ(ParseSize("10b", 1).size, 10u);
  EXPECT_EQ(ParseSize("7c").size, 7u);
}

TEST(ParseSizeTest, RejectsNegativeUnknownSuffixAndOverflow) {
  EXPECT_EQ(ParseSize("-1").rc, -1);
  EXPECT_EQ(ParseSize("1x").rc, -1);
  EXPECT_EQ(ParseSize("1kx").rc, -1);
  EXPECT_EQ(ParseSize("17179869184G").rc, -1);  // 2^34 GiB = 2^64
  EXPECT_EQ(ParseSize("17179869183G").rc, 0);
}

}  // namespace
