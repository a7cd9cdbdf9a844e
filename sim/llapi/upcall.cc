// The LU-10968 bypass calls (sim_hsm_upcall.h): kUpcallBegin and kUpcallEnd
// to the simulated MDT of the mount.
#include "sim/llapi/api.h"
// (api.h first: it gives the llapi_* declarations default visibility.)

#include <cerrno>
#include <cstring>
#include <string>

#include "sim/llapi/mount.h"
#include "sim/llapi/rpc.h"

namespace {

int UpcallCall(sim::wire::MsgType type, const char* mnt, int fd,
               const lu_fid* fid, hsm_copytool_action action, __u32 archive_id,
               __u64 data_version, int errval, __u64* reply_version) {
  if (mnt == nullptr || fid == nullptr) return -EINVAL;
  if (action != HSMA_ARCHIVE && action != HSMA_REMOVE) return -EINVAL;
  sim::llapi::Mount mount;
  int rc = sim::llapi::FindMount(mnt, &mount);
  if (rc < 0) return rc;
  sim::wire::UpcallReq req{};
  req.fid = *fid;
  req.action = action;
  req.archive_id = archive_id;
  req.data_version = data_version;
  req.errval = errval < 0 ? -errval : errval;
  if (reply_version == nullptr)
    return sim::llapi::Call(mount.root, type, sim::llapi::Bytes(req), fd,
                            nullptr);
  return sim::llapi::CallFor(mount.root, type, sim::llapi::Bytes(req), fd,
                             reply_version);
}

}  // namespace

extern "C" {

int llapi_sim_hsm_upcall_begin(const char* mnt, int fd, const lu_fid* fid,
                               hsm_copytool_action action, __u32 archive_id,
                               __u64* data_version) {
  if (data_version == nullptr) return -EINVAL;
  *data_version = 0;
  return UpcallCall(sim::wire::MsgType::kUpcallBegin, mnt, fd, fid, action,
                    archive_id, 0, 0, data_version);
}

int llapi_sim_hsm_upcall_end(const char* mnt, int fd, const lu_fid* fid,
                             hsm_copytool_action action, __u32 archive_id,
                             __u64 data_version, int errval) {
  return UpcallCall(sim::wire::MsgType::kUpcallEnd, mnt, fd, fid, action,
                    archive_id, data_version, errval, nullptr);
}

}  // extern "C"
