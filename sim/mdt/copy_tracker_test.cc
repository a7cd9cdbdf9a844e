#include "sim/mdt/copy_tracker.h"

#include <gtest/gtest.h>
#include <linux/lustre/lustre_user.h>

namespace sim::mdt {
namespace {

TEST(CopyTrackerTest, CountsRunningAndPeakPerProcessAndType) {
  CopyTracker copies;
  copies.Started(10, 1, HSMA_ARCHIVE);
  copies.Started(10, 2, HSMA_ARCHIVE);
  copies.Started(10, 3, HSMA_RESTORE);
  copies.Started(20, 4, HSMA_ARCHIVE);
  copies.Started(20, 5, HSMA_REMOVE);  // not tracked: no COPY_START on Lustre
  copies.Ended(1);
  copies.Ended(99);  // unknown cookies are ignored
  copies.Started(10, 6, HSMA_ARCHIVE);
  EXPECT_EQ(copies.Format(),
            "pid=10 archive=2/2 restore=1/1\n"
            "pid=20 archive=1/1 restore=0/0\n");
}

TEST(CopyTrackerTest, SecondStartOfTheSameCookieCountsOnce) {
  CopyTracker copies;
  copies.Started(10, 1, HSMA_RESTORE);
  copies.Started(10, 1, HSMA_RESTORE);
  copies.Ended(1);
  EXPECT_EQ(copies.Format(), "pid=10 archive=0/0 restore=0/1\n");
}

}  // namespace
}  // namespace sim::mdt
