// FIDs, paths and sizes (docs/lustre.md, helpers copytools use):
// llapi_fid_parse, llapi_fid2path, llapi_path2fid, llapi_fd2fid,
// llapi_search_fsname, llapi_parse_size, llapi_get_mdt_index_by_fid and
// llapi_open_by_fid(_at).
#include "sim/llapi/api.h"
// (api.h first: it gives the llapi_* declarations default visibility.)

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/unique_fd.h"
#include "sim/llapi/fid_path.h"
#include "sim/llapi/mount.h"
#include "sim/llapi/rpc.h"

namespace sim::llapi {
namespace {

std::string CollapseSlashes(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  return out;
}

// Copies `text` into the caller's buffer: 0, or -EOVERFLOW when it does not
// fit (with the NUL).
int CopyOut(const std::string& text, char* buf, int buflen) {
  if (buflen <= 0 || text.size() >= static_cast<size_t>(buflen))
    return -EOVERFLOW;
  memcpy(buf, text.c_str(), text.size() + 1);
  return 0;
}

// The mount named by llapi_fid2path's first argument: a path on the mount,
// or an fsname (matched against LUSTRE_SIM_MOUNT, then the current
// directory's mount, since the simulator has no mount table).
int MountForPathOrFsname(const char* path_or_fsname, Mount* mount) {
  if (strchr(path_or_fsname, '/') != nullptr ||
      access(path_or_fsname, F_OK) == 0)
    return FindMount(path_or_fsname, mount);
  const char* candidates[] = {getenv("LUSTRE_SIM_MOUNT"), "."};
  for (const char* candidate : candidates) {
    if (candidate == nullptr || *candidate == '\0') continue;
    if (FindMount(candidate, mount, /*log=*/false) == 0 &&
        mount->fsname == path_or_fsname)
      return 0;
  }
  llapi_err_noerrno(LLAPI_MSG_ERROR, "'%s' not on a mounted Lustre filesystem",
                    path_or_fsname);
  return -ENODEV;
}

int Fid2PathOn(const std::string& root, const lu_fid* fid, char* path,
               int pathlen, long long* recno, int* linkno) {
  if (fid == nullptr || path == nullptr || pathlen <= 0) return -EINVAL;
  std::string rel;
  int rc = Fid2PathRelative(root, *fid, recno ? *recno : -1,
                            linkno ? *linkno : 0, &rel);
  if (rc < 0) return rc;
  return CopyOut(rel, path, pathlen);
}

}  // namespace

std::string FidNoBrace(const lu_fid& fid) {
  char buf[FID_NOBRACE_LEN + 1];
  snprintf(buf, sizeof(buf), DFID_NOBRACE, PFID(&fid));
  return buf;
}

int Fid2PathRelative(const std::string& root, const lu_fid& fid,
                     long long recno, int linkno, std::string* path) {
  wire::Fid2PathReq req{};
  req.fid = fid;
  req.recno = recno;
  req.linkno = linkno;
  std::string reply;
  int rc = Call(root, wire::MsgType::kFid2Path, Bytes(req), -1, &reply);
  if (rc < 0) return rc;
  std::string rel = CollapseSlashes(reply);
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  *path = rel.empty() ? "/" : rel;
  return 0;
}

}  // namespace sim::llapi

using sim::llapi::FindMount;
using sim::llapi::FindMountOfFd;
using sim::llapi::Mount;

extern "C" {

int llapi_fid_parse(const char* fidstr, struct lu_fid* fid, char** endptr) {
  unsigned long long val;
  bool bracket = false;
  char* end = const_cast<char*>(fidstr);
  int rc = 0;

  if (fidstr == nullptr || fid == nullptr) {
    rc = -EINVAL;
    goto out;
  }
  while (isspace(static_cast<unsigned char>(*fidstr))) fidstr++;
  while (*fidstr == '[') {
    bracket = true;
    fidstr++;
  }
  // strtoull() field by field rather than sscanf(SFID), so out-of-range
  // fields are detected.
  errno = 0;
  val = strtoull(fidstr, &end, 0);
  if ((val == 0 && errno) || *end != ':') {
    rc = -EINVAL;
    goto out;
  }
  if (val >= UINT64_MAX)
    rc = -ERANGE;
  else
    fid->f_seq = val;

  fidstr = end + 1;
  errno = 0;
  val = strtoull(fidstr, &end, 0);
  if ((val == 0 && errno) || *end != ':') {
    rc = -EINVAL;
    goto out;
  }
  if (val > UINT32_MAX)
    rc = -ERANGE;
  else
    fid->f_oid = static_cast<__u32>(val);

  fidstr = end + 1;
  errno = 0;
  val = strtoull(fidstr, &end, 0);
  if (val == 0 && errno) {
    rc = -EINVAL;
    goto out;
  }
  if (val > UINT32_MAX)
    rc = -ERANGE;
  else
    fid->f_ver = static_cast<__u32>(val);

  if (bracket && *end == ']') end++;
out:
  if (endptr) *endptr = end;
  errno = -rc;
  return rc;
}

int llapi_parse_size(const char* optarg, unsigned long long* size,
                     unsigned long long* size_units, int bytes_spec) {
  if (optarg == nullptr || size == nullptr || size_units == nullptr) return -1;
  if (optarg[0] == '-') return -1;
  if (*size_units == 0) *size_units = 1;

  char* end;
  unsigned long long frac = 0, frac_d = 1;
  *size = strtoull(optarg, &end, 0);
  if (*end == '.') {
    const char* frac_start = end + 1;
    frac = strtoull(frac_start, &end, 10);
    for (const char* p = frac_start; p < end; ++p) frac_d *= 10;
  }
  if (*end != '\0') {
    char next = static_cast<char>(tolower(static_cast<unsigned char>(end[1])));
    int shift;
    switch (tolower(static_cast<unsigned char>(*end))) {
      case 'b':
        shift = bytes_spec ? 0 : 9;  // 512-byte blocks unless bytes_spec
        break;
      case 'c':
        shift = 0;
        break;
      case 'k':
        shift = 10;
        break;
      case 'm':
        shift = 20;
        break;
      case 'g':
        shift = 30;
        break;
      case 't':
        shift = 40;
        break;
      case 'p':
        shift = 50;
        break;
      case 'e':
        shift = 60;
        break;
      default:
        return -1;
    }
    if (shift > 0 && (*size & (~0ULL << (64 - shift)))) return -1;
    *size_units = 1ULL << shift;
    if (next != '\0' && next != 'i' && next != 'b') return -1;
  }
  *size = *size * *size_units + frac * *size_units / frac_d;
  return 0;
}

int llapi_search_fsname(const char* pathname, char* fsname) {
  if (pathname == nullptr || fsname == nullptr) return -EINVAL;
  Mount mount;
  int rc = FindMount(pathname, &mount);
  if (rc < 0) return rc;
  snprintf(fsname, LUSTRE_MAXFSNAME + 1, "%s", mount.fsname.c_str());
  return 0;
}

int llapi_fid2path_at(int mnt_fd, const struct lu_fid* fid, char* path,
                      int pathlen, long long* recno, int* linkno) {
  Mount mount;
  int rc = FindMountOfFd(mnt_fd, &mount);
  if (rc < 0) return rc;
  return sim::llapi::Fid2PathOn(mount.root, fid, path, pathlen, recno, linkno);
}

int llapi_fid2path(const char* path_or_fsname, const char* fidstr, char* path,
                   int pathlen, long long* recno, int* linkno) {
  if (path_or_fsname == nullptr || fidstr == nullptr) return -EINVAL;
  lu_fid fid{};
  int rc = llapi_fid_parse(fidstr, &fid, nullptr);
  if (rc < 0) {
    llapi_err_noerrno(LLAPI_MSG_ERROR,
                      "bad FID format '%s', should be [seq:oid:ver] "
                      "(e.g. " DFID ")",
                      fidstr, static_cast<unsigned long long>(FID_SEQ_NORMAL),
                      2, 0);
    return rc;
  }
  Mount mount;
  rc = sim::llapi::MountForPathOrFsname(path_or_fsname, &mount);
  if (rc < 0) return rc;
  return sim::llapi::Fid2PathOn(mount.root, &fid, path, pathlen, recno, linkno);
}

int llapi_fd2fid(int fd, struct lu_fid* fid) {
  if (fid == nullptr) return -EINVAL;
  Mount mount;
  int rc = FindMountOfFd(fd, &mount);
  if (rc < 0) return rc;
  return sim::llapi::CallFor(mount.root, sim::wire::MsgType::kFd2Fid, {}, fd,
                             fid);
}

int llapi_path2fid(const char* path, struct lu_fid* fid) {
  if (path == nullptr || fid == nullptr) return -EINVAL;
  common::UniqueFd fd(open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return -errno;
  Mount mount;
  if (FindMount(path, &mount, /*log=*/false) < 0) return -ENOTTY;
  return sim::llapi::CallFor(mount.root, sim::wire::MsgType::kFd2Fid, {},
                             fd.get(), fid);
}

int llapi_open_by_fid_at(int lustre_fd, const struct lu_fid* fid,
                         int open_flags) {
  if (fid == nullptr) return -EINVAL;
  // Lustre opens by file handle; a simulated mount opens the file's name
  // under .lustre/fid, which gives the same file.
  Mount mount;
  int rc = FindMountOfFd(lustre_fd, &mount);
  if (rc < 0) return rc;
  std::string path = mount.root + "/" + sim::wire::kFidDir + "/" +
                     sim::llapi::FidNoBrace(*fid);
  int fd = open(path.c_str(), open_flags);
  return fd < 0 ? -errno : fd;
}

int llapi_open_by_fid(const char* lustre_dir, const struct lu_fid* fid,
                      int open_flags) {
  if (lustre_dir == nullptr || fid == nullptr) return -EINVAL;
  common::UniqueFd dir(open(lustre_dir, O_PATH | O_CLOEXEC));
  if (!dir) return -errno;
  return llapi_open_by_fid_at(dir.get(), fid, open_flags);
}

int llapi_get_mdt_index_by_fid(int fd, const struct lu_fid* fid,
                               int* mdt_index) {
  if (fid == nullptr || mdt_index == nullptr) return -EINVAL;
  Mount mount;
  int rc = FindMountOfFd(fd, &mount);
  if (rc < 0) return rc;
  *mdt_index = 0;  // the simulator has one MDT
  return 0;
}

}  // extern "C"
