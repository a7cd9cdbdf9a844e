#include "server/lustre_agent.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "hsm/fid.h"
#include "hsm/hal.h"
#include "hsm/lustreapi.h"

namespace server {

LustreAgent::~LustreAgent() { Unregister(); }

int LustreAgent::FindFsname(const std::string& mount, std::string* fsname,
                            std::string* error) {
  char name[hsm::kFsnameBufferSize] = {};
  int rc = llapi_search_fsname(mount.c_str(), name);
  if (rc < 0) {
    *error = fmt::format("{} is not a Lustre mount: {}", mount, strerror(-rc));
    return rc;
  }
  *fsname = name;
  return 0;
}

int LustreAgent::Register(const std::string& mount,
                          const std::vector<uint32_t>& archive_ids,
                          std::string* error) {
  std::string fsname;
  int rc = FindFsname(mount, &fsname, error);
  if (rc < 0) return rc;
  std::vector<int> archives(archive_ids.begin(), archive_ids.end());
  rc = llapi_hsm_copytool_register(
      &ct_, mount.c_str(), static_cast<int>(archives.size()),
      archives.empty() ? nullptr : archives.data(), O_NONBLOCK);
  if (rc < 0) {
    *error = fmt::format("cannot register as copytool on {}: {}", mount,
                         strerror(-rc));
    ct_ = nullptr;
    return rc;
  }
  mount_ = mount;
  fsname_ = std::move(fsname);
  return 0;
}

void LustreAgent::Unregister() {
  if (ct_) llapi_hsm_copytool_unregister(&ct_);
  ct_ = nullptr;
}

int LustreAgent::fd() const {
  return ct_ ? llapi_hsm_copytool_get_fd(ct_) : -1;
}

int LustreAgent::Drain(
    const std::function<void(const hsm::DecodedHal&)>& on_list,
    std::string* error) {
  if (!ct_) return -ENOTCONN;
  for (;;) {
    hsm_action_list* hal = nullptr;
    int msgsize = 0;
    int rc = llapi_hsm_copytool_recv(ct_, &hal, &msgsize);
    if (rc == -EAGAIN || rc == -EWOULDBLOCK) return 0;
    if (rc == -EINTR) continue;
    if (rc < 0) {
      *error = fmt::format("receiving from the coordinator: {}", strerror(-rc));
      return rc;
    }
    hsm::DecodedHal decoded;
    std::string why;
    if (!hsm::DecodeHal(hal, static_cast<size_t>(msgsize), &decoded, &why)) {
      *error = fmt::format("malformed action list skipped: {}", why);
      continue;
    }
    if (decoded.version != HAL_VERSION) {
      *error =
          fmt::format("action list of version {} skipped", decoded.version);
      continue;
    }
    on_list(decoded);
  }
}

int LustreAgent::EndWithoutRunning(const hsm_action_item& hai, int errval,
                                   int hp_flags) {
  if (!ct_) return -ENOTCONN;
  hsm_copyaction_private* hcp = nullptr;
  int rc = llapi_hsm_action_begin(&hcp, ct_, &hai, -1, 0, true);
  if (rc < 0) return rc;
  hsm_extent extent = hai.hai_extent;
  return llapi_hsm_action_end(&hcp, &extent, hp_flags, errval);
}

int LustreAgent::CurrentAction(const lu_fid& fid,
                               hsm_current_action* hca) const {
  if (mount_.empty()) return -ENOTCONN;
  std::string path = mount_ + "/.lustre/fid/" + hsm::FormatFidNoBrace(fid);
  return llapi_hsm_current_action(path.c_str(), hca);
}

}  // namespace server
