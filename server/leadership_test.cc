#include "server/leadership.h"

#include <gtest/gtest.h>

namespace server {
namespace {

using std::chrono::milliseconds;

class LeadershipTest : public ::testing::Test {
 protected:
  common::ManualClock clock_;
  Leadership lease_{milliseconds(1000)};
};

TEST_F(LeadershipTest, AStandbyTriesAtOnceThenEveryThirdOfTheTtl) {
  EXPECT_EQ(lease_.role(), Role::kStandby);
  EXPECT_LE(lease_.NextAttempt(), clock_.Now());
  EXPECT_FALSE(lease_.Leading(clock_.Now()));
  lease_.Held(clock_.Now());
  EXPECT_EQ(lease_.NextAttempt(), clock_.Now() + milliseconds(333));
  EXPECT_EQ(lease_.role(), Role::kStandby);
}

TEST_F(LeadershipTest, TheLeaseCountsFromTheRequestSentNotTheAnswer) {
  const auto sent = clock_.Now();
  clock_.Advance(milliseconds(400));  // the answer took 400 ms
  lease_.Acquired(sent, 7);
  EXPECT_EQ(lease_.role(), Role::kLeader);
  EXPECT_EQ(lease_.epoch(), 7u);
  // ttl 1000 - margin 100, from the sending.
  EXPECT_EQ(lease_.lease_end(), sent + milliseconds(900));
  EXPECT_EQ(lease_.Remaining(clock_.Now()), milliseconds(500));
  EXPECT_EQ(lease_.NextAttempt(), sent + milliseconds(333));
  clock_.Advance(milliseconds(499));
  EXPECT_TRUE(lease_.Leading(clock_.Now()));
  clock_.Advance(milliseconds(1));
  EXPECT_FALSE(lease_.Leading(clock_.Now()));
  EXPECT_TRUE(lease_.CheckExpiry(clock_.Now()));
  EXPECT_EQ(lease_.role(), Role::kSteppedDown);
}

TEST_F(LeadershipTest, RenewalsExtendTheLeaseFromTheirSending) {
  lease_.Acquired(clock_.Now(), 1);
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(milliseconds(333));
    const auto sent = clock_.Now();
    clock_.Advance(milliseconds(50));
    lease_.Renewed(sent);
    EXPECT_EQ(lease_.lease_end(), sent + milliseconds(900));
    EXPECT_FALSE(lease_.CheckExpiry(clock_.Now()));
    clock_.Advance(-milliseconds(50));
  }
  EXPECT_TRUE(lease_.Leading(clock_.Now()));
  // An older renewal answered late never moves the end back.
  const auto end = lease_.lease_end();
  lease_.Renewed(clock_.Now() - milliseconds(500));
  EXPECT_EQ(lease_.lease_end(), end);
}

TEST_F(LeadershipTest, UnansweredRequestsRetrySoonerButTheEndStays) {
  lease_.Acquired(clock_.Now(), 3);
  const auto end = lease_.lease_end();
  clock_.Advance(milliseconds(333));
  lease_.Unanswered(clock_.Now());
  EXPECT_EQ(lease_.NextAttempt(), clock_.Now() + milliseconds(111));
  EXPECT_EQ(lease_.lease_end(), end);
  clock_.Advance(milliseconds(600));  // Redis unreachable past the end
  EXPECT_TRUE(lease_.CheckExpiry(clock_.Now()));
  EXPECT_FALSE(lease_.Leading(clock_.Now()));
}

TEST_F(LeadershipTest, SteppingDownIsFinal) {
  lease_.Acquired(clock_.Now(), 2);
  lease_.StepDown();  // refused renewal or fenced write
  EXPECT_EQ(lease_.role(), Role::kSteppedDown);
  EXPECT_FALSE(lease_.Leading(clock_.Now()));
  EXPECT_EQ(lease_.Remaining(clock_.Now()), milliseconds(0));
  lease_.Renewed(clock_.Now());
  lease_.Acquired(clock_.Now(), 9);
  EXPECT_EQ(lease_.role(), Role::kSteppedDown);
  EXPECT_FALSE(lease_.Leading(clock_.Now()));
}

TEST_F(LeadershipTest, AStandbyNeverExpires) {
  clock_.Advance(milliseconds(100000));
  EXPECT_FALSE(lease_.CheckExpiry(clock_.Now()));
  EXPECT_EQ(lease_.role(), Role::kStandby);
}

TEST(LeadershipMarginTest, TheMarginIsATenthUnlessGivenAndBelowTheTtl) {
  EXPECT_EQ(Leadership(milliseconds(3000)).margin(), milliseconds(300));
  EXPECT_EQ(Leadership(milliseconds(3000), milliseconds(50)).margin(),
            milliseconds(50));
  EXPECT_LT(Leadership(milliseconds(10), milliseconds(50)).margin(),
            milliseconds(10));
  EXPECT_EQ(Leadership(milliseconds(3000)).period(), milliseconds(1000));
}

}  // namespace
}  // namespace server
