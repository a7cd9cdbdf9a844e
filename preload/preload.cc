// libcoordinatool_preload.so: loaded with LD_PRELOAD into an unmodified
// copytool, it makes llapi_hsm_copytool_register/_recv/_get_fd/_unregister
// talk to a coordinatool server instead of the Lustre coordinator, and wraps
// llapi_hsm_action_begin/_end (calling the real ones, so Lustre still learns
// every result from the mover) to tell the server when each item is done.
//
// The copytool handle keeps Lustre's leading fields (mnt, mnt_fd,
// open_by_fid_fd) because the real llapi_hsm_action_begin reads them, but
// carries another magic so that a real llapi_hsm_copytool_* call rejects it.
#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "config/host_list.h"
#include "config/settings.h"
#include "hsm/hal.h"
#include "hsm/lustreapi.h"
#include "preload/mover.h"

#define PRELOAD_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr int kPreloadMagic = 0x0C00D001;

}  // namespace

struct hsm_copytool_private {
  // Lustre's layout (docs/lustre.md, private handles), read by the real
  // action_begin.
  int magic;
  char* mnt;
  struct kuc_hdr* kuch;
  int mnt_fd;
  int open_by_fid_fd;
  void* kuc;
  // Ours.
  preload::Mover* mover;
  size_t buffer_size;
  bool nonblocking;
};

namespace {

using BeginFn = int (*)(hsm_copyaction_private**, const hsm_copytool_private*,
                        const hsm_action_item*, int, int, bool);
using EndFn = int (*)(hsm_copyaction_private**, const hsm_extent*, int, int);
using ProgressFn = int (*)(hsm_copyaction_private*, const hsm_extent*, __u64,
                           int);

template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

void Log(const std::string& message) {
  std::string line = "coordinatool-preload: " + message + "\n";
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

// Which item each copy-action handle works on, and for which copytool.
struct Action {
  protocol::ItemId id;
  preload::Mover* mover;
  uint32_t hai_action;
};
common::Mutex actions_mu;
std::unordered_map<const hsm_copyaction_private*, Action>& Actions()
    REQUIRES(actions_mu) {
  static auto* actions =
      new std::unordered_map<const hsm_copyaction_private*, Action>;
  return *actions;
}
// Items whose begin failed, with its return, until the copytool reports
// the failure (a begin with is_error, then an end): the `done` then says
// the begin failed, not the copy.
std::unordered_map<protocol::ItemId, int, protocol::ItemIdHash>& FailedBegins()
    REQUIRES(actions_mu) {
  static auto* failed =
      new std::unordered_map<protocol::ItemId, int, protocol::ItemIdHash>;
  return *failed;
}

bool Valid(const hsm_copytool_private* ct) {
  return ct != nullptr && ct->magic == kPreloadMagic;
}

bool LoadSettings(config::ClientSettings* settings, std::string* error) {
  std::vector<std::string> warnings;
  if (!config::LoadClientSettings("", config::ProcessEnvironment(), settings,
                                  &warnings, error))
    return false;
  for (const std::string& warning : warnings) Log(warning);
  return true;
}

void Free(hsm_copytool_private* ct) {
  if (ct->mnt_fd >= 0) close(ct->mnt_fd);
  if (ct->open_by_fid_fd >= 0) close(ct->open_by_fid_fd);
  delete ct->mover;
  free(ct->mnt);
  free(ct->kuch);
  delete ct;
}

}  // namespace

PRELOAD_EXPORT int llapi_hsm_copytool_register(hsm_copytool_private** priv,
                                               const char* mnt,
                                               int archive_count, int* archives,
                                               int rfd_flags) {
  if (priv == nullptr || mnt == nullptr) return -EINVAL;
  if (archive_count > 0 && archives == nullptr) return -EINVAL;
  std::vector<uint32_t> archive_ids;
  for (int i = 0; i < archive_count; ++i) {
    if (archives[i] < 0) return -EINVAL;
    if (archives[i] == 0) {  // 0 means every archive
      archive_ids.clear();
      break;
    }
    archive_ids.push_back(static_cast<uint32_t>(archives[i]));
  }
  char fsname[hsm::kFsnameBufferSize] = {};
  int rc = llapi_search_fsname(mnt, fsname);
  if (rc < 0) return rc;
  config::ClientSettings settings;
  std::string error;
  if (!LoadSettings(&settings, &error)) {
    Log(error);
    return -EINVAL;
  }

  auto* ct = new hsm_copytool_private{};
  ct->magic = kPreloadMagic;
  // The real action calls find the filesystem from this path.
  ct->mnt = realpath(mnt, nullptr);
  if (ct->mnt == nullptr) ct->mnt = strdup(mnt);
  ct->mnt_fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ct->open_by_fid_fd =
      ct->mnt_fd < 0 ? -1
                     : openat(ct->mnt_fd, ".lustre/fid", O_RDONLY | O_CLOEXEC);
  if (ct->open_by_fid_fd < 0) {
    rc = -errno;
    Free(ct);
    return rc;
  }
  ct->buffer_size = settings.hal_size;
  ct->kuch = static_cast<kuc_hdr*>(calloc(1, ct->buffer_size + 8));
  ct->nonblocking = (rfd_flags & O_NONBLOCK) != 0;
  // An item the library cannot decode is failed at Lustre as the server's
  // agent does it: begin with is_error, then end with the error.
  auto end_at_lustre = [ct](const hsm_action_item& hai, int errval) {
    static BeginFn begin = Real<BeginFn>("llapi_hsm_action_begin");
    static EndFn end = Real<EndFn>("llapi_hsm_action_end");
    if (begin == nullptr || end == nullptr) return -ENOSYS;
    hsm_copyaction_private* hcp = nullptr;
    int rc = begin(&hcp, ct, &hai, -1, 0, true);
    if (rc < 0) return rc;
    hsm_extent extent = hai.hai_extent;
    return end(&hcp, &extent, 0, errval);
  };
  ct->mover = new preload::Mover(settings, fsname, archive_ids, end_at_lustre);
  if (!ct->mover->Start(&error)) {
    std::string servers;
    for (const config::ServerAddress& server :
         config::ServerAddresses(settings))
      servers += (servers.empty() ? "" : ",") + server.ToString();
    Log(fmt::format("cannot register with coordinatool at {}: {}", servers,
                    error));
    Free(ct);
    return -ENOTCONN;
  }
  *priv = ct;
  return 0;
}

PRELOAD_EXPORT int llapi_hsm_copytool_unregister(hsm_copytool_private** priv) {
  if (priv == nullptr || !Valid(*priv)) return -EINVAL;
  Free(*priv);
  *priv = nullptr;
  return 0;
}

PRELOAD_EXPORT int llapi_hsm_copytool_get_fd(hsm_copytool_private* ct) {
  if (!Valid(ct)) return -EINVAL;
  return ct->mover->fd();
}

PRELOAD_EXPORT int llapi_hsm_copytool_recv(hsm_copytool_private* ct,
                                           hsm_action_list** hal,
                                           int* msgsize) {
  if (!Valid(ct) || hal == nullptr || msgsize == nullptr) return -EINVAL;
  *hal = nullptr;
  *msgsize = 0;
  char* buffer = reinterpret_cast<char*>(ct->kuch) + 8;
  int rc = ct->mover->Recv(buffer, ct->buffer_size, ct->nonblocking);
  if (rc < 0) return rc;
  *hal = reinterpret_cast<hsm_action_list*>(buffer);
  *msgsize = rc;
  return 0;
}

PRELOAD_EXPORT int llapi_hsm_action_begin(hsm_copyaction_private** phcp,
                                          const hsm_copytool_private* ct,
                                          const hsm_action_item* hai,
                                          int restore_mdt_index,
                                          int restore_open_flags,
                                          bool is_error) {
  static BeginFn real = Real<BeginFn>("llapi_hsm_action_begin");
  if (real == nullptr) return -ENOSYS;
  int rc = real(phcp, ct, hai, restore_mdt_index, restore_open_flags, is_error);
  if (!Valid(ct) || hai == nullptr) return rc;
  hsm_action_item fixed;
  memcpy(&fixed, hai, sizeof(fixed));
  if (rc == 0 && phcp && *phcp) {
    common::MutexLock lock(&actions_mu);
    Actions()[*phcp] = {protocol::ItemId::Of(fixed), ct->mover,
                        fixed.hai_action};
  } else if (rc == -ENOENT || rc == -ECANCELED) {
    // Lustre no longer knows the request (it ended, or was cancelled): the
    // copytool will not end it, so tell the server it is over. Happens when
    // an item is dispatched again after a server crash lost its `done`.
    ct->mover->ReportDone(protocol::ItemId::Of(fixed), -rc, 0, rc);
  } else if (rc < 0) {
    common::MutexLock lock(&actions_mu);
    if (FailedBegins().size() < 4096)
      FailedBegins()[protocol::ItemId::Of(fixed)] = rc;
  }
  return rc;
}

PRELOAD_EXPORT int llapi_hsm_action_progress(hsm_copyaction_private* hcp,
                                             const hsm_extent* he, __u64 total,
                                             int hp_flags) {
  static ProgressFn real = Real<ProgressFn>("llapi_hsm_action_progress");
  if (real == nullptr) return -ENOSYS;
  int rc = real(hcp, he, total, hp_flags);
  std::optional<Action> action;
  if (hcp) {
    common::MutexLock lock(&actions_mu);
    auto it = Actions().find(hcp);
    if (it != Actions().end()) action = it->second;
  }
  if (action) action->mover->ReportProgress(action->id);
  return rc;
}

PRELOAD_EXPORT int llapi_hsm_action_end(hsm_copyaction_private** phcp,
                                        const hsm_extent* he, int hp_flags,
                                        int errval) {
  static EndFn real = Real<EndFn>("llapi_hsm_action_end");
  if (real == nullptr) return -ENOSYS;
  std::optional<Action> action;
  if (phcp && *phcp) {
    common::MutexLock lock(&actions_mu);
    auto it = Actions().find(*phcp);
    if (it != Actions().end()) {
      action = it->second;
      Actions().erase(it);
    }
  }
  // Errors the site listed in retry_errors are ended retryable: Lustre
  // sends the request again, and the server places it on another mover.
  if (action)
    hp_flags = preload::EndFlags(action->mover->settings(), action->hai_action,
                                 errval, hp_flags);
  int rc = real(phcp, he, hp_flags, errval);
  if (action) {
    int begin_rc = 0;
    {
      common::MutexLock lock(&actions_mu);
      auto failed = FailedBegins().find(action->id);
      if (failed != FailedBegins().end()) {
        begin_rc = failed->second;
        FailedBegins().erase(failed);
      }
    }
    int status = errval != 0 ? std::abs(errval) : std::abs(rc);
    action->mover->ReportDone(action->id, status, rc, begin_rc,
                              errval != 0 ? hp_flags : 0);
  }
  return rc;
}
