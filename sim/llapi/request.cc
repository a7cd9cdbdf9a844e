// HSM state and requests (docs/lustre.md, state and request calls):
// llapi_hsm_state_get/set, llapi_hsm_current_action,
// llapi_hsm_user_request_alloc, llapi_hsm_request, llapi_hsm_import, and the
// simulator's llapi_sim_wait_restore.
#include "sim/llapi/api.h"
// (api.h first: it gives the llapi_* declarations default visibility.)

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/unique_fd.h"
#include "sim/llapi/mount.h"
#include "sim/llapi/rpc.h"

namespace sim::llapi {
namespace {

using wire::MsgType;

// MDS_MAXREQSIZE / 3: the client refuses requests this long or longer.
constexpr size_t kMaxHurLen = 5120 / 3;

size_t HurLen(const hsm_user_request* hur) {
  return sizeof(hsm_request) +
         size_t{hur->hur_request.hr_itemcount} * sizeof(hsm_user_item) +
         hur->hur_request.hr_data_len;
}

// Opens `path` with `flags` and runs `fn(mount_root, fd)`.
template <class Fn>
int WithFile(const char* path, int flags, Fn fn) {
  if (path == nullptr) return -EINVAL;
  common::UniqueFd fd(open(path, flags | O_CLOEXEC));
  if (!fd) return -errno;
  Mount mount;
  if (FindMountOfFd(fd.get(), &mount) < 0) return -ENOTTY;
  return fn(mount.root, fd.get());
}

int StateGet(const std::string& root, int fd, hsm_user_state* hus) {
  hsm_user_state state{};
  int rc = CallFor(root, MsgType::kStateGet, {}, fd, &state);
  if (rc < 0) return rc;
  // The MDT fills in only the states and the archive id.
  memset(hus, 0, sizeof(*hus));
  hus->hus_states = state.hus_states;
  hus->hus_archive_id = state.hus_archive_id;
  return 0;
}

int StateSet(const std::string& root, int fd, uint64_t setmask,
             uint64_t clearmask, uint32_t archive_id) {
  if ((setmask | clearmask) & ~uint64_t{HSM_FLAGS_MASK}) return -EINVAL;
  // llite's check: only root may touch flags outside HSM_USER_MASK.
  if (((setmask | clearmask) & ~uint64_t{HSM_USER_MASK}) && geteuid() != 0)
    return -EPERM;
  hsm_state_set hss{};
  hss.hss_valid = HSS_SETMASK | HSS_CLEARMASK;
  if (archive_id > 0) {
    hss.hss_valid |= HSS_ARCHIVE_ID;
    hss.hss_archive_id = archive_id;
  }
  hss.hss_setmask = setmask;
  hss.hss_clearmask = clearmask;
  return Call(root, MsgType::kStateSet, Bytes(hss), fd, nullptr);
}

int ReleaseAll(const std::string& root, const hsm_user_request* hur) {
  // HUA_RELEASE is done by the client, one file at a time, stopping at the
  // first failure.
  for (uint32_t i = 0; i < hur->hur_request.hr_itemcount; ++i) {
    lu_fid fid;
    memcpy(&fid, &hur->hur_user_item[i].hui_fid, sizeof(fid));
    int rc = Call(root, MsgType::kRelease, Bytes(fid), -1, nullptr);
    if (rc < 0) return rc;
  }
  return 0;
}

}  // namespace
}  // namespace sim::llapi

using sim::llapi::Call;
using sim::llapi::CallFor;
using sim::llapi::WithFile;
using sim::wire::MsgType;

extern "C" {

int llapi_hsm_state_get_fd(int fd, struct hsm_user_state* hus) {
  if (hus == nullptr) return -EFAULT;
  sim::llapi::Mount mount;
  int rc = sim::llapi::FindMountOfFd(fd, &mount);
  if (rc < 0) return rc;
  return sim::llapi::StateGet(mount.root, fd, hus);
}

int llapi_hsm_state_get(const char* path, struct hsm_user_state* hus) {
  if (hus == nullptr) return -EFAULT;
  return WithFile(path, O_RDONLY | O_NONBLOCK,
                  [&](const std::string& root, int fd) {
                    return sim::llapi::StateGet(root, fd, hus);
                  });
}

int llapi_hsm_state_set_fd(int fd, __u64 setmask, __u64 clearmask,
                           __u32 archive_id) {
  sim::llapi::Mount mount;
  int rc = sim::llapi::FindMountOfFd(fd, &mount);
  if (rc < 0) return rc;
  return sim::llapi::StateSet(mount.root, fd, setmask, clearmask, archive_id);
}

int llapi_hsm_data_version_set(int fd, __u64 data_version) {
  // llite refuses 0 before asking the MDT.
  if (data_version == 0) return -EINVAL;
  sim::llapi::Mount mount;
  int rc = sim::llapi::FindMountOfFd(fd, &mount);
  if (rc < 0) return rc;
  return sim::llapi::Call(mount.root, sim::wire::MsgType::kDataVersionSet,
                          sim::llapi::Bytes(uint64_t{data_version}), fd,
                          nullptr);
}

int llapi_hsm_state_set(const char* path, __u64 setmask, __u64 clearmask,
                        __u32 archive_id) {
  return WithFile(path, O_WRONLY | O_LOV_DELAY_CREATE | O_NONBLOCK,
                  [&](const std::string& root, int fd) {
                    return sim::llapi::StateSet(root, fd, setmask, clearmask,
                                                archive_id);
                  });
}

int llapi_hsm_current_action(const char* path, struct hsm_current_action* hca) {
  if (hca == nullptr) return -EFAULT;
  return WithFile(path, O_RDONLY | O_NONBLOCK,
                  [&](const std::string& root, int fd) {
                    return CallFor(root, MsgType::kCurrentAction, {}, fd, hca);
                  });
}

struct hsm_user_request* llapi_hsm_user_request_alloc(int itemcount,
                                                      int data_len) {
  if (itemcount < 0 || data_len < 0) return nullptr;
  size_t len = sizeof(hsm_user_request) +
               sizeof(hsm_user_item) * static_cast<size_t>(itemcount) +
               static_cast<size_t>(data_len);
  return static_cast<hsm_user_request*>(calloc(1, len));
}

int llapi_hsm_request(const char* path,
                      const struct hsm_user_request* request) {
  if (path == nullptr || request == nullptr) return -EINVAL;
  sim::llapi::Mount mount;
  int rc = sim::llapi::FindMount(path, &mount);
  if (rc < 0) return rc;
  size_t len = sim::llapi::HurLen(request);
  if (len >= sim::llapi::kMaxHurLen) return -E2BIG;
  if (request->hur_request.hr_action == HUA_RELEASE)
    return sim::llapi::ReleaseAll(mount.root, request);
  std::string_view bytes(reinterpret_cast<const char*>(request), len);
  return Call(mount.root, MsgType::kHsmRequest, bytes, -1, nullptr);
}

int llapi_hsm_import(const char* dst, int archive, const struct stat* st,
                     unsigned long long /*stripe_size*/, int /*stripe_offset*/,
                     int /*stripe_count*/, enum lov_pattern /*stripe_pattern*/,
                     char* /*pool_name*/, struct lu_fid* newfid) {
  if (dst == nullptr || st == nullptr || newfid == nullptr) return -EINVAL;
  sim::llapi::Mount mount;
  int rc = sim::llapi::FindMount(dst, &mount);
  if (rc < 0) return rc;
  common::UniqueFd fd(
      open(dst, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, st->st_mode & 07777));
  if (!fd) {
    rc = -errno;
    llapi_error(LLAPI_MSG_ERROR, rc, "cannot create '%s' for import", dst);
    return rc;
  }
  hsm_user_import hui{};
  hui.hui_size = static_cast<uint64_t>(st->st_size);
  hui.hui_atime = static_cast<uint64_t>(st->st_atim.tv_sec);
  hui.hui_atime_ns = static_cast<uint32_t>(st->st_atim.tv_nsec);
  hui.hui_mtime = static_cast<uint64_t>(st->st_mtim.tv_sec);
  hui.hui_mtime_ns = static_cast<uint32_t>(st->st_mtim.tv_nsec);
  hui.hui_uid = st->st_uid;
  hui.hui_gid = st->st_gid;
  hui.hui_mode = st->st_mode;
  hui.hui_archive_id = static_cast<uint32_t>(archive);
  rc = CallFor(mount.root, MsgType::kImport, sim::llapi::Bytes(hui), fd.get(),
               newfid);
  if (rc < 0) unlink(dst);
  return rc;
}

int llapi_sim_wait_restore(const char* path) {
  return WithFile(path, O_RDONLY | O_NONBLOCK,
                  [](const std::string& root, int fd) {
                    hsm_user_state hus{};
                    int rc = sim::llapi::StateGet(root, fd, &hus);
                    if (rc < 0) return rc;
                    lu_fid fid{};
                    rc = CallFor(root, MsgType::kFd2Fid, {}, fd, &fid);
                    if (rc < 0) return rc;
                    if (hus.hus_states & HS_RELEASED) {
                      // The implicit restore a read of a released file
                      // triggers.
                      const sim::wire::ImplicitRestoreReq hur =
                          sim::wire::MakeImplicitRestore(fid);
                      rc = Call(root, MsgType::kHsmRequest,
                                sim::llapi::Bytes(hur), -1, nullptr);
                      if (rc < 0) return rc;
                    }
                    rc = Call(root, MsgType::kWaitRestore,
                              sim::llapi::Bytes(fid), -1, nullptr);
                    if (rc < 0) return rc;
                    rc = sim::llapi::StateGet(root, fd, &hus);
                    if (rc < 0) return rc;
                    return (hus.hus_states & HS_RELEASED) ? -EIO : 0;
                  });
}

}  // extern "C"
