#include "server/queue_check.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "hsm/fid.h"
#include "hsm/hal.h"

namespace server {

namespace {

const char* StateName(uint32_t state) {
  switch (state) {
    case HPS_WAITING:
      return "waiting";
    case HPS_RUNNING:
      return "running";
    case HPS_DONE:
      return "done";
    default:
      return "none";
  }
}

}  // namespace

std::optional<QueueRefused> QueueRefusal(const hsm_action_item& hai, int rc,
                                         const hsm_current_action& hca) {
  const uint32_t wanted = hsm::UserActionOf(hai.hai_action);
  const char* name = hsm_user_action2name(static_cast<hsm_user_action>(wanted));
  // A cancel is Lustre's to send: queued, it would cancel a live copy.
  if (wanted == HUA_NONE || wanted == HUA_CANCEL)
    return QueueRefused{fmt::format("action {} cannot be queued",
                                    static_cast<uint32_t>(hai.hai_action))};
  if (hai.hai_action != HSMA_RESTORE &&
      !hsm::operator==(hai.hai_fid, hai.hai_dfid))
    return QueueRefused{fmt::format(
        "{}: data FID {} differs from the FID (Lustre sends {} requests with "
        "both equal)",
        hsm::FormatFid(hai.hai_fid), hsm::FormatFid(hai.hai_dfid), name)};
  if (rc == -ENOENT || rc == -ESTALE)
    return QueueRefused{
        fmt::format("{}: no such file at Lustre", hsm::FormatFid(hai.hai_fid)),
        true};
  if (rc < 0)
    return QueueRefused{fmt::format(
        "{}: cannot ask Lustre whether it holds this request: {}; retry "
        "later",
        hsm::FormatFid(hai.hai_fid), strerror(-rc))};
  const bool live =
      hca.hca_state == HPS_WAITING || hca.hca_state == HPS_RUNNING;
  if (live && hca.hca_action == wanted) return std::nullopt;
  if (!live || hca.hca_action == HUA_NONE)
    return QueueRefused{
        fmt::format("{}: Lustre has no request waiting or running on it",
                    hsm::FormatFid(hai.hai_fid)),
        true};
  return QueueRefused{
      fmt::format(
          "{}: Lustre has a {} {} on it, not a {}", hsm::FormatFid(hai.hai_fid),
          hsm_user_action2name(static_cast<hsm_user_action>(hca.hca_action)),
          StateName(hca.hca_state), name),
      true};
}

}  // namespace server
