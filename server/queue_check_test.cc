#include "server/queue_check.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <string>
#include <utility>

namespace server {
namespace {

hsm_action_item ActionOf(uint32_t action) {
  hsm_action_item hai{};
  hai.hai_action = action;
  hai.hai_fid = hai.hai_dfid = {0x200000401, 7, 0};
  hai.hai_cookie = 0x42;
  hai.hai_extent = {0, ~0ULL};
  return hai;
}

hsm_current_action CurrentInState(uint32_t state, uint32_t action) {
  hsm_current_action hca{};
  hca.hca_state = state;
  hca.hca_action = action;
  return hca;
}

// The reason, and whether it says Lustre holds no such request.
std::optional<std::pair<std::string, bool>> Refusal(
    const hsm_action_item& hai, int rc, const hsm_current_action& hca) {
  auto refused = QueueRefusal(hai, rc, hca);
  if (!refused) return std::nullopt;
  return std::pair{refused->reason, refused->not_live};
}

TEST(QueueCheckTest, ALiveRequestOfTheSameTypeIsTaken) {
  EXPECT_EQ(QueueRefusal(ActionOf(HSMA_ARCHIVE), 0,
                         CurrentInState(HPS_WAITING, HUA_ARCHIVE)),
            std::nullopt);
  // What a crash leaves: Lustre has it STARTED, the server lost it.
  EXPECT_EQ(QueueRefusal(ActionOf(HSMA_REMOVE), 0,
                         CurrentInState(HPS_RUNNING, HUA_REMOVE)),
            std::nullopt);
  // A running restore's data FID is the copy's volatile file.
  hsm_action_item restore = ActionOf(HSMA_RESTORE);
  restore.hai_dfid.f_oid = 99;
  EXPECT_EQ(QueueRefusal(restore, 0, CurrentInState(HPS_RUNNING, HUA_RESTORE)),
            std::nullopt);
}

// The attack: a REMOVE of a file Lustre has nothing to do with.
TEST(QueueCheckTest, ARequestLustreDoesNotHoldIsRefusedWithTheReason) {
  using R = std::pair<std::string, bool>;
  EXPECT_EQ(
      Refusal(ActionOf(HSMA_REMOVE), 0, CurrentInState(HPS_NONE, HUA_NONE)),
      R("[0x200000401:0x7:0x0]: Lustre has no request waiting or "
        "running on it",
        true));
  EXPECT_EQ(Refusal(ActionOf(HSMA_REMOVE), 0,
                    CurrentInState(HPS_WAITING, HUA_ARCHIVE)),
            R("[0x200000401:0x7:0x0]: Lustre has a ARCHIVE waiting on it, not "
              "a REMOVE",
              true));
  EXPECT_EQ(
      Refusal(ActionOf(HSMA_ARCHIVE), 0, CurrentInState(HPS_DONE, HUA_ARCHIVE)),
      R("[0x200000401:0x7:0x0]: Lustre has no request waiting or "
        "running on it",
        true));
  EXPECT_EQ(Refusal(ActionOf(HSMA_RESTORE), -ENOENT, {}),
            R("[0x200000401:0x7:0x0]: no such file at Lustre", true));
  // Not an answer about the request: a failure, not "ended".
  EXPECT_EQ(Refusal(ActionOf(HSMA_ARCHIVE), -EIO, {}),
            R("[0x200000401:0x7:0x0]: cannot ask Lustre whether it holds this "
              "request: Input/output error; retry later",
              false));
  EXPECT_EQ(Refusal(ActionOf(HSMA_CANCEL), 0,
                    CurrentInState(HPS_WAITING, HUA_CANCEL)),
            R("action 23 cannot be queued", false));
}

// A mover reads (archive) or deletes (remove) what the data FID and FID
// name: a live request's FID with another file's data FID is refused.
TEST(QueueCheckTest, AnArchiveOrRemoveWithAnotherDataFidIsRefused) {
  for (uint32_t action : {HSMA_ARCHIVE, HSMA_REMOVE}) {
    hsm_action_item hai = ActionOf(action);
    hai.hai_dfid.f_oid = 8;
    auto refusal = QueueRefusal(
        hai, 0,
        CurrentInState(HPS_WAITING,
                       action == HSMA_ARCHIVE ? HUA_ARCHIVE : HUA_REMOVE));
    ASSERT_NE(refusal, std::nullopt);
    EXPECT_NE(refusal->reason.find("data FID [0x200000401:0x8:0x0] differs"),
              std::string::npos)
        << refusal->reason;
    EXPECT_FALSE(refusal->not_live);
  }
}

}  // namespace
}  // namespace server
