#include "copytool/posix/actions.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/unique_fd.h"
#include "copytool/posix/action_handle.h"
#include "copytool/posix/archive_path.h"
#include "copytool/posix/data_copy.h"
#include "copytool/posix/log.h"

namespace ct {
namespace {

std::string Fid(const lu_fid& fid) {
  char buf[FID_LEN + 1];
  snprintf(buf, sizeof(buf), DFID, PFID(&fid));
  return buf;
}

const char* ActionName(const hsm_action_item& hai) {
  return hsm_copytool_action2name(
      static_cast<hsm_copytool_action>(hai.hai_action));
}

using Fd = common::UniqueFd;

class LlapiProgress : public ProgressSink {
 public:
  LlapiProgress(const ActionHandle& handle, RunningActions* running,
                uint64_t cookie)
      : handle_(handle), entry_(running, cookie), cookie_(cookie) {}
  // -ENOENT (the coordinator does not know the cookie) does not stop the
  // copy: a restarted coordinator forgets running requests until it
  // dispatches them again; llapi_hsm_action_end has the last word.
  int Report(const hsm_extent& extent, uint64_t total) override {
    const int rc = llapi_hsm_action_progress(handle_.get(), &extent, total, 0);
    if (rc != -ENOENT) return rc;
    if (!unknown_logged_) {
      Log(LLAPI_MSG_WARN, "cookie={:#x} unknown to the coordinator, copying on",
          cookie_);
      unknown_logged_ = true;
    }
    return 0;
  }
  bool ReportRequested() override { return entry_.TakeReportRequest(); }

 private:
  const ActionHandle& handle_;
  RunningActions::Entry entry_;
  const uint64_t cookie_;
  bool unknown_logged_ = false;
};

CopySettings Settings(const Options& o) {
  return {o.chunk_size, o.bandwidth, o.update_interval};
}

int MakeDirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    if (mkdir(dir.substr(0, pos).c_str(), 0700) < 0 && errno != EEXIST) {
      return -errno;
    }
  }
  return 0;
}

// The length to copy: the extent's, or up to `size` for an extent to EOF.
uint64_t CopyLength(const hsm_extent& extent, uint64_t size) {
  if (extent.length != LUSTRE_EOF) return extent.length;
  return extent.offset >= size ? 0 : size - extent.offset;
}

int FileSize(int fd, uint64_t* size) {
  struct stat st {};
  if (fstat(fd, &st) < 0) return -errno;
  *size = static_cast<uint64_t>(st.st_size);
  return 0;
}

// Reports `rc` for an item that has no action handle: begin(is_error) then
// end(rc).
ItemOutcome ReportFailure(const ActionContext& ctx, const hsm_action_item& hai,
                          int rc) {
  ActionHandle handle;
  const int begin_rc = handle.Begin(ctx.ct, hai, -1, true);
  if (begin_rc < 0) {
    LogError(begin_rc, "cannot report {} error for {}", ActionName(hai),
             Fid(hai.hai_fid));
    return {rc, false};
  }
  LogError(rc, "{} {} cookie={:#x} failed", ActionName(hai), Fid(hai.hai_fid),
           hai.hai_cookie);
  return {rc, handle.End(hai.hai_extent, rc) == 0};
}

// After a failed llapi_hsm_action_begin: a canceled (-ECANCELED) or unknown
// (-ENOENT) request needs no report, anything else is reported.
ItemOutcome BeginFailed(const ActionContext& ctx, const hsm_action_item& hai,
                        int rc) {
  if (rc != -ECANCELED && rc != -ENOENT) return ReportFailure(ctx, hai, rc);
  Log(LLAPI_MSG_INFO, "{} {} cookie={:#x}: request gone ({})", ActionName(hai),
      Fid(hai.hai_fid), hai.hai_cookie, rc);
  return {0, rc == -ECANCELED};
}

// Ends the action with `rc` and logs the outcome.
ItemOutcome Finish(ActionHandle* handle, const hsm_action_item& hai, int rc) {
  const int end_rc = handle->End(hai.hai_extent, rc);
  if (rc == 0 && end_rc == 0) {
    Log(LLAPI_MSG_INFO, "{} {} cookie={:#x} done", ActionName(hai),
        Fid(hai.hai_fid), hai.hai_cookie);
    return {0, true};
  }
  if (rc == -ECANCELED) {
    Log(LLAPI_MSG_INFO, "{} {} cookie={:#x} canceled", ActionName(hai),
        Fid(hai.hai_fid), hai.hai_cookie);
    return {0, true};
  }
  const int err = rc < 0 ? rc : end_rc;
  LogError(err, "{} {} cookie={:#x} failed", ActionName(hai), Fid(hai.hai_fid),
           hai.hai_cookie);
  return {err, end_rc == 0};
}

// Copies the source into "<path>_tmp" (whole file) or "<path>" (a range),
// then fsyncs; the caller renames.
int ArchiveData(const ActionContext& ctx, const ActionHandle& handle,
                const hsm_action_item& hai, int src, const std::string& target,
                bool whole) {
  uint64_t size = 0;
  int rc = FileSize(src, &size);
  if (rc < 0) return rc;
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (whole ? O_TRUNC : 0);
  Fd dst(open(target.c_str(), flags, 0600));
  if (dst.get() < 0) return -errno;
  LlapiProgress progress(handle, ctx.running, hai.hai_cookie);
  uint64_t copied = 0;
  rc = CopyData(src, dst.get(), hai.hai_extent.offset,
                CopyLength(hai.hai_extent, size), Settings(*ctx.options),
                &progress, ctx.stop, &copied);
  if (rc == 0 && fsync(dst.get()) < 0) rc = -errno;
  return rc;
}

ItemOutcome Archive(const ActionContext& ctx, const hsm_action_item& hai) {
  ActionHandle handle;
  int rc = handle.Begin(ctx.ct, hai, -1, false);
  if (rc < 0) return BeginFailed(ctx, hai, rc);
  Fd src(llapi_hsm_action_get_fd(handle.get()));
  if (src.get() < 0) return Finish(&handle, hai, src.get());
  const Options& o = *ctx.options;
  const std::string path =
      ArchivePath(o.hsm_root, hai.hai_fid, o.archive_format);
  rc = MakeDirs(ArchiveDir(o.hsm_root, hai.hai_fid, o.archive_format));
  if (rc < 0) return Finish(&handle, hai, rc);
  const bool whole = hai.hai_extent.length == LUSTRE_EOF;
  const std::string target = whole ? path + "_tmp" : path;
  rc = ArchiveData(ctx, handle, hai, src.get(), target, whole);
  if (rc == 0 && whole && rename(target.c_str(), path.c_str()) < 0) rc = -errno;
  if (rc < 0 && whole) unlink(target.c_str());
  return Finish(&handle, hai, rc);
}

ItemOutcome Restore(const ActionContext& ctx, const hsm_action_item& hai) {
  const Options& o = *ctx.options;
  const std::string path =
      ArchivePath(o.hsm_root, hai.hai_fid, o.archive_format);
  Fd src(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  uint64_t size = 0;
  int rc = src.get() < 0 ? -errno : FileSize(src.get(), &size);
  if (rc < 0) {
    LogError(rc, "cannot open archive copy '{}'", path);
    return ReportFailure(ctx, hai, rc);
  }
  int mdt_index = -1;
  if (llapi_get_mdt_index_by_fid(ctx.mnt_fd, &hai.hai_fid, &mdt_index) < 0) {
    mdt_index = -1;
  }
  ActionHandle handle;
  rc = handle.Begin(ctx.ct, hai, mdt_index, false);
  if (rc < 0) return BeginFailed(ctx, hai, rc);
  {
    Fd dst(llapi_hsm_action_get_fd(handle.get()));
    if (dst.get() < 0) return Finish(&handle, hai, dst.get());
    LlapiProgress progress(handle, ctx.running, hai.hai_cookie);
    uint64_t copied = 0;
    rc = CopyData(src.get(), dst.get(), hai.hai_extent.offset,
                  CopyLength(hai.hai_extent, size), Settings(o), &progress,
                  ctx.stop, &copied);
    if (rc == 0 && hai.hai_extent.length == LUSTRE_EOF &&
        ftruncate(dst.get(), static_cast<off_t>(size)) < 0) {
      rc = -errno;
    }
  }
  return Finish(&handle, hai, rc);  // src closes after the end
}

int UnlinkIfPresent(const std::string& path) {
  return unlink(path.c_str()) < 0 && errno != ENOENT ? -errno : 0;
}

ItemOutcome Remove(const ActionContext& ctx, const hsm_action_item& hai) {
  ActionHandle handle;
  int rc = handle.Begin(ctx.ct, hai, -1, false);
  if (rc < 0) return BeginFailed(ctx, hai, rc);
  const Options& o = *ctx.options;
  const std::string path =
      ArchivePath(o.hsm_root, hai.hai_fid, o.archive_format);
  // A copy already gone is removed: the REMOVE may be a replay whose first
  // run was killed between the unlink and the end. Failing it would leave
  // Lustre saying "archived" with no copy, and the file lost once released
  // (lhsmtool_posix fails it).
  rc = UnlinkIfPresent(path);
  if (rc == 0) rc = UnlinkIfPresent(path + ".lov");
  if (rc == 0) rc = UnlinkIfPresent(path + "_tmp");
  return Finish(&handle, hai, rc);
}

}  // namespace

ItemOutcome ProcessItem(const ActionContext& ctx, const hsm_action_item& hai) {
  Log(LLAPI_MSG_INFO, "action {} reclen {}, cookie={:#x} fid={}",
      ActionName(hai), hai.hai_len, hai.hai_cookie, Fid(hai.hai_fid));
  if (ctx.options->dry_run) {
    Log(LLAPI_MSG_INFO, "dry-run: {} {} not done", ActionName(hai),
        Fid(hai.hai_fid));
    return {0, true};
  }
  if (hai.hai_action == HSMA_CANCEL) {
    CancelItem(ctx, hai);
    return {0, true};
  }
  if (ctx.stop->stopped()) return ReportFailure(ctx, hai, -EINTR);
  switch (hai.hai_action) {
    case HSMA_ARCHIVE:
      return Archive(ctx, hai);
    case HSMA_RESTORE:
      return Restore(ctx, hai);
    case HSMA_REMOVE:
      return Remove(ctx, hai);
    default:
      Log(LLAPI_MSG_ERROR, "unknown action {} for {}", hai.hai_action,
          Fid(hai.hai_fid));
      return ReportFailure(ctx, hai, -EINVAL);
  }
}

void CancelItem(const ActionContext& ctx, const hsm_action_item& hai) {
  const bool running = ctx.running->Poke(hai.hai_cookie);
  Log(LLAPI_MSG_INFO, "cancel {} cookie={:#x}: {}", Fid(hai.hai_fid),
      hai.hai_cookie,
      running ? "the copy stops at its next progress report"
              : "no copy running");
}

}  // namespace ct
