// What ct-posix does with one action item: ARCHIVE, RESTORE and REMOVE as
// lhsmtool_posix does them (docs/lustre.md, lhsmtool_posix), CANCEL as a
// nudge to the running copy, anything else ended with -EINVAL.
//
// Thread-safety: ProcessItem runs in the worker threads, many at once; the
// context's members are shared and thread-safe.
#ifndef COPYTOOL_POSIX_ACTIONS_H_
#define COPYTOOL_POSIX_ACTIONS_H_

#include "copytool/posix/options.h"
#include "copytool/posix/running_actions.h"
#include "copytool/posix/stop_flag.h"
#include "hsm/lustreapi.h"

namespace ct {

struct ActionContext {
  const Options* options = nullptr;
  const hsm_copytool_private* ct = nullptr;
  int mnt_fd = -1;  // the mount point, for llapi_get_mdt_index_by_fid
  StopFlag* stop = nullptr;
  RunningActions* running = nullptr;
};

struct ItemOutcome {
  int rc = 0;  // 0, or the -errno of a major error (--abort-on-error)
  // The coordinator accepted the item's end (or the request was canceled):
  // nothing is left to do for its cookie.
  bool end_accepted = false;
};

// Carries `hai` out, from llapi_hsm_action_begin to llapi_hsm_action_end,
// so that the coordinator always hears how it ended. Once `stop` is set,
// items not yet started are ended with EINTR. A canceled copy is not a major
// error.
ItemOutcome ProcessItem(const ActionContext& ctx, const hsm_action_item& hai);

// Handles a CANCEL item at once (not in a worker, which could be stuck
// behind slow copies): logs it and nudges the running copy of its cookie.
void CancelItem(const ActionContext& ctx, const hsm_action_item& hai);

}  // namespace ct

#endif  // COPYTOOL_POSIX_ACTIONS_H_
