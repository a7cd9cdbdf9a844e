#include "protocol/mover_id.h"

#include <gtest/gtest.h>

#include <string>

namespace protocol {
namespace {

TEST(MoverIdTest, HostNamesAndUsualIdsAreTaken) {
  for (const char* id : {"m1", "mover-01.site.example", "host:5123", "10.0.0.7",
                         "[::1]:5123", "ct_posix@node7"})
    EXPECT_EQ(MoverIdError(id), std::nullopt) << id;
  EXPECT_EQ(MoverIdError(std::string(kMaxMoverIdBytes, 'a')), std::nullopt);
}

TEST(MoverIdTest, WhatCouldBreakALineOrAFieldIsRefused) {
  EXPECT_EQ(MoverIdError(""), "mover id is empty");
  EXPECT_EQ(MoverIdError(std::string(kMaxMoverIdBytes + 1, 'a')),
            "mover id is longer than 255 bytes");
  EXPECT_EQ(MoverIdError("m1\ndone [0x1:0x2:0x0] 0"),
            "mover id has byte 0x0a at offset 2: only printable ASCII "
            "characters other than space are allowed");
  for (std::string id : {"two words", "tab\tbed", "nul", "esc\x1b[2J",
                         "del\x7f", "caf\xc3\xa9", "\xff"}) {
    if (id == "nul") id = std::string("n\0l", 3);
    EXPECT_NE(MoverIdError(id), std::nullopt) << id;
  }
}

}  // namespace
}  // namespace protocol
