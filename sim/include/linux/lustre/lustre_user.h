/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * HSM part of Lustre's user API (installed as <linux/lustre/lustre_user.h>),
 * for building against the Lustre HSM simulator. Names, values and struct
 * layouts are Lustre's (x86_64, LP64); lustre_abi_test checks every size and
 * offset. Only the HSM subset is declared.
 */
#ifndef _UAPI_LUSTRE_USER_H
#define _UAPI_LUSTRE_USER_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
#include <cstring>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#endif
#include <fcntl.h>
#include <sys/types.h>
#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LUSTRE_MAXFSNAME 8
#define LUSTRE_EOF 0xffffffffffffffffULL
#define OBD_OBJECT_EOF LUSTRE_EOF

#define LL_HSM_ORIGIN_MAX_ARCHIVE (sizeof(__u32) * 8)
#define LL_HSM_MAX_ARCHIVE LL_HSM_ORIGIN_MAX_ARCHIVE

/* ---- FIDs ---- */

struct lu_fid {
	__u64 f_seq;
	__u32 f_oid;
	__u32 f_ver;
} __attribute__((packed));

#define lustre_fid struct lu_fid

#define DFID_NOBRACE "%#llx:0x%x:0x%x"
#define DFID "[" DFID_NOBRACE "]"
#define PFID(fid) \
	(unsigned long long)(fid)->f_seq, (fid)->f_oid, (fid)->f_ver
#define SFID "0x%llx:0x%x:0x%x"
#define RFID(fid) \
	(unsigned long long *)&(fid)->f_seq, &(fid)->f_oid, &(fid)->f_ver
#define FID_NOBRACE_LEN 40
#define FID_LEN (FID_NOBRACE_LEN + 2)

enum fid_seq {
	FID_SEQ_OST_MDT0 = 0,
	FID_SEQ_LLOG = 1,
	FID_SEQ_ECHO = 2,
	FID_SEQ_UNUSED_START = 3,
	FID_SEQ_RSVD = 11,
	FID_SEQ_IGIF = 12,
	FID_SEQ_IGIF_MAX = 0x0ffffffffULL,
	FID_SEQ_IDIF = 0x100000000ULL,
	FID_SEQ_IDIF_MAX = 0x1ffffffffULL,
	FID_SEQ_START = 0x200000000ULL,
	FID_SEQ_LOCAL_FILE = 0x200000001ULL,
	FID_SEQ_DOT_LUSTRE = 0x200000002ULL,
	FID_SEQ_ROOT = 0x200000007ULL,
	FID_SEQ_NORMAL = 0x200000400ULL,
};

static inline bool fid_seq_is_igif(__u64 seq)
{
	return seq >= FID_SEQ_IGIF && seq <= FID_SEQ_IGIF_MAX;
}

static inline bool fid_seq_is_idif(__u64 seq)
{
	return seq >= FID_SEQ_IDIF && seq <= FID_SEQ_IDIF_MAX;
}

static inline bool fid_is_igif(const struct lu_fid *fid)
{
	return fid_seq_is_igif(fid->f_seq);
}

static inline bool fid_is_idif(const struct lu_fid *fid)
{
	return fid_seq_is_idif(fid->f_seq);
}

static inline bool fid_seq_is_norm(__u64 seq)
{
	return seq >= FID_SEQ_NORMAL;
}

static inline bool fid_is_norm(const struct lu_fid *fid)
{
	return fid_seq_is_norm(fid->f_seq);
}

static inline bool fid_seq_is_rsvd(__u64 seq)
{
	return seq > FID_SEQ_OST_MDT0 && seq <= FID_SEQ_RSVD;
}

static inline bool fid_is_zero(const struct lu_fid *fid)
{
	return fid->f_seq == 0 && fid->f_oid == 0;
}

/* Lustre's fid_is_sane(): what the coordinator accepts in a request. */
static inline bool fid_is_sane(const struct lu_fid *fid)
{
	return fid != NULL &&
	       ((fid->f_seq >= FID_SEQ_START && fid->f_ver == 0) ||
		fid_is_igif(fid) || fid_is_idif(fid) ||
		fid_seq_is_rsvd(fid->f_seq));
}

static inline bool lu_fid_eq(const struct lu_fid *f0, const struct lu_fid *f1)
{
	return f0->f_seq == f1->f_seq && f0->f_oid == f1->f_oid &&
	       f0->f_ver == f1->f_ver;
}

/* ---- HSM file state ---- */

enum hsm_states {
	HS_NONE = 0x00000000,
	HS_EXISTS = 0x00000001,
	HS_DIRTY = 0x00000002,
	HS_RELEASED = 0x00000004,
	HS_ARCHIVED = 0x00000008,
	HS_NORELEASE = 0x00000010,
	HS_NOARCHIVE = 0x00000020,
	HS_LOST = 0x00000040,
	HS_PCCRW = 0x00000080,
	HS_PCCRO = 0x00000100,
};

#define HSM_USER_MASK (HS_NORELEASE | HS_NOARCHIVE | HS_DIRTY)
#define HSM_STATUS_MASK \
	(HS_EXISTS | HS_LOST | HS_RELEASED | HS_ARCHIVED | HS_PCCRW | HS_PCCRO)
#define HSM_FLAGS_MASK (HSM_USER_MASK | HSM_STATUS_MASK)

#define HSM_FORCE_ACTION 0x0001
#define HSM_GHOST_COPY 0x0002
#define HSM_REQ_BLOCKING 0x0004

enum hsm_progress_states {
	HPS_NONE = 0,
	HPS_WAITING = 1,
	HPS_RUNNING = 2,
	HPS_DONE = 3,
};

static inline const char *hsm_progress_state2name(enum hsm_progress_states s)
{
	switch (s) {
	case HPS_WAITING: return "waiting";
	case HPS_RUNNING: return "running";
	case HPS_DONE: return "done";
	default: return "unknown";
	}
}

struct hsm_extent {
	__u64 offset;
	__u64 length;
} __attribute__((packed));

struct hsm_user_state {
	__u32 hus_states;
	__u32 hus_archive_id;
	__u32 hus_in_progress_state;
	__u32 hus_in_progress_action;
	struct hsm_extent hus_in_progress_location;
	char hus_extended_info[];
};

struct hsm_state_set_ioc {
	struct lu_fid hssi_fid;
	__u64 hssi_setmask;
	__u64 hssi_clearmask;
};

enum hsm_user_action {
	HUA_NONE = 1,
	HUA_ARCHIVE = 10,
	HUA_RESTORE = 11,
	HUA_RELEASE = 12,
	HUA_REMOVE = 13,
	HUA_CANCEL = 14,
};

static inline const char *hsm_user_action2name(enum hsm_user_action a)
{
	switch (a) {
	case HUA_NONE: return "NOOP";
	case HUA_ARCHIVE: return "ARCHIVE";
	case HUA_RESTORE: return "RESTORE";
	case HUA_RELEASE: return "RELEASE";
	case HUA_REMOVE: return "REMOVE";
	case HUA_CANCEL: return "CANCEL";
	default: return "UNKNOWN";
	}
}

struct hsm_current_action {
	__u32 hca_state;  /* enum hsm_progress_states */
	__u32 hca_action; /* enum hsm_user_action */
	struct hsm_extent hca_location;
};

/* ---- copytool actions ---- */

enum hsm_copytool_action {
	HSMA_NONE = 10,
	HSMA_ARCHIVE = 20,
	HSMA_RESTORE = 21,
	HSMA_REMOVE = 22,
	HSMA_CANCEL = 23,
};

static inline const char *hsm_copytool_action2name(enum hsm_copytool_action a)
{
	switch (a) {
	case HSMA_NONE: return "NOOP";
	case HSMA_ARCHIVE: return "ARCHIVE";
	case HSMA_RESTORE: return "RESTORE";
	case HSMA_REMOVE: return "REMOVE";
	case HSMA_CANCEL: return "CANCEL";
	default: return "UNKNOWN";
	}
}

struct hsm_action_item {
	__u32 hai_len;
	__u32 hai_action;
	struct lu_fid hai_fid;
	struct lu_fid hai_dfid;
	struct hsm_extent hai_extent;
	__u64 hai_cookie;
	__u64 hai_gid;
	char hai_data[];
} __attribute__((packed));

#define HAL_VERSION 1
#define HAL_MAXSIZE (1 << 20) /* LNET_MTU */

struct hsm_action_list {
	__u32 hal_version;
	__u32 hal_count;
	__u64 hal_compound_id;
	__u64 hal_flags;
	__u32 hal_archive_id;
	__u32 padding1;
	char hal_fsname[];
} __attribute__((packed));

#ifndef __ALIGN_KERNEL
#define __ALIGN_KERNEL(x, a) __ALIGN_KERNEL_MASK(x, (__typeof__(x))(a) - 1)
#define __ALIGN_KERNEL_MASK(x, mask) (((x) + (mask)) & ~(mask))
#endif

static inline struct hsm_action_item *hai_first(struct hsm_action_list *hal)
{
	size_t offset = __ALIGN_KERNEL(strlen(hal->hal_fsname) + 1, 8);

	return (struct hsm_action_item *)(hal->hal_fsname + offset);
}

static inline struct hsm_action_item *hai_next(struct hsm_action_item *hai)
{
	size_t offset = __ALIGN_KERNEL(hai->hai_len, 8);

	return (struct hsm_action_item *)((char *)hai + offset);
}

static inline size_t hal_size(struct hsm_action_list *hal)
{
	__u32 i;
	size_t sz;
	struct hsm_action_item *hai;

	sz = sizeof(*hal) + __ALIGN_KERNEL(strlen(hal->hal_fsname) + 1, 8);
	hai = hai_first(hal);
	for (i = 0; i < hal->hal_count; i++, hai = hai_next(hai))
		sz += __ALIGN_KERNEL(hai->hai_len, 8);

	return sz;
}

/* ---- progress ---- */

#define HP_FLAG_COMPLETED 0x01
#define HP_FLAG_RETRY 0x02

struct hsm_progress {
	struct lu_fid hp_fid;
	__u64 hp_cookie;
	struct hsm_extent hp_extent;
	__u16 hp_flags;
	__u16 hp_errval; /* positive errno */
	__u32 padding;
};

struct hsm_copy {
	__u64 hc_data_version;
	__u16 hc_flags;
	__u16 hc_errval;
	__u32 padding;
	struct hsm_action_item hc_hai;
};

/* ---- user requests ---- */

struct hsm_request {
	__u32 hr_action;     /* enum hsm_user_action */
	__u32 hr_archive_id; /* 0 = let the coordinator choose */
	__u64 hr_flags;
	__u32 hr_itemcount;
	__u32 hr_data_len;
};

struct hsm_user_item {
	struct lu_fid hui_fid;
	struct hsm_extent hui_extent;
} __attribute__((packed));

struct hsm_user_request {
	struct hsm_request hur_request;
	struct hsm_user_item hur_user_item[];
} __attribute__((packed));

static inline void *hur_data(struct hsm_user_request *hur)
{
	return &(hur->hur_user_item[hur->hur_request.hr_itemcount]);
}

static inline ssize_t hur_len(struct hsm_user_request *hur)
{
	__u64 size;

	size = offsetof(struct hsm_user_request, hur_user_item[0]) +
	       (__u64)hur->hur_request.hr_itemcount *
		       sizeof(hur->hur_user_item[0]) +
	       hur->hur_request.hr_data_len;
	if ((ssize_t)size < 0)
		return -1;
	return size;
}

struct hsm_user_import {
	__u64 hui_size;
	__u64 hui_atime;
	__u64 hui_mtime;
	__u32 hui_atime_ns;
	__u32 hui_mtime_ns;
	__u32 hui_uid;
	__u32 hui_gid;
	__u32 hui_mode;
	__u32 hui_archive_id;
};

/* ---- ioctl numbers (x86_64 values; the simulator does not issue them) ---- */

#define LL_IOC_HSM_STATE_GET 0x802066d3
#define LL_IOC_HSM_STATE_SET 0x401866d4
#define LL_IOC_HSM_CT_START 0x401866d5
#define LL_IOC_HSM_COPY_START 0x400866d6
#define LL_IOC_HSM_COPY_END 0x400866d7
#define LL_IOC_HSM_PROGRESS 0x401866d8
#define LL_IOC_HSM_REQUEST 0x401866d9
#define LL_IOC_HSM_ACTION 0x801866dc
#define LL_IOC_HSM_IMPORT 0xc03066f5
#define LL_IOC_HSM_DATA_VERSION 0x401066fe
#define LL_IOC_FID2MDTIDX 0xc01066f8

#define O_LOV_DELAY_CREATE (O_NOCTTY | FASYNC)

#ifdef __cplusplus
}
#endif

#endif /* _UAPI_LUSTRE_USER_H */
