/*
 * site_copytool: a copytool written the way a site writes one, in C against
 * liblustreapi alone, with the names copytools take from Lustre's headers
 * (MAX_OBD_NAME, dot_lustre_name, the lustre.lov layout attribute,
 * lov_user_md, lstatx_t, llapi_msg_level2str,
 * hai_dump_data_field, llapi_open_by_fid...). It builds unchanged against
 * the simulator and against a real Lustre; the tests run it on the
 * simulator, directly and under coordinatool's preload library.
 *
 *   site_copytool -p ARCHIVE_ROOT [-A ARCHIVE_ID] MOUNT
 *
 * Archive copies a file to ARCHIVE_ROOT/FID (and its layout, when the
 * mount has one, to ARCHIVE_ROOT/FID.lov, as lhsmtool_posix does), restore
 * copies it back (layout first), remove deletes both.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/lustre/lustre_idl.h>
#include <lustre/lustreapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static char fs_name[MAX_OBD_NAME + 1];
static const char* archive_root;
static const char* mount_point;

static void say(enum llapi_message_level level, int err, const char* what,
                const struct lu_fid* fid) {
  fprintf(stderr, "site_copytool %s: %s " DFID "%s%s\n",
          llapi_msg_level2str(level), what, PFID(fid), err ? ": " : "",
          err ? strerror(err) : "");
}

static void archive_path(char* buf, size_t size, const struct lu_fid* fid,
                         const char* suffix) {
  snprintf(buf, size, "%s/" DFID_NOBRACE "%s", archive_root, PFID(fid), suffix);
}

/* Copies in_fd to out_fd, reporting progress every MiB; 0 or -errno. */
static int copy_data(struct hsm_copyaction_private* hcp, int in_fd,
                     int out_fd) {
  static char buf[1 << 20];
  struct hsm_extent he = {0, 0};
  ssize_t n;

  while ((n = read(in_fd, buf, sizeof(buf))) > 0) {
    if (write(out_fd, buf, n) != n) return errno ? -errno : -EIO;
    he.length = n;
    llapi_hsm_action_progress(hcp, &he, n, 0);
    he.offset += n;
  }
  return n < 0 ? -errno : 0;
}

/* The layout attribute, saved beside the copy; a mount without one (not
 * Lustre) is not an error. */
static void save_layout(int src_fd, const struct lu_fid* fid) {
  char value[XATTR_SIZE_MAX];
  char path[PATH_MAX];
  struct lov_user_md* lum = (struct lov_user_md*)value;
  ssize_t size;
  FILE* out;

  size = fgetxattr(src_fd, XATTR_LUSTRE_LOV, value, sizeof(value));
  if (size < 0) {
    if (errno != EOPNOTSUPP && errno != ENODATA)
      say(LLAPI_MSG_WARN, errno, "no layout for", fid);
    return;
  }
  if ((size_t)size < sizeof(*lum) || (lum->lmm_magic != LOV_USER_MAGIC_V1 &&
                                      lum->lmm_magic != LOV_USER_MAGIC_V3)) {
    say(LLAPI_MSG_WARN, EPROTO, "unexpected layout of", fid);
    return;
  }
  /* Let the MDT choose the first OST when the layout is set again. */
  lum->lmm_stripe_offset = (__u16)-1;
  archive_path(path, sizeof(path), fid, ".lov");
  out = fopen(path, "w");
  if (out == NULL || fwrite(value, 1, size, out) != (size_t)size)
    say(LLAPI_MSG_WARN, errno, "cannot save the layout of", fid);
  if (out != NULL) fclose(out);
}

static int do_archive(struct hsm_copytool_private* ct,
                      const struct hsm_action_item* hai, int* errval) {
  struct hsm_copyaction_private* hcp = NULL;
  char path[PATH_MAX], tmp[PATH_MAX + 4];
  lstatx_t stx;
  int src_fd, dst_fd, rc;

  rc = llapi_hsm_action_begin(&hcp, ct, hai, -1, 0, false);
  if (rc < 0) return rc;
  src_fd = llapi_hsm_action_get_fd(hcp);
  archive_path(path, sizeof(path), &hai->hai_fid, "");
  snprintf(tmp, sizeof(tmp), "%s_tmp", path);
  dst_fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (src_fd < 0 || dst_fd < 0) {
    rc = src_fd < 0 ? src_fd : -errno;
  } else {
    save_layout(src_fd, &hai->hai_fid);
    rc = copy_data(hcp, src_fd, dst_fd);
    /* The copy must have the file's size (statx, as Lustre's
     * copytools read it). */
    if (rc == 0 && statx(src_fd, "", AT_EMPTY_PATH, STATX_SIZE, &stx) == 0 &&
        (off_t)stx.stx_size != lseek(dst_fd, 0, SEEK_CUR))
      rc = -EIO;
    if (rc == 0 && (fsync(dst_fd) < 0 || rename(tmp, path) < 0)) rc = -errno;
  }
  if (dst_fd >= 0) close(dst_fd);
  if (src_fd >= 0) close(src_fd);
  *errval = -rc;
  return llapi_hsm_action_end(&hcp, &hai->hai_extent, 0, -rc);
}

static int do_restore(struct hsm_copytool_private* ct,
                      const struct hsm_action_item* hai, int* errval) {
  struct hsm_copyaction_private* hcp = NULL;
  char path[PATH_MAX], lov[PATH_MAX];
  char value[XATTR_SIZE_MAX];
  ssize_t lov_size = -1;
  int src_fd, dst_fd, fd, rc;

  archive_path(lov, sizeof(lov), &hai->hai_fid, ".lov");
  fd = open(lov, O_RDONLY);
  if (fd >= 0) {
    lov_size = read(fd, value, sizeof(value));
    close(fd);
  }
  rc = llapi_hsm_action_begin(&hcp, ct, hai, -1,
                              lov_size > 0 ? O_LOV_DELAY_CREATE : 0, false);
  if (rc < 0) return rc;
  archive_path(path, sizeof(path), &hai->hai_fid, "");
  src_fd = open(path, O_RDONLY);
  dst_fd = llapi_hsm_action_get_fd(hcp);
  if (src_fd < 0 || dst_fd < 0) {
    rc = src_fd < 0 ? -errno : dst_fd;
  } else {
    if (lov_size > 0 &&
        fsetxattr(dst_fd, XATTR_LUSTRE_LOV, value, lov_size, XATTR_CREATE) <
            0 &&
        errno != EOPNOTSUPP)
      say(LLAPI_MSG_WARN, errno, "cannot set the layout of", &hai->hai_fid);
    rc = copy_data(hcp, src_fd, dst_fd);
  }
  if (src_fd >= 0) close(src_fd);
  if (dst_fd >= 0) close(dst_fd);
  *errval = -rc;
  return llapi_hsm_action_end(&hcp, &hai->hai_extent, 0, -rc);
}

static int do_remove(struct hsm_copytool_private* ct,
                     const struct hsm_action_item* hai, int* errval) {
  struct hsm_copyaction_private* hcp = NULL;
  char path[PATH_MAX];
  int rc;

  rc = llapi_hsm_action_begin(&hcp, ct, hai, -1, 0, false);
  if (rc < 0) return rc;
  archive_path(path, sizeof(path), &hai->hai_fid, ".lov");
  unlink(path);
  archive_path(path, sizeof(path), &hai->hai_fid, "");
  rc = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
  *errval = -rc;
  return llapi_hsm_action_end(&hcp, &hai->hai_extent, 0, -rc);
}

/* The file, opened by FID, still exists (a site checks before it copies:
 * a file deleted since its request is no error). */
static int still_there(const struct lu_fid* fid) {
  int fd = llapi_open_by_fid(mount_point, fid, O_RDONLY | O_NONBLOCK);

  if (fd < 0) return 0;
  close(fd);
  return 1;
}

static void handle(struct hsm_copytool_private* ct,
                   const struct hsm_action_item* hai) {
  char data[64];
  int errval = 0;
  int rc;

  say(LLAPI_MSG_INFO, 0, hsm_copytool_action2name(hai->hai_action),
      &hai->hai_fid);
  if (hai->hai_len > sizeof(*hai))
    fprintf(stderr, "site_copytool %s: data %s (under %s/%s/fid)\n",
            llapi_msg_level2str(LLAPI_MSG_DEBUG),
            hai_dump_data_field(hai, data, sizeof(data)), mount_point,
            dot_lustre_name);
  switch (hai->hai_action) {
    case HSMA_ARCHIVE:
      if (!still_there(&hai->hai_fid))
        say(LLAPI_MSG_WARN, 0, "cannot open by FID", &hai->hai_fid);
      rc = do_archive(ct, hai, &errval);
      break;
    case HSMA_RESTORE:
      rc = do_restore(ct, hai, &errval);
      break;
    case HSMA_REMOVE:
      rc = do_remove(ct, hai, &errval);
      break;
    default:
      return;
  }
  if (rc < 0 || errval != 0)
    say(LLAPI_MSG_ERROR, rc < 0 ? -rc : errval,
        hsm_copytool_action2name(hai->hai_action), &hai->hai_fid);
  else
    say(LLAPI_MSG_INFO, 0, "done", &hai->hai_fid);
}

int main(int argc, char** argv) {
  struct hsm_copytool_private* ct = NULL;
  int archives[LL_HSM_ORIGIN_MAX_ARCHIVE];
  int archive_count = 0;
  int c, rc;

  while ((c = getopt(argc, argv, "A:p:")) != -1) {
    if (c == 'A' && archive_count < (int)LL_HSM_ORIGIN_MAX_ARCHIVE)
      archives[archive_count++] = atoi(optarg);
    else if (c == 'p')
      archive_root = optarg;
    else
      return 2;
  }
  if (archive_root == NULL || optind != argc - 1) {
    fprintf(stderr, "usage: %s -p ARCHIVE_ROOT [-A ID] MOUNT\n", argv[0]);
    return 2;
  }
  mount_point = argv[optind];
  rc = llapi_search_fsname(mount_point, fs_name);
  if (rc < 0) {
    fprintf(stderr, "site_copytool: %s is not Lustre: %s\n", mount_point,
            strerror(-rc));
    return 1;
  }
  rc =
      llapi_hsm_copytool_register(&ct, mount_point, archive_count, archives, 0);
  if (rc < 0) {
    fprintf(stderr, "site_copytool: cannot register: %s\n", strerror(-rc));
    return 1;
  }
  fprintf(stderr, "site_copytool: registered on %s (%s)\n", mount_point,
          fs_name);
  for (;;) {
    struct hsm_action_list* hal;
    struct hsm_action_item* hai;
    int msgsize;
    __u32 i;

    rc = llapi_hsm_copytool_recv(ct, &hal, &msgsize);
    if (rc == -EINTR || rc == -EAGAIN) continue;
    if (rc < 0) {
      fprintf(stderr, "site_copytool: receive: %s\n", strerror(-rc));
      break;
    }
    if (strcmp(hal->hal_fsname, fs_name) != 0) continue;
    hai = hai_first(hal);
    for (i = 0; i < hal->hal_count; i++, hai = hai_next(hai)) handle(ct, hai);
  }
  llapi_hsm_copytool_unregister(&ct);
  return 1;
}
