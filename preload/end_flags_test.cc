// EndFlags: the retry_errors of the settings turn a copytool's error into
// HP_FLAG_RETRY, per action type.
#include <gtest/gtest.h>

#include <cerrno>

#include "preload/mover.h"

namespace preload {
namespace {

TEST(EndFlagsTest, ListedErrorsOfTheActionBecomeRetryable) {
  config::ClientSettings s;
  s.retry_errors_archive = {EIO, ETIMEDOUT};
  s.retry_errors_remove = {ENOSPC};
  // Either sign: copytools pass llapi_hsm_action_end negative or positive
  // errnos.
  EXPECT_EQ(EndFlags(s, HSMA_ARCHIVE, -EIO, 0), HP_FLAG_RETRY);
  EXPECT_EQ(EndFlags(s, HSMA_ARCHIVE, ETIMEDOUT, 0), HP_FLAG_RETRY);
  EXPECT_EQ(EndFlags(s, HSMA_ARCHIVE, -ENOSPC, 0), 0);  // the remove's only
  EXPECT_EQ(EndFlags(s, HSMA_REMOVE, -ENOSPC, 0), HP_FLAG_RETRY);
  EXPECT_EQ(EndFlags(s, HSMA_REMOVE, -EIO, 0), 0);
  EXPECT_EQ(EndFlags(s, HSMA_RESTORE, -EIO, 0), 0);  // never restores
  EXPECT_EQ(EndFlags(s, HSMA_ARCHIVE, 0, 0), 0);     // success
  // The copytool's own flags are kept, its own retry included.
  EXPECT_EQ(EndFlags(s, HSMA_ARCHIVE, -EPERM, HP_FLAG_RETRY), HP_FLAG_RETRY);
  EXPECT_EQ(EndFlags(s, HSMA_ARCHIVE, -EIO, 0x8), 0x8 | HP_FLAG_RETRY);
  // No list: nothing changes.
  EXPECT_EQ(EndFlags(config::ClientSettings{}, HSMA_ARCHIVE, -EIO, 0), 0);
}

}  // namespace
}  // namespace preload
