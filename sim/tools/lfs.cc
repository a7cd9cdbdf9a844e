// sim-lfs: the `lfs` HSM commands for the Lustre HSM simulator
// (docs/lustre.md, lfs commands), written only against liblustreapi (plus
// llapi_sim_wait_restore for hsm_read). Options, output formats and messages
// follow lfs; see sim/tools/README.md for the differences.
#include <fcntl.h>
#include <getopt.h>
#include <lustre/lustreapi.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/version.h"
#include "sim/llapi/sim_extensions.h"
#include "sim/llapi/sim_hsm_upcall.h"

namespace {

// lfs's CMD_HELP: the command prints its usage and fails with EINVAL.
constexpr int kCmdHelp = 1000;
// hur_len() must stay below MDS_MAXREQSIZE / 3 (docs/lustre.md, user
// requests).
constexpr size_t kMaxHurLen = 5120 / 3;

const char* g_prog = "sim-lfs";

struct Command {
  const char* name;
  int (*fn)(int argc, char** argv);
  const char* help;
};

std::string ErrorText(int rc) { return strerror(rc < 0 ? -rc : rc); }

// ---- hsm_state, hsm_action ----

// hsm_state, hsm_action, hsm_set and hsm_clear go on past a file they
// cannot handle and return the first error, as lfs does since 2.16 (2.15
// stopped at the first one).
int HsmState(int argc, char** argv) {
  if (argc < 2) return kCmdHelp;
  int result = 0;
  for (int i = 1; i < argc; ++i) {
    const char* path = argv[i];
    hsm_user_state hus{};
    int rc = llapi_hsm_state_get(path, &hus);
    if (rc) {
      fprintf(stderr, "%s %s: get HSM state for '%s' failed: %s\n", g_prog,
              argv[0], path, ErrorText(rc).c_str());
      if (result == 0) result = rc;
      continue;
    }
    printf("%s: (0x%08x)", path, hus.hus_states);
    if (hus.hus_states & HS_RELEASED) printf(" released");
    if (hus.hus_states & HS_EXISTS) printf(" exists");
    if (hus.hus_states & HS_DIRTY) printf(" dirty");
    if (hus.hus_states & HS_ARCHIVED) printf(" archived");
    if (hus.hus_states & HS_NORELEASE) printf(" never_release");
    if (hus.hus_states & HS_NOARCHIVE) printf(" never_archive");
    if (hus.hus_states & HS_LOST) printf(" lost_from_hsm");
    if (hus.hus_archive_id != 0) printf(", archive_id:%d", hus.hus_archive_id);
    printf("\n");
  }
  return result;
}

int HsmAction(int argc, char** argv) {
  if (argc < 2) return kCmdHelp;
  int result = 0;
  for (int i = 1; i < argc; ++i) {
    const char* path = argv[i];
    hsm_current_action hca{};
    int rc = llapi_hsm_current_action(path, &hca);
    if (rc) {
      fprintf(stderr, "%s %s: get hsm action for '%s' failed: %s\n", g_prog,
              argv[0], path, ErrorText(rc).c_str());
      if (result == 0) result = rc;
      continue;
    }
    const hsm_extent& he = hca.hca_location;
    printf("%s: %s", path,
           hsm_user_action2name(static_cast<hsm_user_action>(hca.hca_action)));
    if (hca.hca_action == HUA_NONE) {
      printf("\n");
      continue;
    }
    printf(" %s ", hsm_progress_state2name(
                       static_cast<hsm_progress_states>(hca.hca_state)));
    if (hca.hca_state == HPS_RUNNING &&
        (hca.hca_action == HUA_ARCHIVE || hca.hca_action == HUA_RESTORE))
      printf("(%llu bytes moved)\n",
             static_cast<unsigned long long>(he.length));
    else if (he.offset + he.length == LUSTRE_EOF)
      printf("(from %llu to EOF)\n",
             static_cast<unsigned long long>(he.offset));
    else
      printf("(from %llu to %llu)\n",
             static_cast<unsigned long long>(he.offset),
             static_cast<unsigned long long>(he.offset + he.length));
  }
  return result;
}

// ---- hsm_set, hsm_clear ----

int ChangeFlags(int argc, char** argv, bool set) {
  static const option long_opts[] = {
      {"archived", no_argument, nullptr, 'A'},
      {"noarchive", no_argument, nullptr, 'a'},
      {"dirty", no_argument, nullptr, 'd'},
      {"exists", no_argument, nullptr, 'e'},
      {"help", no_argument, nullptr, 'h'},
      {"archive-id", required_argument, nullptr, 'i'},
      {"lost", no_argument, nullptr, 'l'},
      {"norelease", no_argument, nullptr, 'r'},
      {nullptr, 0, nullptr, 0}};
  if (argc < 3) return kCmdHelp;
  uint64_t mask = 0;
  uint32_t archive_id = 0;
  int c;
  while ((c = getopt_long(argc, argv, "aAdehi:lr", long_opts, nullptr)) != -1) {
    switch (c) {
      case 'l':
        mask |= HS_LOST;
        break;
      case 'a':
        mask |= HS_NOARCHIVE;
        break;
      case 'A':
        mask |= HS_ARCHIVED;
        break;
      case 'r':
        mask |= HS_NORELEASE;
        break;
      case 'd':
        mask |= HS_DIRTY;
        break;
      case 'e':
        mask |= HS_EXISTS;
        break;
      case 'i': {
        char* end = nullptr;
        archive_id = static_cast<uint32_t>(strtol(optarg, &end, 10));
        if (*end != '\0') {
          fprintf(stderr, "invalid archive_id: '%s'\n", end);
          return kCmdHelp;
        }
        break;
      }
      default:
        return kCmdHelp;
    }
  }
  if (mask == 0) return kCmdHelp;
  int result = 0;
  for (; optind < argc; ++optind) {
    const char* path = argv[optind];
    int rc = set ? llapi_hsm_state_set(path, mask, 0, archive_id)
                 : llapi_hsm_state_set(path, 0, mask, 0);
    if (rc) {
      fprintf(stderr, "%s %s: change hsm flags for '%s' failed: %s\n", g_prog,
              argv[0], path, ErrorText(rc).c_str());
      if (result == 0) result = rc;
    }
  }
  return result;
}

int HsmSet(int argc, char** argv) { return ChangeFlags(argc, argv, true); }
int HsmClear(int argc, char** argv) { return ChangeFlags(argc, argv, false); }

// ---- hsm_archive, hsm_restore, hsm_release, hsm_remove, hsm_cancel ----

struct RequestItems {
  std::vector<hsm_user_item> items;
  dev_t last_dev = 0;
  std::string some_file;  // the file (or mount) the request is sent through
};

int PrepareFile(const char* file, lu_fid* fid, dev_t* last_dev) {
  struct stat st;
  if (lstat(file, &st)) {
    int rc = -errno;
    fprintf(stderr, "Cannot stat %s: %s\n", file, strerror(errno));
    return rc;
  }
  // The POSIX copytool archives regular files only.
  if (!S_ISREG(st.st_mode)) {
    fprintf(stderr, "error: \"%s\" is not a regular file\n", file);
    return kCmdHelp;
  }
  if (*last_dev != st.st_dev && *last_dev != 0) {
    fprintf(stderr, "All files should be on the same filesystem: %s\n", file);
    return -EINVAL;
  }
  *last_dev = st.st_dev;
  int rc = llapi_path2fid(file, fid);
  if (rc) {
    fprintf(stderr, "Cannot read FID of %s: %s\n", file, ErrorText(rc).c_str());
    return rc;
  }
  return 0;
}

int AddItem(RequestItems* req, const char* mntpath, const char* name) {
  hsm_user_item hui{};
  hui.hui_extent.offset = 0;
  hui.hui_extent.length = LUSTRE_EOF;
  int rc;
  if (mntpath) {
    rc = llapi_fid_parse(name, &hui.hui_fid, nullptr);
    if (rc) fprintf(stderr, "hsm: '%s' is not a valid FID\n", name);
  } else {
    rc = PrepareFile(name, &hui.hui_fid, &req->last_dev);
  }
  if (rc == 0) {
    req->items.push_back(hui);
    if (req->some_file.empty()) req->some_file = name;
  }
  return rc;
}

int ReadFileList(RequestItems* req, const char* filelist, const char* mntpath) {
  FILE* fp = fopen(filelist, "re");
  if (fp == nullptr) {
    int rc = -errno;
    fprintf(stderr, "Cannot read the file list %s: %s\n", filelist,
            strerror(errno));
    return rc;
  }
  char* line = nullptr;
  size_t len = 0;
  int rc = 0;
  while (getline(&line, &len, fp) != -1) {
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == '\n') line[n - 1] = '\0';
    rc = AddItem(req, mntpath, line);
    if (rc) break;
  }
  free(line);
  fclose(fp);
  return rc;
}

// Sends the items in requests of at most as many items as fit under
// kMaxHurLen: lfs sends one request and fails with E2BIG beyond 52 files.
int SendRequests(const RequestItems& req, int action, uint32_t archive_id,
                 const std::string& data) {
  char fullpath[PATH_MAX];
  if (realpath(req.some_file.c_str(), fullpath) == nullptr) {
    fprintf(stderr, "Could not find path '%s': %s\n", req.some_file.c_str(),
            strerror(errno));
    snprintf(fullpath, sizeof(fullpath), "%s", req.some_file.c_str());
  }
  size_t fixed = sizeof(hsm_request) + data.size();
  size_t per_request = 1;
  if (fixed + sizeof(hsm_user_item) < kMaxHurLen)
    per_request = (kMaxHurLen - 1 - fixed) / sizeof(hsm_user_item);
  for (size_t first = 0; first < req.items.size(); first += per_request) {
    size_t count = std::min(per_request, req.items.size() - first);
    std::unique_ptr<hsm_user_request, decltype(&free)> hur(
        llapi_hsm_user_request_alloc(static_cast<int>(count),
                                     static_cast<int>(data.size())),
        &free);
    if (!hur) {
      fprintf(stderr, "Cannot create the request: %s\n", strerror(errno));
      return -ENOMEM;
    }
    hur->hur_request.hr_action = static_cast<uint32_t>(action);
    hur->hur_request.hr_archive_id = archive_id;
    hur->hur_request.hr_flags = 0;
    hur->hur_request.hr_itemcount = static_cast<uint32_t>(count);
    hur->hur_request.hr_data_len = static_cast<uint32_t>(data.size());
    memcpy(hur->hur_user_item, &req.items[first],
           count * sizeof(hsm_user_item));
    if (!data.empty()) memcpy(hur_data(hur.get()), data.data(), data.size());
    int rc = llapi_hsm_request(fullpath, hur.get());
    if (rc) {
      fprintf(stderr, "Cannot send HSM request (use of %s): %s\n",
              req.some_file.c_str(), ErrorText(rc).c_str());
      return rc;
    }
  }
  return 0;
}

int HsmRequest(int argc, char** argv, int action) {
  static const option long_opts[] = {
      {"archive", required_argument, nullptr, 'a'},
      {"data", required_argument, nullptr, 'D'},
      {"help", no_argument, nullptr, 'h'},
      {"filelist", required_argument, nullptr, 'l'},
      {"mntpath", required_argument, nullptr, 'm'},
      {nullptr, 0, nullptr, 0}};
  if (argc < 2) return kCmdHelp;
  const char* filelist = nullptr;
  const char* mntpath = nullptr;
  std::string data;
  uint32_t archive_id = 0;
  RequestItems req;
  int c;
  while ((c = getopt_long(argc, argv, "a:D:hl:m:", long_opts, nullptr)) != -1) {
    switch (c) {
      case 'l':
        filelist = optarg;
        break;
      case 'D':
        data = optarg;
        break;
      case 'a':
        if (action != HUA_ARCHIVE && action != HUA_REMOVE) {
          fprintf(stderr,
                  "error: -a is supported only when archiving or removing\n");
          return kCmdHelp;
        }
        archive_id = static_cast<uint32_t>(atoi(optarg));
        break;
      case 'm':
        if (req.some_file.empty()) {
          mntpath = optarg;
          req.some_file = optarg;
        }
        break;
      default:
        return kCmdHelp;
    }
  }
  if (optind == argc && filelist == nullptr) return kCmdHelp;
  for (int i = optind; i < argc; ++i) {
    int rc = AddItem(&req, mntpath, argv[i]);
    if (rc) return rc;
  }
  if (filelist) {
    int rc = ReadFileList(&req, filelist, mntpath);
    if (rc) return rc;
  }
  if (req.items.empty()) return 0;
  return SendRequests(req, action, archive_id, data);
}

int HsmArchive(int argc, char** argv) {
  return HsmRequest(argc, argv, HUA_ARCHIVE);
}
int HsmRestore(int argc, char** argv) {
  return HsmRequest(argc, argv, HUA_RESTORE);
}
int HsmRelease(int argc, char** argv) {
  return HsmRequest(argc, argv, HUA_RELEASE);
}
int HsmRemove(int argc, char** argv) {
  return HsmRequest(argc, argv, HUA_REMOVE);
}
int HsmCancel(int argc, char** argv) {
  return HsmRequest(argc, argv, HUA_CANCEL);
}

// ---- hsm_read (simulator extension) ----

int HsmRead(int argc, char** argv) {
  if (argc != 2) return kCmdHelp;
  const char* path = argv[1];
  int rc = llapi_sim_wait_restore(path);
  if (rc) {
    fprintf(stderr, "%s %s: restore of '%s' failed: %s\n", g_prog, argv[0],
            path, ErrorText(rc).c_str());
    return rc;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    rc = -errno;
    fprintf(stderr, "%s %s: cannot open '%s': %s\n", g_prog, argv[0], path,
            strerror(errno));
    return rc;
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) {
        rc = -errno;
        fprintf(stderr, "%s %s: read of '%s' failed: %s\n", g_prog, argv[0],
                path, strerror(errno));
      }
      break;
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w =
          write(STDOUT_FILENO, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        rc = -errno;
        close(fd);
        return rc;
      }
      done += w;
    }
  }
  close(fd);
  return rc;
}

// ---- path2fid, fid2path ----

int Path2Fid(int argc, char** argv) {
  if (argc < 2) return kCmdHelp;
  int result = 0;
  for (int i = 1; i < argc; ++i) {
    lu_fid fid{};
    int rc = llapi_path2fid(argv[i], &fid);
    if (rc) {
      fprintf(stderr, "%s %s: cannot get FID for '%s': %s\n", g_prog, argv[0],
              argv[i], ErrorText(rc).c_str());
      if (result == 0) result = rc;
      continue;
    }
    if (argc > 2) printf("%s: ", argv[i]);
    printf(DFID "\n", PFID(&fid));
  }
  return result;
}

int Fid2Path(int argc, char** argv) {
  static const option long_opts[] = {{"print-fid", no_argument, nullptr, 'f'},
                                     {"link", required_argument, nullptr, 'l'},
                                     {"rec", required_argument, nullptr, 'r'},
                                     {"help", no_argument, nullptr, 'h'},
                                     {nullptr, 0, nullptr, 0}};
  bool print_fid = false;
  long long recno = -1;
  int linkno = 0;
  int c;
  while ((c = getopt_long(argc, argv, "fl:r:h", long_opts, nullptr)) != -1) {
    switch (c) {
      case 'f':
        print_fid = true;
        break;
      case 'l':
        linkno = atoi(optarg);
        break;
      case 'r':
        recno = strtoll(optarg, nullptr, 0);
        break;
      default:
        return kCmdHelp;
    }
  }
  if (argc - optind < 2) return kCmdHelp;
  const char* device = argv[optind++];
  // A path as device: print full paths under its mount.
  std::string mntdir;
  struct stat st;
  if (strchr(device, '/') != nullptr || stat(device, &st) == 0) {
    char resolved[PATH_MAX];
    if (realpath(device, resolved)) {
      char fsname[LUSTRE_MAXFSNAME + 1];
      std::string dir = resolved;
      // Walk up to the directory holding .lustre/fsname.
      while (!dir.empty()) {
        if (access((dir + "/.lustre/fsname").c_str(), F_OK) == 0) break;
        size_t slash = dir.rfind('/');
        dir = slash == 0 || slash == std::string::npos ? ""
                                                       : dir.substr(0, slash);
      }
      if (!dir.empty() && llapi_search_fsname(dir.c_str(), fsname) == 0)
        mntdir = dir;
    }
  }
  int result = 0;
  for (; optind < argc; ++optind) {
    const char* fidstr = argv[optind];
    char path[PATH_MAX];
    long long rec = recno;
    int link = linkno;
    int rc = llapi_fid2path(device, fidstr, path, sizeof(path), &rec, &link);
    if (rc) {
      fprintf(stderr, "%s %s: cannot find %s '%s': %s\n", g_prog, argv[0],
              device, fidstr, ErrorText(rc).c_str());
      if (result == 0) result = rc;
      continue;
    }
    if (print_fid) {
      lu_fid fid{};
      llapi_fid_parse(fidstr, &fid, nullptr);
      printf(DFID " ", PFID(&fid));
    }
    if (!mntdir.empty())
      printf("%s%s%s\n", mntdir.c_str(), path[0] == '/' ? "" : "/", path);
    else
      printf("%s\n", path);
  }
  return result;
}

// ---- hsm_upcall (LU-10968, docs/upcall.md) ----

// A directory of the filesystem named `fsname`: --mntpath, else
// LUSTRE_SIM_MOUNT or the current directory when on it (the simulator has
// no mount table). Empty when none is.
std::string MountOfFsname(const char* mntpath, const char* fsname) {
  const char* candidates[] = {mntpath, getenv("LUSTRE_SIM_MOUNT"), "."};
  for (const char* candidate : candidates) {
    if (candidate == nullptr || *candidate == '\0') continue;
    char name[LUSTRE_MAXFSNAME + 1];
    if (llapi_search_fsname(candidate, name) == 0 && strcmp(name, fsname) == 0)
      return candidate;
    if (candidate == mntpath) return "";  // given, and wrong
  }
  return "";
}

// Runs WORKER ACTION FSNAME ARCHIVE_ID FLAGS DATA FID with `stdin_fd` as
// its standard input; returns its status as an errno: 0, its exit code,
// or EINTR when a signal ended it.
int RunWorker(char* const* worker_argv, int stdin_fd) {
  pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) {
    if (stdin_fd >= 0) {
      dup2(stdin_fd, 0);
    } else {
      int null_fd = open("/dev/null", O_RDONLY);
      if (null_fd >= 0) dup2(null_fd, 0);
    }
    execvp(worker_argv[0], worker_argv);
    fprintf(stderr, "%s hsm_upcall: cannot run %s: %s\n", g_prog,
            worker_argv[0], strerror(errno));
    _exit(ENOEXEC);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return errno;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return EINTR;
}

// What the design's `lfs hsm_upcall` does (docs/upcall.md): for each FID,
// open the file (archive), tell the MDT the action begins (bypassing the
// coordinator), run WORKER on it with the file as stdin, tell the MDT how
// it ended, close. A remove opens nothing. Goes on past a FID that fails
// and returns the first error.
int HsmUpcall(int argc, char** argv) {
  static const option long_opts[] = {
      {"mntpath", required_argument, nullptr, 'm'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  const char* mntpath = nullptr;
  int c;
  // "+": the worker's own arguments are never options of ours.
  while ((c = getopt_long(argc, argv, "+m:h", long_opts, nullptr)) != -1) {
    if (c != 'm') return kCmdHelp;
    mntpath = optarg;
  }
  if (argc - optind < 7) return kCmdHelp;
  char* worker = argv[optind];
  const char* action_name = argv[optind + 1];
  const char* fsname = argv[optind + 2];
  const char* archive_text = argv[optind + 3];
  hsm_copytool_action action;
  if (strcasecmp(action_name, "ARCHIVE") == 0)
    action = HSMA_ARCHIVE;
  else if (strcasecmp(action_name, "REMOVE") == 0)
    action = HSMA_REMOVE;
  else {
    fprintf(stderr, "%s hsm_upcall: action '%s': only ARCHIVE and REMOVE\n",
            g_prog, action_name);
    return -EINVAL;
  }
  char* end = nullptr;
  unsigned long archive_id = strtoul(archive_text, &end, 10);
  if (*archive_text == '\0' || *end != '\0' || archive_id == 0 ||
      archive_id > UINT32_MAX) {
    fprintf(stderr, "%s hsm_upcall: bad archive id '%s'\n", g_prog,
            archive_text);
    return -EINVAL;
  }
  std::string mnt = MountOfFsname(mntpath, fsname);
  if (mnt.empty()) {
    fprintf(stderr, "%s hsm_upcall: '%s' not on a mounted Lustre filesystem\n",
            g_prog, fsname);
    return -ENODEV;
  }
  int result = 0;
  for (int i = optind + 6; i < argc; ++i) {
    const char* fidstr = argv[i];
    auto fail = [&](const char* what, int rc) {
      fprintf(stderr, "%s hsm_upcall: %s %s: %s: %s\n", g_prog, action_name,
              fidstr, what, ErrorText(rc).c_str());
      if (result == 0) result = rc < 0 ? rc : -rc;
    };
    lu_fid fid{};
    if (llapi_fid_parse(fidstr, &fid, nullptr) != 0) {
      fail("bad FID", -EINVAL);
      continue;
    }
    int fd = -1;
    if (action == HSMA_ARCHIVE) {
      fd = llapi_open_by_fid(mnt.c_str(), &fid, O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        fail("cannot open", fd);
        continue;
      }
    }
    __u64 version = 0;
    int rc =
        llapi_sim_hsm_upcall_begin(mnt.c_str(), fd, &fid, action,
                                   static_cast<__u32>(archive_id), &version);
    if (rc < 0) {
      fail("begin refused", rc);
      if (fd >= 0) close(fd);
      continue;
    }
    std::vector<char*> wargv = {
        worker,           argv[optind + 1], argv[optind + 2], argv[optind + 3],
        argv[optind + 4], argv[optind + 5], argv[i],          nullptr};
    int status = RunWorker(wargv.data(), fd);
    rc = llapi_sim_hsm_upcall_end(mnt.c_str(), fd, &fid, action,
                                  static_cast<__u32>(archive_id), version,
                                  status);
    if (fd >= 0) close(fd);
    if (status != 0) {
      fprintf(stderr, "%s hsm_upcall: %s %s: %s exited with %d\n", g_prog,
              action_name, fidstr, worker, status);
      if (result == 0) result = -status;
    } else if (rc < 0)
      fail("end refused", rc);
  }
  return result;
}

// ---- dispatch ----

int Help(int argc, char** argv);

const Command kCommands[] = {
    {"hsm_state", HsmState, "usage: hsm_state FILE..."},
    {"hsm_action", HsmAction, "usage: hsm_action FILE..."},
    {"hsm_set", HsmSet,
     "usage: hsm_set [--norelease] [--noarchive] [--dirty] [--exists] "
     "[--archived] [--lost] [--archive-id NUM] FILE..."},
    {"hsm_clear", HsmClear,
     "usage: hsm_clear [--norelease] [--noarchive] [--dirty] [--exists] "
     "[--archived] [--lost] FILE..."},
    {"hsm_archive", HsmArchive,
     "usage: hsm_archive [--filelist FILELIST] [--data DATA] [--archive NUM] "
     "FILE...\n       hsm_archive [--filelist FILELIST] [--data DATA] "
     "[--archive NUM] --mntpath MOUNTPATH FID..."},
    {"hsm_restore", HsmRestore,
     "usage: hsm_restore [--filelist FILELIST] [--data DATA] FILE...\n"
     "       hsm_restore [--filelist FILELIST] [--data DATA] --mntpath "
     "MOUNTPATH FID..."},
    {"hsm_release", HsmRelease,
     "usage: hsm_release [--filelist FILELIST] [--data DATA] FILE...\n"
     "       hsm_release [--filelist FILELIST] [--data DATA] --mntpath "
     "MOUNTPATH FID..."},
    {"hsm_remove", HsmRemove,
     "usage: hsm_remove [--filelist FILELIST] [--data DATA] [--archive NUM] "
     "FILE...\n       hsm_remove [--filelist FILELIST] [--data DATA] "
     "[--archive NUM] --mntpath MOUNTPATH FID..."},
    {"hsm_cancel", HsmCancel,
     "usage: hsm_cancel [--filelist FILELIST] [--data DATA] FILE...\n"
     "       hsm_cancel [--filelist FILELIST] [--data DATA] --mntpath "
     "MOUNTPATH FID..."},
    {"hsm_read", HsmRead,
     "usage: hsm_read FILE\n"
     "       (simulator) restore FILE if released, then copy it to stdout"},
    {"hsm_upcall", HsmUpcall,
     "usage: hsm_upcall [--mntpath MOUNTPATH] WORKER ACTION FSNAME "
     "ARCHIVE_ID FLAGS DATA FID...\n"
     "       (LU-10968 patch only) run the upcalled ACTION (ARCHIVE or "
     "REMOVE)\n       of each FID through WORKER, bypassing the coordinator"},
    {"path2fid", Path2Fid, "usage: path2fid FILE..."},
    {"fid2path", Fid2Path,
     "usage: fid2path [--print-fid] [--link LINKNO] [--rec RECNO] "
     "FSNAME|ROOT FID..."},
    {"help", Help, "usage: help [COMMAND]"},
};

const Command* FindCommand(const std::string& name) {
  for (const Command& cmd : kCommands)
    if (name == cmd.name) return &cmd;
  return nullptr;
}

int Help(int argc, char** argv) {
  if (argc > 1) {
    const Command* cmd = FindCommand(argv[1]);
    if (cmd) {
      printf("%s: %s\n", cmd->name, cmd->help);
      return 0;
    }
  }
  printf(
      "Lustre HSM simulator lfs. Commands (also as 'hsm <cmd>' without "
      "the hsm_ prefix):\n");
  for (const Command& cmd : kCommands) printf("  %s\n", cmd.name);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  g_prog = program_invocation_short_name;
  if (argc < 2) {
    Help(1, argv);
    return EINVAL;
  }
  std::string name = argv[1];
  if (name == "--version") {
    printf("%s (coordinatool) %s\n", g_prog, common::kVersion);
    return 0;
  }
  int shift = 1;
  // `lfs hsm <sub>` (2.17) is `lfs hsm_<sub>`.
  if (name == "hsm") {
    if (argc < 3) {
      fprintf(stderr, "%s hsm: missing command\n", g_prog);
      return EINVAL;
    }
    name = std::string("hsm_") + argv[2];
    shift = 2;
  }
  const Command* cmd = FindCommand(name);
  if (cmd == nullptr) {
    fprintf(stderr, "%s: unknown command '%s'\n", g_prog, name.c_str());
    return ENOTTY;
  }
  // The command sees argv[0] as its own name, as lfs's parser passes it.
  std::vector<char*> args(argv + shift, argv + argc);
  std::string display = cmd->name;
  args[0] = display.data();
  args.push_back(nullptr);
  optind = 0;  // full getopt reset
  int rc = cmd->fn(static_cast<int>(args.size() - 1), args.data());
  fflush(stdout);
  if (rc == kCmdHelp) {
    fprintf(stderr, "%s: %s\n", cmd->name, cmd->help);
    return EINVAL;
  }
  return rc < 0 ? -rc : rc;
}
