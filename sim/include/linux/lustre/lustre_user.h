/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * HSM part of Lustre's user API (installed as <linux/lustre/lustre_user.h>),
 * for building against the Lustre HSM simulator. Names, values and struct
 * layouts are Lustre's (x86_64, LP64); lustre_abi_test checks every size and
 * offset. The HSM subset, and what copytools use besides (names test).
 */
#ifndef _UAPI_LUSTRE_USER_H
#define _UAPI_LUSTRE_USER_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
#include <cstring>
#else
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#endif
/* The system headers Lustre's lustre_user.h includes, so that a copytool
 * relying on them (snprintf, abs, errno, XATTR_SIZE_MAX...) builds the same
 * against both. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/fs.h>
#include <linux/limits.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/quota.h>
#include <linux/types.h>
#include <linux/unistd.h>
/* struct statx, for lstatx_t: the C library declares it only under
 * _GNU_SOURCE, Lustre's header then declares the kernel's own. */
#ifndef STATX_BASIC_STATS
#include <linux/stat.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LUSTRE_MAXFSNAME 8
#define LUSTRE_EOF 0xffffffffffffffffULL

typedef struct statx lstatx_t;

/* Longest obd device name ("lustre-MDT0000-mdc-..."), the size of an
 * fsname buffer in copytools. */
#define MAX_OBD_NAME 128

#define dot_lustre_name ".lustre"

/* ---- FIDs ---- */

struct lu_fid {
	__u64 f_seq;
	__u32 f_oid;
	__u32 f_ver;
} __attribute__((packed));

#define DFID_NOBRACE "%#llx:0x%x:0x%x"
#define DFID "[" DFID_NOBRACE "]"
#define PFID(fid) \
	(unsigned long long)(fid)->f_seq, (fid)->f_oid, (fid)->f_ver
#define SFID "0x%llx:0x%x:0x%x"
#define RFID(fid) \
	(unsigned long long *)&(fid)->f_seq, &(fid)->f_oid, &(fid)->f_ver
#define FID_NOBRACE_LEN 40
#define FID_LEN (FID_NOBRACE_LEN + 2)

/* The other FID helpers (fid_is_sane, lu_fid_eq, ...) are in
 * <linux/lustre/lustre_fid.h>, as in Lustre. */
static inline bool fid_is_zero(const struct lu_fid *fid)
{
	return fid->f_seq == 0 && fid->f_oid == 0;
}

/* OST object identifier: an OST object's id and sequence, or a FID. */
struct ost_id {
	union {
		struct {
			__u64 oi_id;
			__u64 oi_seq;
		} oi;
		struct lu_fid oi_fid;
	};
} __attribute__((packed));

/* ---- layouts (the "lustre.lov" extended attribute) ---- */

#define LOV_USER_MAGIC_V1 0x0BD10BD0
#define LOV_USER_MAGIC LOV_USER_MAGIC_V1
#define LOV_USER_MAGIC_JOIN_V1 0x0BD20BD0
#define LOV_USER_MAGIC_V3 0x0BD30BD0
#define LOV_USER_MAGIC_SPECIFIC 0x0BD50BD0
#define LOV_USER_MAGIC_COMP_V1 0x0BD60BD0
#define LOV_USER_MAGIC_FOREIGN 0x0BD70BD0
#define LOV_USER_MAGIC_SEL 0x0BD80BD0

enum lov_pattern {
	LOV_PATTERN_NONE = 0x000,
	LOV_PATTERN_RAID0 = 0x001,
	LOV_PATTERN_RAID1 = 0x002,
	LOV_PATTERN_PARITY = 0x004,
	LOV_PATTERN_MDT = 0x100,
	LOV_PATTERN_OVERSTRIPING = 0x200,
	LOV_PATTERN_FOREIGN = 0x400,
	LOV_PATTERN_COMPRESS = 0x800,
	LOV_PATTERN_F_MASK = 0xffff0000,
	LOV_PATTERN_F_HOLE = 0x40000000,
	LOV_PATTERN_F_RELEASED = 0x80000000, /* HSM released file */
	LOV_PATTERN_DEFAULT = 0xffffffff
};

#define LOV_OFFSET_DEFAULT ((__u16)-1)
#define LOV_MAXPOOLNAME 15
#define LOV_MIN_STRIPE_BITS 16
#define LOV_MIN_STRIPE_SIZE (1 << LOV_MIN_STRIPE_BITS)
#define LOV_ALL_STRIPES 0xffff
#define LOV_ALL_STRIPES_WIDE 0xffe0

#define XATTR_LUSTRE_PREFIX "lustre."
#define XATTR_LUSTRE_LOV XATTR_LUSTRE_PREFIX "lov"

/* One stripe: the OST object and the OST's index. */
#define lov_user_ost_data lov_user_ost_data_v1
struct lov_user_ost_data_v1 {
	struct ost_id l_ost_oi;
	union {
		__u32 l_ost_type;
		__u32 l_ost_gen;
	};
	__u32 l_ost_idx;
} __attribute__((packed));

/* A plain layout as getxattr("lustre.lov") returns it (host-endian). Read,
 * lmm_layout_gen; written, the same field is the first stripe's OST. */
#define lov_user_md lov_user_md_v1
struct lov_user_md_v1 {
	__u32 lmm_magic;   /* LOV_USER_MAGIC_V1 */
	__u32 lmm_pattern; /* enum lov_pattern */
	struct ost_id lmm_oi;
	__u32 lmm_stripe_size;
	__u16 lmm_stripe_count;
	union {
		__u16 lmm_stripe_offset;
		__u16 lmm_layout_gen;
	};
	struct lov_user_ost_data_v1 lmm_objects[];
} __attribute__((packed, __may_alias__));

/* The same with an OST pool name. */
struct lov_user_md_v3 {
	__u32 lmm_magic;   /* LOV_USER_MAGIC_V3 */
	__u32 lmm_pattern; /* enum lov_pattern */
	struct ost_id lmm_oi;
	__u32 lmm_stripe_size;
	__u16 lmm_stripe_count;
	union {
		__u16 lmm_stripe_offset;
		__u16 lmm_layout_gen;
	};
	char lmm_pool_name[LOV_MAXPOOLNAME + 1];
	struct lov_user_ost_data_v1 lmm_objects[];
} __attribute__((packed, __may_alias__));

static inline __u32 lov_user_md_size(__u16 stripes, __u32 lmm_magic)
{
	/* Wide "all stripes" requests carry no objects. */
	if (stripes >= LOV_ALL_STRIPES_WIDE)
		stripes = 0;
	return (lmm_magic == LOV_USER_MAGIC_V1 ?
			sizeof(struct lov_user_md_v1) :
			sizeof(struct lov_user_md_v3)) +
	       stripes * sizeof(struct lov_user_ost_data_v1);
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

/* ---- HSM changelog records ---- */

/* The flags of a changelog record: the low CLF_FLAGSHIFT bits belong to the
 * record type (for HSM records: error, event, flags), the high bits say
 * which optional parts the record carries. */
#define CLF_FLAGSHIFT 12
enum changelog_rec_flags {
	CLF_VERSION = 0x1000,
	CLF_RENAME = 0x2000,
	CLF_JOBID = 0x4000,
	CLF_EXTRA_FLAGS = 0x8000,
	CLF_SUPPORTED = CLF_VERSION | CLF_RENAME | CLF_JOBID | CLF_EXTRA_FLAGS,
	CLF_FLAGMASK = (1U << CLF_FLAGSHIFT) - 1,
	CLF_VERMASK = ~CLF_FLAGMASK,
};

/* Bit ranges of an HSM record's flags (low and high bit, inclusive). */
#define CLF_HSM_ERR_L 0 /* return code, 7 bits */
#define CLF_HSM_ERR_H 6
#define CLF_HSM_EVENT_L 7 /* enum hsm_event, 3 bits */
#define CLF_HSM_EVENT_H 9
#define CLF_HSM_FLAG_L 10 /* CLF_HSM_DIRTY and one spare bit */
#define CLF_HSM_FLAG_H 11
#define CLF_HSM_SPARE_L 12
#define CLF_HSM_SPARE_H 15
#define CLF_HSM_LAST 15

/* Bits _l.._h of the 16-bit _b, shifted down to bit 0. */
#define CLF_GET_BITS(_b, _h, _l) \
	(((_b << (CLF_HSM_LAST - _h)) & 0xFFFF) >> (CLF_HSM_LAST - _h + _l))

#define CLF_HSM_SUCCESS 0x00
#define CLF_HSM_MAXERROR 0x7E
#define CLF_HSM_ERROVERFLOW 0x7F
#define CLF_HSM_DIRTY 1 /* the file is dirty after the request */

enum hsm_event {
	HE_ARCHIVE = 0,
	HE_RESTORE = 1,
	HE_CANCEL = 2,
	HE_RELEASE = 3,
	HE_REMOVE = 4,
	HE_STATE = 5,
	HE_SPARE1 = 6,
	HE_SPARE2 = 7,
};

static inline enum hsm_event hsm_get_cl_event(__u16 flags)
{
	return (enum hsm_event)CLF_GET_BITS(flags, CLF_HSM_EVENT_H,
					    CLF_HSM_EVENT_L);
}

static inline void hsm_set_cl_event(enum changelog_rec_flags *clf_flags,
				    enum hsm_event he)
{
	*clf_flags = (enum changelog_rec_flags)((__u32)*clf_flags |
						((__u32)he << CLF_HSM_EVENT_L));
}

static inline __u16 hsm_get_cl_flags(enum changelog_rec_flags clf_flags)
{
	return CLF_GET_BITS(clf_flags, CLF_HSM_FLAG_H, CLF_HSM_FLAG_L);
}

static inline void hsm_set_cl_flags(enum changelog_rec_flags *clf_flags,
				    unsigned int bits)
{
	*clf_flags = (enum changelog_rec_flags)((__u32)*clf_flags |
						(__u32)(bits << CLF_HSM_FLAG_L));
}

static inline int hsm_get_cl_error(enum changelog_rec_flags clf_flags)
{
	return CLF_GET_BITS(clf_flags, CLF_HSM_ERR_H, CLF_HSM_ERR_L);
}

/* Records |error|, capped at CLF_HSM_ERROVERFLOW; -EOVERFLOW if capped. */
static inline int hsm_set_cl_error(enum changelog_rec_flags *clf_flags,
				   int error)
{
	if (error < 0)
		error = -error;
	if (error > CLF_HSM_MAXERROR)
		error = CLF_HSM_ERROVERFLOW;
	*clf_flags = (enum changelog_rec_flags)((__u32)*clf_flags |
						((__u32)error << CLF_HSM_ERR_L));
	return error == CLF_HSM_ERROVERFLOW ? -EOVERFLOW : 0;
}

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

/* hai_data as hexadecimal, two digits a byte, as much as fits in len
 * (terminating NUL included). */
static inline char *hai_dump_data_field(const struct hsm_action_item *hai,
					char *buffer, __kernel_size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	int data_len = (int)hai->hai_len - (int)sizeof(*hai);
	char *out = buffer;
	int i;

	for (i = 0; i < data_len && len > 2; i++, len -= 2) {
		unsigned char byte = (unsigned char)hai->hai_data[i];

		*out++ = digits[byte >> 4];
		*out++ = digits[byte & 0xf];
	}
	*out = '\0';
	return buffer;
}

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
