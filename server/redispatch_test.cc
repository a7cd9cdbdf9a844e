#include "server/redispatch.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace server {
namespace {

using std::chrono::milliseconds;
using Verdict = Redispatch::Verdict;

ItemId Id(uint64_t cookie) { return {cookie, lu_fid{0x200000401, 7, 0}}; }

hsm_current_action Current(uint32_t action, uint32_t state) {
  hsm_current_action hca{};
  hca.hca_action = action;
  hca.hca_state = state;
  return hca;
}

TEST(JudgeCurrentAction, SameActionWaitingOrRunningIsLive) {
  EXPECT_EQ(
      JudgeCurrentAction(HSMA_REMOVE, 0, Current(HUA_REMOVE, HPS_RUNNING)),
      RequestAtLustre::kLive);
  EXPECT_EQ(
      JudgeCurrentAction(HSMA_RESTORE, 0, Current(HUA_RESTORE, HPS_WAITING)),
      RequestAtLustre::kLive);
  EXPECT_EQ(
      JudgeCurrentAction(HSMA_ARCHIVE, 0, Current(HUA_ARCHIVE, HPS_RUNNING)),
      RequestAtLustre::kLive);
}

TEST(JudgeCurrentAction, NothingOrAnotherActionMeansEnded) {
  // The REMOVE of issue 10: ended, then the file archived again.
  EXPECT_EQ(JudgeCurrentAction(HSMA_REMOVE, 0, Current(HUA_NONE, HPS_NONE)),
            RequestAtLustre::kEnded);
  EXPECT_EQ(
      JudgeCurrentAction(HSMA_REMOVE, 0, Current(HUA_ARCHIVE, HPS_RUNNING)),
      RequestAtLustre::kEnded);
  EXPECT_EQ(JudgeCurrentAction(HSMA_RESTORE, 0, Current(HUA_RESTORE, HPS_NONE)),
            RequestAtLustre::kEnded);
}

TEST(JudgeCurrentAction, ErrorsAreUnknownButAGoneFileIsLive) {
  hsm_current_action none{};
  EXPECT_EQ(JudgeCurrentAction(HSMA_REMOVE, -EIO, none),
            RequestAtLustre::kUnknown);
  EXPECT_EQ(JudgeCurrentAction(HSMA_ARCHIVE, -ETIMEDOUT, none),
            RequestAtLustre::kUnknown);
  EXPECT_EQ(JudgeCurrentAction(HSMA_REMOVE, -ENOENT, none),
            RequestAtLustre::kLive);
  EXPECT_EQ(JudgeCurrentAction(HSMA_CANCEL, 0, none),
            RequestAtLustre::kUnknown);
}

TEST(JudgeCurrentAction, ARestoreWithCopiedBytesIsBoundToItsCopy) {
  hsm_current_action hca = Current(HUA_RESTORE, HPS_RUNNING);
  hca.hca_location = {0, 1 << 20};
  EXPECT_EQ(JudgeCurrentAction(HSMA_RESTORE, 0, hca), RequestAtLustre::kBound);
  hca.hca_location = {0, 0};  // started, nothing copied: no copy bound
  EXPECT_EQ(JudgeCurrentAction(HSMA_RESTORE, 0, hca), RequestAtLustre::kLive);
  hca = Current(HUA_RESTORE, HPS_WAITING);
  hca.hca_location = {0, 1 << 20};  // waiting: the request's own extent
  EXPECT_EQ(JudgeCurrentAction(HSMA_RESTORE, 0, hca), RequestAtLustre::kLive);
  hca = Current(HUA_ARCHIVE, HPS_RUNNING);
  hca.hca_location = {0, 1 << 20};  // archives are not bound to a copy
  EXPECT_EQ(JudgeCurrentAction(HSMA_ARCHIVE, 0, hca), RequestAtLustre::kLive);
}

TEST(Redispatch, BoundRestoreCountsAsAFailedAttempt) {
  common::ManualClock clock;
  Redispatch r(clock, {.max_attempts = 2,
                       .first_backoff = milliseconds(100),
                       .max_backoff = milliseconds(1000)});
  r.Hold(Id(1));
  ASSERT_EQ(r.Due(10).size(), 1u);
  EXPECT_EQ(r.OnCheck(Id(1), RequestAtLustre::kBound), Verdict::kRetryLater);
  EXPECT_EQ(r.attempts(Id(1)), 1u);
  EXPECT_TRUE(r.held(Id(1)));
  EXPECT_TRUE(r.Due(10).empty());
  clock.Advance(milliseconds(100));
  ASSERT_EQ(r.Due(10).size(), 1u);
  EXPECT_EQ(r.OnCheck(Id(1), RequestAtLustre::kBound), Verdict::kEndFailed);
  EXPECT_FALSE(r.held(Id(1)));
  EXPECT_EQ(r.size(), 0u);
}

TEST(Redispatch, HeldItemIsCheckedBeforeItIsHandedOut) {
  common::ManualClock clock;
  Redispatch r(clock);
  r.Hold(Id(1));
  EXPECT_TRUE(r.held(Id(1)));
  EXPECT_EQ(r.size(), 1u);
  auto due = r.Due(10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(r.Due(10).empty());  // being checked: not twice
  EXPECT_FALSE(r.NextDue());
  EXPECT_EQ(r.OnCheck(Id(1), RequestAtLustre::kLive), Verdict::kHandOut);
  EXPECT_FALSE(r.held(Id(1)));
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.counters().handed_out, 1u);
}

TEST(Redispatch, EndedAtLustreIsForgottenNeverReplayed) {
  common::ManualClock clock;
  Redispatch r(clock);
  r.Hold(Id(1));
  ASSERT_EQ(r.Due(10).size(), 1u);
  EXPECT_EQ(r.OnCheck(Id(1), RequestAtLustre::kEnded), Verdict::kForget);
  EXPECT_FALSE(r.held(Id(1)));
  EXPECT_EQ(r.counters().forgotten, 1u);
  EXPECT_TRUE(r.Due(10).empty());
}

TEST(Redispatch, UnknownAnswerIsAskedAgainWithBackoff) {
  common::ManualClock clock;
  Redispatch r(clock, {.max_attempts = 3,
                       .first_backoff = milliseconds(100),
                       .max_backoff = milliseconds(300)});
  r.Hold(Id(1));
  ASSERT_EQ(r.Due(10).size(), 1u);
  EXPECT_EQ(r.OnCheck(Id(1), RequestAtLustre::kUnknown), Verdict::kWait);
  EXPECT_TRUE(r.held(Id(1)));
  EXPECT_TRUE(r.Due(10).empty());
  ASSERT_TRUE(r.NextDue());
  EXPECT_EQ(*r.NextDue() - clock.Now(), milliseconds(100));
  clock.Advance(milliseconds(100));
  ASSERT_EQ(r.Due(10).size(), 1u);
  EXPECT_EQ(r.OnCheck(Id(1), RequestAtLustre::kUnknown), Verdict::kWait);
  EXPECT_EQ(*r.NextDue() - clock.Now(), milliseconds(200));
  clock.Advance(milliseconds(200));
  ASSERT_EQ(r.Due(10).size(), 1u);
  EXPECT_EQ(r.OnCheck(Id(1), RequestAtLustre::kUnknown), Verdict::kWait);
  EXPECT_EQ(*r.NextDue() - clock.Now(), milliseconds(300));  // capped
  clock.Advance(milliseconds(300));
  ASSERT_EQ(r.Due(10).size(), 1u);
  EXPECT_EQ(r.OnCheck(Id(1), RequestAtLustre::kLive), Verdict::kHandOut);
  EXPECT_EQ(r.counters().check_errors, 3u);
}

TEST(Redispatch, DueIsBoundedAndOldestFirst) {
  common::ManualClock clock;
  Redispatch r(clock);
  for (uint64_t i = 1; i <= 5; ++i) {
    r.Hold(Id(i));
    clock.Advance(milliseconds(1));
  }
  auto first = r.Due(2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0], Id(1));
  EXPECT_EQ(first[1], Id(2));
  EXPECT_EQ(r.Due(10).size(), 3u);
}

TEST(Redispatch, FailedRedispatchRetriesWithBackoffThenEndsAsFailed) {
  common::ManualClock clock;
  Redispatch r(clock, {.max_attempts = 3,
                       .first_backoff = milliseconds(100),
                       .max_backoff = milliseconds(10'000)});
  // Handed out once after a check, then the new mover fails it.
  r.Hold(Id(1));
  ASSERT_EQ(r.Due(10).size(), 1u);
  ASSERT_EQ(r.OnCheck(Id(1), RequestAtLustre::kLive), Verdict::kHandOut);
  EXPECT_EQ(r.OnFailedRedispatch(Id(1)), Verdict::kRetryLater);
  EXPECT_EQ(r.attempts(Id(1)), 1u);
  EXPECT_TRUE(r.held(Id(1)));
  EXPECT_TRUE(r.Due(10).empty());  // backoff first
  clock.Advance(milliseconds(99));
  EXPECT_TRUE(r.Due(10).empty());
  clock.Advance(milliseconds(1));
  ASSERT_EQ(r.Due(10).size(), 1u);
  ASSERT_EQ(r.OnCheck(Id(1), RequestAtLustre::kLive), Verdict::kHandOut);
  EXPECT_EQ(r.attempts(Id(1)), 1u);  // kept across the hand-out
  EXPECT_EQ(r.OnFailedRedispatch(Id(1)), Verdict::kRetryLater);
  EXPECT_EQ(*r.NextDue() - clock.Now(), milliseconds(200));
  clock.Advance(milliseconds(200));
  ASSERT_EQ(r.Due(10).size(), 1u);
  ASSERT_EQ(r.OnCheck(Id(1), RequestAtLustre::kLive), Verdict::kHandOut);
  EXPECT_EQ(r.OnFailedRedispatch(Id(1)), Verdict::kEndFailed);
  EXPECT_FALSE(r.held(Id(1)));
  EXPECT_EQ(r.attempts(Id(1)), 0u);
  EXPECT_EQ(r.counters().failed, 3u);
  EXPECT_EQ(r.counters().ended_failed, 1u);
}

TEST(Redispatch, ARetriedItemHoldsAgainWithoutLosingItsBackoff) {
  common::ManualClock clock;
  Redispatch r(clock, {.max_attempts = 5,
                       .first_backoff = milliseconds(100),
                       .max_backoff = milliseconds(1000)});
  EXPECT_EQ(r.OnFailedRedispatch(Id(1)), Verdict::kRetryLater);
  r.Hold(Id(1));  // its mover went away meanwhile: already held
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.Due(10).empty());
  clock.Advance(milliseconds(100));
  EXPECT_EQ(r.Due(10).size(), 1u);
}

TEST(Redispatch, ForgetDropsHeldItemsAndAttempts) {
  common::ManualClock clock;
  Redispatch r(clock);
  r.Hold(Id(1));
  EXPECT_EQ(r.OnFailedRedispatch(Id(2)), Verdict::kRetryLater);
  r.Forget(Id(1));
  r.Forget(Id(2));
  r.Forget(Id(3));
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.attempts(Id(2)), 0u);
  EXPECT_FALSE(r.NextDue());
  // An answer for a forgotten item changes nothing.
  EXPECT_EQ(r.OnCheck(Id(1), RequestAtLustre::kLive), Verdict::kWait);
}

}  // namespace
}  // namespace server
