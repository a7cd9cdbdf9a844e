/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * HSM part of liblustreapi (installed as <lustre/lustreapi.h>). Signatures,
 * return conventions (0 or a negative errno) and thread-safety follow
 * Lustre's. The simulated liblustreapi (sim/llapi) implements every function
 * declared here; a copytool written against Lustre's HSM calls compiles
 * unchanged against this header and runs on the simulator.
 */
#ifndef _LUSTREAPI_H_
#define _LUSTREAPI_H_

/* The system headers Lustre's lustreapi.h includes. */
#include <glob.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/lustre/lustre_user.h>
#include <fcntl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- messages ---- */

enum llapi_message_level {
	LLAPI_MSG_OFF = 0,
	LLAPI_MSG_FATAL = 1,
	LLAPI_MSG_ERROR = 2,
	LLAPI_MSG_WARN = 3,
	LLAPI_MSG_NORMAL = 4,
	LLAPI_MSG_INFO = 5,
	LLAPI_MSG_DEBUG = 6,
	LLAPI_MSG_MAX
};

#define LLAPI_MSG_MASK 0x00000007
#define LLAPI_MSG_NO_ERRNO 0x00000010

/* The level's name as llapi's messages print it, NULL past the last. */
static inline const char *llapi_msg_level2str(enum llapi_message_level level)
{
	static const char *const names[LLAPI_MSG_MAX] = {
		"OFF", "FATAL", "ERROR", "WARNING", "NORMAL", "INFO", "DEBUG"};

	if ((unsigned int)level >= LLAPI_MSG_MAX)
		return NULL;
	return names[level];
}

typedef void (*llapi_log_callback_t)(enum llapi_message_level level, int err,
				     const char *fmt, va_list ap);

void llapi_msg_set_level(int level);
int llapi_msg_get_level(void);
llapi_log_callback_t llapi_error_callback_set(llapi_log_callback_t cb);
llapi_log_callback_t llapi_info_callback_set(llapi_log_callback_t cb);
void llapi_error(enum llapi_message_level level, int err, const char *fmt, ...)
	__attribute__((__format__(__printf__, 3, 4)));
/* The cast keeps the macro usable from C++, where an int does not convert
 * to an enum implicitly. */
#define llapi_err_noerrno(level, fmt, a...)                                  \
	llapi_error((enum llapi_message_level)((level) | LLAPI_MSG_NO_ERRNO), \
		    0, fmt, ##a)
void llapi_printf(enum llapi_message_level level, const char *fmt, ...)
	__attribute__((__format__(__printf__, 2, 3)));

/* ---- FIDs and paths ---- */

#define lustre_fid struct lu_fid

int llapi_search_fsname(const char *pathname, char *fsname);
int llapi_fid_parse(const char *fidstr, struct lu_fid *fid, char **endptr);
int llapi_fid2path(const char *path_or_fsname, const char *fidstr, char *path,
		   int pathlen, long long *recno, int *linkno);
int llapi_fid2path_at(int mnt_fd, const struct lu_fid *fid, char *path,
		      int pathlen, long long *recno, int *linkno);
int llapi_path2fid(const char *path, struct lu_fid *fid);
int llapi_fd2fid(int fd, struct lu_fid *fid);
int llapi_get_mdt_index_by_fid(int fd, const struct lu_fid *fid,
			       int *mdt_index);
/* Opens the file `fid` of the filesystem that holds `lustre_fd` (any open
 * file or directory of it) or `lustre_dir`: a descriptor, or -errno. */
int llapi_open_by_fid_at(int lustre_fd, const struct lu_fid *fid,
			 int open_flags);
int llapi_open_by_fid(const char *lustre_dir, const struct lu_fid *fid,
		      int open_flags);
int llapi_parse_size(const char *optarg, unsigned long long *size,
		     unsigned long long *size_units, int bytes_spec);

/* ---- HSM copytool ---- */

struct hsm_copytool_private;
struct hsm_copyaction_private;

int llapi_hsm_copytool_register(struct hsm_copytool_private **priv,
				const char *mnt, int archive_count,
				int *archives, int rfd_flags);
int llapi_hsm_copytool_unregister(struct hsm_copytool_private **priv);
int llapi_hsm_copytool_get_fd(struct hsm_copytool_private *ct);
int llapi_hsm_copytool_recv(struct hsm_copytool_private *priv,
			    struct hsm_action_list **hal, int *msgsize);
int llapi_hsm_action_begin(struct hsm_copyaction_private **phcp,
			   const struct hsm_copytool_private *ct,
			   const struct hsm_action_item *hai,
			   int restore_mdt_index, int restore_open_flags,
			   bool is_error);
int llapi_hsm_action_end(struct hsm_copyaction_private **phcp,
			 const struct hsm_extent *he, int hp_flags,
			 int errval);
int llapi_hsm_action_progress(struct hsm_copyaction_private *hcp,
			      const struct hsm_extent *he, __u64 total,
			      int hp_flags);
int llapi_hsm_action_get_dfid(const struct hsm_copyaction_private *hcp,
			      struct lu_fid *fid);
int llapi_hsm_action_get_fd(const struct hsm_copyaction_private *hcp);

/* ---- HSM events ---- */

int llapi_hsm_register_event_fifo(const char *path);
int llapi_hsm_unregister_event_fifo(const char *path);
void llapi_hsm_log_error(enum llapi_message_level level, int _rc,
			 const char *fmt, va_list args);

/* ---- HSM state and requests ---- */

int llapi_hsm_state_get_fd(int fd, struct hsm_user_state *hus);
int llapi_hsm_state_get(const char *path, struct hsm_user_state *hus);
int llapi_hsm_state_set_fd(int fd, __u64 setmask, __u64 clearmask,
			   __u32 archive_id);
int llapi_hsm_state_set(const char *path, __u64 setmask, __u64 clearmask,
			__u32 archive_id);
/* Records `data_version` as the file's archived data version (what the
 * MDT compares with to set dirty); -EINVAL for 0. */
int llapi_hsm_data_version_set(int fd, __u64 data_version);
int llapi_hsm_current_action(const char *path, struct hsm_current_action *hca);
struct hsm_user_request *llapi_hsm_user_request_alloc(int itemcount,
						      int data_len);
int llapi_hsm_request(const char *path, const struct hsm_user_request *request);
int llapi_hsm_import(const char *dst, int archive, const struct stat *st,
		     unsigned long long stripe_size, int stripe_offset,
		     int stripe_count, enum lov_pattern stripe_pattern,
		     char *pool_name, struct lu_fid *newfid);

#ifdef __cplusplus
}
#endif

#endif /* _LUSTREAPI_H_ */
