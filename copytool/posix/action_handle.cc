#include "copytool/posix/action_handle.h"

#include <cerrno>
#include <cstdlib>

namespace ct {

ActionHandle::~ActionHandle() {
  if (hcp_ != nullptr) End(extent_, -EIO);
}

int ActionHandle::Begin(const hsm_copytool_private* ct,
                        const hsm_action_item& hai, int restore_mdt_index,
                        bool is_error) {
  extent_ = hai.hai_extent;
  return llapi_hsm_action_begin(&hcp_, ct, &hai, restore_mdt_index, 0,
                                is_error);
}

int ActionHandle::End(const hsm_extent& extent, int rc) {
  const int flags = rc == -ETIMEDOUT ? HP_FLAG_RETRY : 0;
  const int end_rc = llapi_hsm_action_end(&hcp_, &extent, flags, std::abs(rc));
  hcp_ = nullptr;  // the library frees the handle whatever the result
  return end_rc;
}

}  // namespace ct
