#include "sim/mdt/upcall.h"

#include <fmt/format.h>
#include <linux/lustre/lustre_fid.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "hsm/fid.h"

namespace sim::mdt {

namespace {

// The action of a user request the bypass may take, or HSMA_NONE.
uint32_t BypassAction(uint32_t user_action) {
  switch (user_action) {
    case HUA_ARCHIVE:
      return HSMA_ARCHIVE;
    case HUA_REMOVE:
      return HSMA_REMOVE;
    default:
      return HSMA_NONE;
  }
}

}  // namespace

int DecideUpcall(const Caller& caller, std::string_view hur, const Tunables& t,
                 const std::string& fsname, FileTable* files,
                 UpcallDecision* decision, std::vector<std::string>* argv) {
  *decision = UpcallDecision::kCoordinator;
  argv->clear();
  hsm_request hr;
  if (hur.size() < sizeof(hr)) return 0;  // the coordinator refuses it
  memcpy(&hr, hur.data(), sizeof(hr));
  const uint32_t action = BypassAction(hr.hr_action);
  if (action == HSMA_NONE || !(t.upcall_mask & (1ULL << action))) return 0;
  const uint64_t items_len = uint64_t{hr.hr_itemcount} * sizeof(hsm_user_item);
  if (sizeof(hr) + items_len + hr.hr_data_len != hur.size()) return -EPROTO;
  if (t.upcall_path.empty()) return -ENOSYS;
  *decision = UpcallDecision::kNothing;
  std::vector<lu_fid> fids;
  std::unordered_set<lu_fid, hsm::FidHash, FidEq> seen;
  uint32_t first_archive = 0;
  for (uint32_t i = 0; i < hr.hr_itemcount; ++i) {
    hsm_user_item item;
    memcpy(&item, hur.data() + sizeof(hr) + i * sizeof(item), sizeof(item));
    if (!fid_is_sane(&item.hui_fid)) return -EINVAL;
    if (!seen.insert(item.hui_fid).second) continue;
    FileEntry* entry;
    struct stat st;
    if (int rc = files->Stat(item.hui_fid, &entry, &st); rc < 0) {
      // A remove of a file that is gone, by root, as the coordinator takes
      // it.
      if (action == HSMA_REMOVE && caller.privileged()) {
        fids.push_back(item.hui_fid);
        continue;
      }
      return rc;
    }
    if (!caller.privileged()) {
      uint64_t mask = st.st_uid == caller.uid   ? t.user_request_mask
                      : st.st_gid == caller.gid ? t.group_request_mask
                                                : t.other_request_mask;
      if (!(mask & (1ULL << action))) return -EPERM;
    }
    const HsmAttrs& hsm = entry->hsm;
    if (!(hr.hr_flags & HSM_FORCE_ACTION) &&
        !HsmActionNeeded(action, hsm.flags))
      continue;
    if (!HsmActionCompatible(action, hsm.flags, hr.hr_archive_id,
                             hsm.archive_id))
      return -EPERM;
    if (first_archive == 0) first_archive = hsm.archive_id;
    fids.push_back(item.hui_fid);
  }
  if (fids.empty()) return 0;
  const uint32_t archive_id = hr.hr_archive_id ? hr.hr_archive_id
                              : first_archive  ? first_archive
                                               : t.default_archive_id;
  std::string_view data = hur.substr(sizeof(hr) + items_len);
  data = data.substr(0, data.find('\0'));
  *decision = UpcallDecision::kRun;
  argv->push_back(t.upcall_path);
  argv->push_back(
      hsm_copytool_action2name(static_cast<hsm_copytool_action>(action)));
  argv->push_back(fsname);
  argv->push_back(std::to_string(archive_id));
  argv->push_back(std::to_string(hr.hr_flags));
  argv->emplace_back(data);
  for (const lu_fid& fid : fids) argv->push_back(hsm::FormatFid(fid));
  return 0;
}

int UpcallBegin(FileTable* files, const wire::UpcallReq& req, int fd,
                uint64_t* data_version) {
  *data_version = 0;
  if (req.action == HSMA_REMOVE) {
    FileEntry* entry;
    struct stat st;
    int rc = files->Stat(req.fid, &entry, &st);
    if (rc == -ENOENT) return 0;  // the archive copy of a file that is gone
    if (rc < 0) return rc;
    if (!HsmActionCompatible(HSMA_REMOVE, entry->hsm.flags, req.archive_id,
                             entry->hsm.archive_id))
      return -EPERM;
    return 0;
  }
  if (req.action != HSMA_ARCHIVE) return -EINVAL;
  if (req.archive_id == 0) return -EINVAL;
  if (fd < 0) return -EBADF;
  FileEntry* entry;
  struct stat st;
  if (int rc = files->Identify(fd, &entry, &st); rc < 0) return rc;
  if (!(entry->fid == req.fid)) return -EINVAL;
  if (!HsmActionCompatible(HSMA_ARCHIVE, entry->hsm.flags, req.archive_id,
                           entry->hsm.archive_id))
    return -EPERM;
  HsmAttrs hsm = entry->hsm;
  hsm.flags |= HS_EXISTS;
  hsm.archive_id = req.archive_id;
  files->SetHsm(entry, hsm);
  *data_version = DataVersion(st);
  return 0;
}

int UpcallEnd(FileTable* files, const wire::UpcallReq& req, int fd) {
  if (req.errval < 0) return -EINVAL;
  if (req.action == HSMA_REMOVE) {
    if (req.errval != 0) return 0;
    FileEntry* entry;
    struct stat st;
    if (files->Stat(req.fid, &entry, &st) < 0) return 0;  // gone: nothing
    HsmAttrs hsm = entry->hsm;
    hsm.flags &= ~(HS_ARCHIVED | HS_EXISTS | HS_LOST);
    files->SetHsm(entry, hsm);
    return 0;
  }
  if (req.action != HSMA_ARCHIVE) return -EINVAL;
  if (fd < 0) return -EBADF;
  FileEntry* entry;
  struct stat st;
  if (int rc = files->Identify(fd, &entry, &st); rc < 0) return rc;
  if (!(entry->fid == req.fid)) return -EINVAL;
  HsmAttrs hsm = entry->hsm;
  const bool changed = DataVersion(st) != req.data_version;
  if (req.errval == 0 && !changed) {
    hsm.flags |= HS_ARCHIVED | HS_EXISTS;
    hsm.flags &= ~(HS_LOST | HS_DIRTY);
    hsm.arch_ver = req.data_version;
    files->SetHsm(entry, hsm);
    return 0;
  }
  // LU-19829, as the coordinator: a failed archive leaves an archived file
  // dirty; a file written during its archive is dirty in any case.
  if (req.errval != EALREADY && (hsm.flags & HS_EXISTS) &&
      !(hsm.flags & HS_DIRTY) && ((hsm.flags & HS_ARCHIVED) || changed)) {
    hsm.flags |= HS_DIRTY;
    files->SetHsm(entry, hsm);
  }
  return req.errval == 0 ? -EBUSY : 0;
}

}  // namespace sim::mdt
