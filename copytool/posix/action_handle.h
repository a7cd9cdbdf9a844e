// ActionHandle: owns one hsm_copyaction_private, from llapi_hsm_action_begin
// to llapi_hsm_action_end. A handle still open when destroyed is ended with
// EIO, so no request is left STARTED by an early return.
//
// Thread-compatible: one handle is used by one thread.
#ifndef COPYTOOL_POSIX_ACTION_HANDLE_H_
#define COPYTOOL_POSIX_ACTION_HANDLE_H_

#include "hsm/lustreapi.h"

namespace ct {

class ActionHandle {
 public:
  ActionHandle() = default;
  ~ActionHandle();
  ActionHandle(const ActionHandle&) = delete;
  ActionHandle& operator=(const ActionHandle&) = delete;

  // llapi_hsm_action_begin. Returns 0 or -errno.
  int Begin(const hsm_copytool_private* ct, const hsm_action_item& hai,
            int restore_mdt_index, bool is_error);
  // llapi_hsm_action_end with errval `rc` (0 or a negative errno); only
  // -ETIMEDOUT is reported as retryable. Returns 0 or -errno (e.g. -EBUSY
  // when an archived file changed during the copy).
  int End(const hsm_extent& extent, int rc);

  hsm_copyaction_private* get() const { return hcp_; }

 private:
  hsm_copyaction_private* hcp_ = nullptr;
  hsm_extent extent_{};
};

}  // namespace ct

#endif  // COPYTOOL_POSIX_ACTION_HANDLE_H_
