#include "protocol/json_stream.h"

#include <gtest/gtest.h>

#include <string>

namespace protocol {
namespace {

TEST(JsonStreamReaderTest, SplitsObjectsWrittenBackToBack) {
  JsonStreamReader reader;
  ASSERT_TRUE(
      reader.Feed(R"({"command":"ehlo"}{"command":"recv","max_bytes":4096})"));
  boost::json::object first, second, none;
  ASSERT_TRUE(reader.Next(&first));
  ASSERT_TRUE(reader.Next(&second));
  EXPECT_FALSE(reader.Next(&none));
  EXPECT_EQ(first.at("command").as_string(), "ehlo");
  EXPECT_EQ(second.at("max_bytes").as_int64(), 4096);
}

TEST(JsonStreamReaderTest, ReassemblesObjectsSplitAcrossReads) {
  JsonStreamReader reader;
  std::string text = R"({"command":"done","hai_cookie":-1,"status":0})";
  boost::json::object object;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    ASSERT_TRUE(reader.Feed(text.substr(i, 1)));
    EXPECT_FALSE(reader.Next(&object)) << "complete after byte " << i;
  }
  ASSERT_TRUE(reader.Feed(text.substr(text.size() - 1)));
  ASSERT_TRUE(reader.Next(&object));
  EXPECT_EQ(object.at("hai_cookie").as_int64(), -1);
}

TEST(JsonStreamReaderTest, AcceptsWhitespaceBetweenObjects) {
  JsonStreamReader reader;
  ASSERT_TRUE(reader.Feed("{\"a\":1}\n  \r\n{\"a\":2}\n"));
  boost::json::object object;
  ASSERT_TRUE(reader.Next(&object));
  ASSERT_TRUE(reader.Next(&object));
  EXPECT_EQ(object.at("a").as_int64(), 2);
  EXPECT_EQ(reader.pending_bytes(), 0u);
}

TEST(JsonStreamReaderTest, RejectsGarbage) {
  JsonStreamReader reader;
  EXPECT_FALSE(reader.Feed("\x01\x02hello"));
  EXPECT_EQ(reader.error(), "expected a JSON object, got byte 0x01");
  EXPECT_FALSE(reader.Feed("{}"));  // no resynchronisation after an error
}

TEST(JsonStreamReaderTest, RejectsNonObjectValues) {
  JsonStreamReader reader;
  EXPECT_FALSE(reader.Feed("[1,2]"));
  EXPECT_EQ(reader.error(), "expected a JSON object, got byte 0x5b");
}

TEST(JsonStreamReaderTest, RejectsMalformedJson) {
  JsonStreamReader reader;
  EXPECT_FALSE(reader.Feed("{\"command\" \"ehlo\"}"));
  EXPECT_NE(reader.error().find("malformed JSON"), std::string::npos)
      << reader.error();
}

TEST(JsonStreamReaderTest, RejectsOversizedValueBeforeItEnds) {
  JsonStreamReader reader(1024);
  ASSERT_TRUE(reader.Feed("{\"data\":\""));
  std::string chunk(512, 'x');
  ASSERT_TRUE(reader.Feed(chunk));
  EXPECT_FALSE(reader.Feed(chunk));
  EXPECT_EQ(reader.error(), "JSON value exceeds 1024 bytes");
}

// The limit counts the value's bytes, not the blanks after it: whether they
// arrive in the same read must not change the verdict (found by
// fuzz/json_stream).
TEST(JsonStreamReaderTest, BlanksAfterAValueDoNotCountAgainstItsLimit) {
  const std::string value = "{\"a\":\"" + std::string(8, 'x') + "\"}";
  ASSERT_EQ(value.size(), 16u);
  JsonStreamReader whole(16);
  EXPECT_TRUE(whole.Feed(value + "\n\n\n\n" + value + "\n")) << whole.error();
  JsonStreamReader split(16);
  EXPECT_TRUE(split.Feed(value));
  EXPECT_TRUE(split.Feed("\n\n\n\n"));
  EXPECT_TRUE(split.Feed(value + "\n"));
  boost::json::object object;
  for (JsonStreamReader* reader : {&whole, &split}) {
    ASSERT_TRUE(reader->Next(&object));
    ASSERT_TRUE(reader->Next(&object));
    EXPECT_FALSE(reader->Next(&object));
    EXPECT_EQ(reader->pending_bytes(), 0u);
  }
  JsonStreamReader over(15);
  EXPECT_FALSE(over.Feed(value + "\n"));
}

}  // namespace
}  // namespace protocol

namespace protocol {
namespace {

// Issue 10: an unfinished array of small values costs many times its text.
TEST(JsonStreamReaderTest, BoundsTheMemoryOfAnUnfinishedValue) {
  JsonStreamReader reader(kDefaultMaxValueBytes, 1 << 20);
  ASSERT_TRUE(reader.Feed(R"({"list":[)"));
  std::string chunk;
  for (int i = 0; i < 1024; ++i) chunk += "0,";
  bool ok = true;
  size_t fed = 0;
  while (ok && fed < (8u << 20)) {
    ok = reader.Feed(chunk);
    fed += chunk.size();
  }
  EXPECT_FALSE(ok);
  EXPECT_LT(fed, 1u << 20);  // 16 bytes a value: cut before 1 MiB of text
  EXPECT_NE(reader.error().find("JSON value needs more than 1048576 bytes"),
            std::string::npos)
      << reader.error();
  EXPECT_LE(reader.memory_bytes(), 1u << 20);
}

TEST(JsonStreamReaderTest, MemoryIsGivenBackWhenObjectsGo) {
  JsonStreamReader reader(kDefaultMaxValueBytes, 1 << 20);
  std::string text = R"({"a":")" + std::string(100000, 'x') + R"("})";
  for (int i = 0; i < 50; ++i) {  // 5 MB through a 1 MiB bound
    ASSERT_TRUE(reader.Feed(text)) << reader.error();
    boost::json::object object(reader.storage());
    ASSERT_TRUE(reader.Next(&object));
    EXPECT_EQ(object.at("a").as_string().size(), 100000u);
  }
  EXPECT_LT(reader.memory_bytes(), 512u << 10);  // parser buffers only
}

}  // namespace
}  // namespace protocol
