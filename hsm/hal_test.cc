#include "hsm/hal.h"

#include <gtest/gtest.h>

#include <cstring>

namespace hsm {
namespace {

hsm_action_item MakeItem(uint32_t action, uint32_t oid, uint64_t cookie) {
  hsm_action_item hai{};
  hai.hai_action = action;
  hai.hai_fid = {0x200000401, oid, 0};
  hai.hai_dfid = hai.hai_fid;
  hai.hai_extent = {0, LUSTRE_EOF};
  hai.hai_cookie = cookie;
  return hai;
}

TEST(HalTest, SizeMatchesLustresExample) {
  // fsname "lustre", one item with 5 data bytes and one without:
  // 32 + 8 + 80 + 72 = 192 (docs/lustre.md, action list).
  HalBuilder builder("lustre", 1, 0);
  ASSERT_TRUE(builder.Add(MakeItem(HSMA_ARCHIVE, 1, 7), "hello"));
  ASSERT_TRUE(builder.Add(MakeItem(HSMA_RESTORE, 2, 8), ""));
  EXPECT_EQ(builder.size(), 192u);
  std::string bytes = builder.bytes();
  auto* hal = reinterpret_cast<hsm_action_list*>(bytes.data());
  EXPECT_EQ(hal_size(hal), 192u);
  EXPECT_EQ(hal->hal_count, 2u);
  hsm_action_item* first = hai_first(hal);
  EXPECT_EQ(reinterpret_cast<char*>(first) - bytes.data(), 40);
  EXPECT_EQ(first->hai_len, 77u);
  EXPECT_EQ(memcmp(first->hai_data, "hello", 5), 0);
  EXPECT_EQ(hai_next(first)->hai_cookie, 8u);
}

TEST(HalTest, EncodeDecodeRoundTrip) {
  // hal_flags round-trip whatever they are: HSM_REQ_BLOCKING's value here,
  // which Lustre 2.15 does not define (abi_test.cc checks it where defined).
  constexpr uint64_t kFlags = 0x4;
  HalBuilder builder("fs8chars", 3, kFlags);
  for (uint32_t i = 1; i <= 20; ++i)
    ASSERT_TRUE(builder.Add(MakeItem(HSMA_ARCHIVE, i, 100 + i),
                            std::string(i % 9, 'a' + i % 26)));
  DecodedHal decoded;
  std::string error;
  ASSERT_TRUE(
      DecodeHal(builder.bytes().data(), builder.size(), &decoded, &error))
      << error;
  EXPECT_EQ(decoded.version, 1u);
  EXPECT_EQ(decoded.compound_id, 0u);
  EXPECT_EQ(decoded.flags, kFlags);
  EXPECT_EQ(decoded.archive_id, 3u);
  EXPECT_EQ(decoded.fsname, "fs8chars");
  ASSERT_EQ(decoded.items.size(), 20u);
  for (uint32_t i = 1; i <= 20; ++i) {
    const ActionItem& item = decoded.items[i - 1];
    EXPECT_EQ(item.hai.hai_fid.f_oid, i);
    EXPECT_EQ(item.hai.hai_cookie, 100u + i);
    EXPECT_EQ(item.data, std::string(i % 9, 'a' + i % 26));
    EXPECT_EQ(item.hai.hai_len, 72u + i % 9);
  }
}

TEST(HalTest, StopsAtLustresHalLimit) {
  HalBuilder builder("lustre", 1, 0);
  uint32_t added = 0;
  while (builder.Add(MakeItem(HSMA_ARCHIVE, added + 1, added + 1), "")) ++added;
  // (5120 - 40) / 72 = 70 items of 72 bytes (docs/lustre.md, batching).
  EXPECT_EQ(added, 70u);
  EXPECT_LE(builder.size(), kLustreMaxHalBytes);
}

TEST(HalTest, KucFramingIsLustres) {
  HalBuilder builder("lustre", 1, 0);
  builder.Add(MakeItem(HSMA_REMOVE, 1, 1), "");
  std::string msg = builder.KucMessage();
  kuc_hdr hdr;
  memcpy(&hdr, msg.data(), sizeof(hdr));
  EXPECT_EQ(hdr.kuc_magic, 0x191C);
  EXPECT_EQ(hdr.kuc_transport, KUC_TRANSPORT_HSM);
  EXPECT_EQ(hdr.kuc_msgtype, HMT_ACTION_LIST);
  EXPECT_EQ(hdr.kuc_msglen, msg.size());
  EXPECT_EQ(msg.size(), 8u + 40u + 72u);
  std::string shutdown = KucShutdownMessage();
  memcpy(&hdr, shutdown.data(), sizeof(hdr));
  EXPECT_EQ(hdr.kuc_transport, KUC_TRANSPORT_GENERIC);
  EXPECT_EQ(hdr.kuc_msgtype, KUC_MSG_SHUTDOWN);
  EXPECT_EQ(hdr.kuc_msglen, 8);
}

TEST(HalTest, DecodeRejectsTruncatedAndLyingMessages) {
  HalBuilder builder("lustre", 1, 0);
  builder.Add(MakeItem(HSMA_ARCHIVE, 1, 1), "abc");
  std::string bytes = builder.bytes();
  DecodedHal decoded;
  std::string error;
  EXPECT_FALSE(DecodeHal(bytes.data(), 20, &decoded, &error));
  EXPECT_EQ(error, "message of 20 bytes is shorter than a HAL header");
  EXPECT_FALSE(DecodeHal(bytes.data(), 60, &decoded, &error));
  EXPECT_EQ(error, "item 0 of 1 lies beyond the 60 bytes received");
  std::string lying = bytes;
  uint32_t short_len = 40;
  memcpy(lying.data() + 40, &short_len, sizeof(short_len));
  EXPECT_FALSE(DecodeHal(lying.data(), lying.size(), &decoded, &error));
  EXPECT_EQ(error, "item 0: hai_len 40 is shorter than 72");
  uint32_t long_len = 4000;
  memcpy(lying.data() + 40, &long_len, sizeof(long_len));
  EXPECT_FALSE(DecodeHal(lying.data(), lying.size(), &decoded, &error));
  EXPECT_EQ(error, "item 0: hai_len 4000 runs past the message end");
  std::string no_nul(bytes.data(), 32);
  no_nul.append(8, 'x');
  EXPECT_FALSE(DecodeHal(no_nul.data(), no_nul.size(), &decoded, &error));
  EXPECT_EQ(error, "hal_fsname is not NUL-terminated");
}

}  // namespace
}  // namespace hsm
