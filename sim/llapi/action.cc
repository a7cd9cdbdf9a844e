// Per-action copytool calls (docs/lustre.md, per-action calls):
// llapi_hsm_action_begin, _progress, _end, _get_dfid and _get_fd.
#include "sim/llapi/api.h"
// (api.h first: it gives the llapi_* declarations default visibility.)

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim/llapi/copytool_private.h"
#include "sim/llapi/fid_path.h"
#include "sim/llapi/log.h"
#include "sim/llapi/rpc.h"

namespace sim::llapi {
namespace {

using wire::MsgType;

// Lustre's LUSTRE_VOLATILE_HDR.
constexpr char kVolatileHeader[] = ".\x0c\x13\x14\x12:VOLATILE";

bool ValidAction(const hsm_copyaction_private* hcp) {
  return hcp != nullptr && hcp->magic == CP_PRIV_MAGIC;
}

const hsm_action_item& Hai(const hsm_copyaction_private* hcp) {
  return Copy(hcp).hc_hai;
}

// Only Lustre's own fields of the copytool handle are used here, and its
// magic is not checked (Lustre does not check it in action_begin either): a
// copytool handle made by another library, such as coordinatool's preload
// library, works with these calls as with Lustre's.
std::string RootOf(const hsm_copyaction_private* hcp) {
  return hcp->ct_priv->mnt;
}

void CloseFds(hsm_copyaction_private* hcp) {
  if (hcp->source_fd >= 0) close(hcp->source_fd);
  if (hcp->data_fd >= 0) close(hcp->data_fd);
  hcp->source_fd = hcp->data_fd = -1;
}

void FreeAction(hsm_copyaction_private* hcp) {
  CloseFds(hcp);
  hcp->magic = 0;
  free(hcp);
}

// Opens the file `fid` by FID under MOUNT/.lustre/fid. Returns the fd or
// -errno.
int OpenByFid(const hsm_copytool_private* ct, const lu_fid& fid, int flags) {
  std::string name = FidNoBrace(fid);
  int fd = openat(ct->open_by_fid_fd, name.c_str(), flags | O_CLOEXEC);
  if (fd < 0 && errno == EPERM && (flags & O_NOATIME))
    fd = openat(ct->open_by_fid_fd, name.c_str(),
                (flags & ~O_NOATIME) | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int DataVersion(const std::string& root, int fd, uint64_t* version) {
  return CallFor(root, MsgType::kDataVersion, {}, fd, version);
}

int CopyStart(hsm_copyaction_private* hcp) {
  wire::CopyReq req{Copy(hcp)};
  return Call(RootOf(hcp), MsgType::kCopyStart, Bytes(req), -1, nullptr);
}

int BeginArchive(hsm_copyaction_private* hcp) {
  int fd = OpenByFid(hcp->ct_priv, Hai(hcp).hai_dfid,
                     O_RDONLY | O_NOATIME | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return fd;  // silently, as Lustre's ct_open_by_fid
  hcp->source_fd = fd;
  uint64_t version = 0;
  int rc = DataVersion(RootOf(hcp), fd, &version);
  if (rc < 0) return rc;
  Copy(hcp).hc_data_version = version;
  return CopyStart(hcp);
}

// The directory a restore's volatile file is created in: the file's parent,
// or the mount root when its path is unknown.
std::string RestoreParent(const hsm_copyaction_private* hcp) {
  std::string rel;
  int rc = Fid2PathRelative(RootOf(hcp), Hai(hcp).hai_fid, -1, 0, &rel);
  if (rc < 0) {
    // Lustre's create_restore_volatile says so and goes on.
    llapi_error(LLAPI_MSG_ERROR, rc,
                "cannot get parent path to restore " DFID " using '%s'",
                PFID(&Hai(hcp).hai_fid), RootOf(hcp).c_str());
    return RootOf(hcp);
  }
  if (rel == "/") return RootOf(hcp);
  size_t slash = rel.rfind('/');
  if (slash == std::string::npos) return RootOf(hcp);
  return RootOf(hcp) + "/" + rel.substr(0, slash);
}

// Lustre's fallback: a named volatile file, unlinked at once.
int CreateNamedVolatile(const std::string& parent, int mdt_index,
                        int extra_flags) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    uint16_t random = 0;
    if (getrandom(&random, sizeof(random), 0) < 0)
      random = static_cast<uint16_t>(rand());
    std::string name =
        mdt_index == -1
            ? fmt::format("{}/{}::{:04X}", parent, kVolatileHeader, random)
            : fmt::format("{}/{}:{:04X}:{:04X}", parent, kVolatileHeader,
                          mdt_index, random);
    int fd = open(
        name.c_str(),
        O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC | extra_flags, 0600);
    if (fd >= 0) {
      unlink(name.c_str());
      return fd;
    }
    if (errno != EEXIST) return -errno;
  }
  return -EEXIST;
}

int CreateVolatile(const std::string& parent, int mdt_index,
                   int restore_open_flags) {
  // Of the copytool's flags only the synchronous-write ones make sense for
  // an unlinked local file; O_LOV_DELAY_CREATE and the access mode do not
  // apply.
  int extra = restore_open_flags & (O_SYNC | O_DSYNC);
  int fd = open(parent.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC | extra, 0600);
  if (fd >= 0) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return -errno;
  return CreateNamedVolatile(parent, mdt_index, extra);
}

int BeginRestore(hsm_copyaction_private* hcp, int mdt_index,
                 int restore_open_flags) {
  const hsm_copytool_private* ct = hcp->ct_priv;
  std::string name = FidNoBrace(Hai(hcp).hai_fid);
  if (statx(ct->open_by_fid_fd, name.c_str(), AT_SYMLINK_NOFOLLOW,
            STATX_BASIC_STATS, &hcp->statx) < 0)
    return -errno;
  // Lustre opens the data FID too (the volatile takes its encryption
  // context) and fails the begin if it cannot. A restore Lustre sends again
  // after a retry keeps the data FID of the failed copy's volatile, gone
  // with that copy, so its next copy cannot even start (docs/lustre.md,
  // "Completion"). The simulator opens it only then: an unbound restore's
  // data FID is the file it just found.
  if (memcmp(&Hai(hcp).hai_dfid, &Hai(hcp).hai_fid, sizeof(lu_fid)) != 0) {
    int data = OpenByFid(ct, Hai(hcp).hai_dfid,
                         O_RDONLY | O_NOATIME | O_NOFOLLOW | O_NONBLOCK);
    if (data < 0) return data;
    close(data);
  }
  // From here on failures are returned without a message, as in Lustre.
  std::string parent = RestoreParent(hcp);
  int fd = CreateVolatile(parent, mdt_index, restore_open_flags);
  if (fd < 0) return fd;
  hcp->data_fd = fd;
  // A non-root simulator user cannot give files away; that is not an error
  // worth failing a restore for (Lustre copytools run as root).
  if (fchown(fd, hcp->statx.stx_uid, hcp->statx.stx_gid) < 0 &&
      !(errno == EPERM && geteuid() != 0))
    return -errno;
  lu_fid dfid{};
  int rc = CallFor(RootOf(hcp), MsgType::kFidAlloc, {}, fd, &dfid);
  if (rc < 0) return rc;
  Copy(hcp).hc_hai.hai_dfid = dfid;
  return CopyStart(hcp);
}

int BeginRemove(hsm_copyaction_private* hcp) {
  int fd = OpenByFid(hcp->ct_priv, Hai(hcp).hai_fid,
                     O_RDONLY | O_NOATIME | O_NOFOLLOW | O_NONBLOCK);
  if (fd == -ENOENT) return 0;  // remove on last unlink
  if (fd < 0) return fd;
  hcp->source_fd = fd;
  return 0;
}

// Lustre's progress types, added to hai_action to name the event.
enum class Progress { kStart, kRunning, kFinish };

// Lustre's llapi_hsm_log_ct_progress(): an ARCHIVE/RESTORE/REMOVE_START,
// _RUNNING, _FINISH, _CANCEL (hc_errval ECANCELED) or _ERROR (any other
// hc_errval) event for `hai`. lustre_path and total_bytes are in every
// event but FINISH, CANCEL and ERROR; current_bytes in RUNNING only. A
// lustre_path that cannot be found is an error logged with llapi_error, and
// no event is written.
void ActionEvent(const hsm_copyaction_private* hcp, const hsm_action_item& hai,
                 Progress progress, uint64_t total, uint64_t current) {
  if (!EventsEnabled()) return;
  const char* suffix = progress == Progress::kStart     ? "START"
                       : progress == Progress::kRunning ? "RUNNING"
                                                        : "FINISH";
  const uint16_t errval = Copy(hcp).hc_errval;
  if (errval == ECANCELED)
    suffix = "CANCEL";
  else if (errval != 0)
    suffix = "ERROR";
  JsonObject event;
  event.Add("event_type",
            fmt::format("{}_{}",
                        hsm_copytool_action2name(
                            static_cast<hsm_copytool_action>(hai.hai_action)),
                        suffix));
  if (errval != 0 && errval != ECANCELED) {
    event.Add("error", strerror(errval)).Add("errno", int64_t{errval});
  } else if (errval == 0) {
    if (progress == Progress::kRunning)
      event.AddUnsigned("current_bytes", current);
    if (progress != Progress::kFinish) {
      std::string path;
      int rc = Fid2PathRelative(RootOf(hcp), hai.hai_dfid, -1, 0, &path);
      // The simulator's restore volatile has no name, where Lustre's has
      // one in the file's directory: its events show the file's path.
      if (rc == -ENOENT &&
          memcmp(&hai.hai_dfid, &hai.hai_fid, sizeof(lu_fid)) != 0)
        rc = Fid2PathRelative(RootOf(hcp), hai.hai_fid, -1, 0, &path);
      if (rc < 0) {
        llapi_error(LLAPI_MSG_ERROR, rc,
                    "error in llapi_hsm_log_ct_progress()");
        return;
      }
      event.AddUnsigned("total_bytes", total).Add("lustre_path", path);
    }
  }
  event.Add("source_fid", FidNoBrace(hai.hai_fid))
      .Add("data_fid", FidNoBrace(hai.hai_dfid));
  WriteEvent(std::move(event));
}

}  // namespace
}  // namespace sim::llapi

using sim::llapi::ActionEvent;
using sim::llapi::FreeAction;
using sim::llapi::ValidAction;

extern "C" {

int llapi_hsm_action_begin(struct hsm_copyaction_private** phcp,
                           const struct hsm_copytool_private* ct,
                           const struct hsm_action_item* hai,
                           int restore_mdt_index, int restore_open_flags,
                           bool is_error) {
  if (phcp == nullptr || ct == nullptr || ct->mnt == nullptr || hai == nullptr)
    return -EINVAL;
  // calloc as in Lustre: the handle may be realloc()ed by a wrapping library.
  auto* hcp = static_cast<hsm_copyaction_private*>(
      calloc(1, sizeof(hsm_copyaction_private)));
  if (hcp == nullptr) return -ENOMEM;
  new (hcp->copy) hsm_copy{};
  hcp->source_fd = -1;
  hcp->data_fd = -1;
  hcp->ct_priv = ct;
  memcpy(&Copy(hcp).hc_hai, hai, sizeof(Copy(hcp).hc_hai));
  Copy(hcp).hc_hai.hai_len = sizeof(Copy(hcp).hc_hai);

  int rc = 0;
  if (!is_error) {
    switch (hai->hai_action) {
      case HSMA_ARCHIVE:
        rc = sim::llapi::BeginArchive(hcp);
        break;
      case HSMA_RESTORE:
        rc = sim::llapi::BeginRestore(hcp, restore_mdt_index,
                                      restore_open_flags);
        break;
      case HSMA_REMOVE:
        rc = sim::llapi::BeginRemove(hcp);
        break;
      default:
        rc = sim::llapi::CopyStart(hcp);
        break;
    }
  }
  if (rc < 0) {
    FreeAction(hcp);
    return rc;
  }
  // Lustre logs the start (with the caller's item, so a restore's data_fid
  // is still the file's) unless is_error.
  if (!is_error) ActionEvent(hcp, *hai, sim::llapi::Progress::kStart, 0, 0);
  hcp->magic = CP_PRIV_MAGIC;
  *phcp = hcp;
  return 0;
}

int llapi_hsm_action_progress(struct hsm_copyaction_private* hcp,
                              const struct hsm_extent* he, __u64 total,
                              int hp_flags) {
  if (!ValidAction(hcp) || he == nullptr) return -EINVAL;
  hsm_progress hp{};
  hp.hp_fid = Copy(hcp).hc_hai.hai_dfid;
  hp.hp_cookie = Copy(hcp).hc_hai.hai_cookie;
  hp.hp_extent = *he;
  hp.hp_flags = static_cast<uint16_t>(hp_flags);
  int rc =
      sim::llapi::Call(sim::llapi::RootOf(hcp), sim::wire::MsgType::kProgress,
                       sim::llapi::Bytes(hp), -1, nullptr);
  ActionEvent(hcp, Copy(hcp).hc_hai, sim::llapi::Progress::kRunning, total,
              he->length);
  return rc;
}

int llapi_hsm_action_end(struct hsm_copyaction_private** phcp,
                         const struct hsm_extent* he, int hp_flags,
                         int errval) {
  if (phcp == nullptr || !ValidAction(*phcp) || he == nullptr) return -EINVAL;
  hsm_copyaction_private* hcp = *phcp;
  hsm_copy& copy = Copy(hcp);
  uint32_t action = copy.hc_hai.hai_action;
  if (action == HSMA_RESTORE && errval == 0) {
    if (fsync(hcp->data_fd) < 0) {
      errval = errno;
    } else {
      // Lustre's LL_IOC_FUTIMES_3: the volatile gets the file's times.
      timespec times[2] = {
          {hcp->statx.stx_atime.tv_sec, hcp->statx.stx_atime.tv_nsec},
          {hcp->statx.stx_mtime.tv_sec, hcp->statx.stx_mtime.tv_nsec}};
      if (futimens(hcp->data_fd, times) < 0) errval = errno;
    }
  }
  if (action == HSMA_ARCHIVE || action == HSMA_RESTORE)
    copy.hc_hai.hai_fid = copy.hc_hai.hai_dfid;
  copy.hc_flags = static_cast<uint16_t>(hp_flags | HP_FLAG_COMPLETED);
  copy.hc_errval = static_cast<uint16_t>(abs(errval));
  copy.hc_hai.hai_extent = *he;
  int fd = -1;
  if (action == HSMA_RESTORE && errval == 0) {
    fd = hcp->data_fd;
    uint64_t version = 0;
    if (sim::llapi::DataVersion(sim::llapi::RootOf(hcp), fd, &version) == 0)
      copy.hc_data_version = version;
  }
  sim::wire::CopyReq req{copy};
  int rc =
      sim::llapi::Call(sim::llapi::RootOf(hcp), sim::wire::MsgType::kCopyEnd,
                       sim::llapi::Bytes(req), fd, nullptr);
  // Lustre logs the end only when the MDT accepted it.
  if (rc == 0)
    ActionEvent(hcp, copy.hc_hai, sim::llapi::Progress::kFinish, 0, 0);
  FreeAction(hcp);
  *phcp = nullptr;
  return rc;
}

int llapi_hsm_action_get_dfid(const struct hsm_copyaction_private* hcp,
                              struct lu_fid* fid) {
  if (!ValidAction(hcp) || fid == nullptr) return -EINVAL;
  uint32_t action = Copy(hcp).hc_hai.hai_action;
  if (action != HSMA_ARCHIVE && action != HSMA_RESTORE) return -EINVAL;
  *fid = Copy(hcp).hc_hai.hai_dfid;
  return 0;
}

int llapi_hsm_action_get_fd(const struct hsm_copyaction_private* hcp) {
  if (!ValidAction(hcp)) return -EINVAL;
  // A plain dup() as in Lustre: the descriptor is the caller's, who may hand
  // it to a child process.
  int fd;
  switch (Copy(hcp).hc_hai.hai_action) {
    case HSMA_ARCHIVE:
      fd = dup(hcp->source_fd);
      break;
    case HSMA_RESTORE:
      fd = dup(hcp->data_fd);
      break;
    default:
      return -EINVAL;
  }
  return fd < 0 ? -errno : fd;
}

}  // extern "C"
