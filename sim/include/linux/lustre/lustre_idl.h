/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * HSM part of Lustre's wire definitions (installed as
 * <linux/lustre/lustre_idl.h>), for building against the simulator.
 */
#ifndef _LUSTRE_IDL_H_
#define _LUSTRE_IDL_H_

#include <linux/lustre/lustre_user.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Archive ids an agent registers: a bitmask of 32 before Lustre 2.13, a
 * list of up to LL_HSM_MAX_ARCHIVES_PER_AGENT since. */
#define LL_HSM_ORIGIN_MAX_ARCHIVE (sizeof(__u32) * 8)
#define LL_HSM_MAX_ARCHIVES_PER_AGENT 1024

/* FID sequence ranges: below 12 reserved, then IGIF (inode and generation
 * of a 1.x file), IDIF (OST objects), then the normal sequences. */
enum fid_seq {
	FID_SEQ_OST_MDT0 = 0,
	FID_SEQ_LLOG = 1,
	FID_SEQ_ECHO = 2,
	FID_SEQ_UNUSED_START = 3,
	FID_SEQ_UNUSED_END = 9,
	FID_SEQ_LLOG_NAME = 10,
	FID_SEQ_RSVD = 11,
	FID_SEQ_IGIF = 12,
	FID_SEQ_IGIF_MAX = 0x0ffffffffULL,
	FID_SEQ_IDIF = 0x100000000ULL,
	FID_SEQ_IDIF_MAX = 0x1ffffffffULL,
	FID_SEQ_START = 0x200000000ULL,
	FID_SEQ_LOCAL_FILE = 0x200000001ULL,
	FID_SEQ_DOT_LUSTRE = 0x200000002ULL,
	FID_SEQ_LOCAL_NAME = 0x200000003ULL,
	FID_SEQ_SPECIAL = 0x200000004ULL,
	FID_SEQ_QUOTA = 0x200000005ULL,
	FID_SEQ_QUOTA_GLB = 0x200000006ULL,
	FID_SEQ_ROOT = 0x200000007ULL,
	FID_SEQ_LAYOUT_RBTREE = 0x200000008ULL,
	FID_SEQ_UPDATE_LOG = 0x200000009ULL,
	FID_SEQ_UPDATE_LOG_DIR = 0x20000000aULL,
	FID_SEQ_NORMAL = 0x200000400ULL,
	FID_SEQ_LOV_DEFAULT = 0xffffffffffffffffULL
};

#define OBD_OBJECT_EOF LUSTRE_EOF

/* The on-disk layout magics; the layout xattr a client reads carries the
 * same values (LOV_USER_MAGIC_*). */
#define LOV_MAGIC_MAGIC 0x0BD0
#define LOV_MAGIC_MASK 0xFFFF
#define LOV_MAGIC_V1 (0x0BD10000 | LOV_MAGIC_MAGIC)
#define LOV_MAGIC_V3 (0x0BD30000 | LOV_MAGIC_MAGIC)
#define LOV_MAGIC LOV_MAGIC_V1
#define LOV_MAGIC_COMP_V1 (0x0BD60000 | LOV_MAGIC_MAGIC)

#define XATTR_USER_PREFIX "user."
#define XATTR_TRUSTED_PREFIX "trusted."
#define XATTR_SECURITY_PREFIX "security."
#define XATTR_NAME_LOV "trusted.lov"
#define XATTR_NAME_HSM "trusted.hsm"


#define HSS_SETMASK 0x01
#define HSS_CLEARMASK 0x02
#define HSS_ARCHIVE_ID 0x04

struct hsm_state_set {
	__u32 hss_valid;
	__u32 hss_archive_id;
	__u64 hss_setmask;
	__u64 hss_clearmask;
};

struct hsm_attrs {
	__u32 hsm_compat;
	__u32 hsm_flags;
	__u64 hsm_arch_id;
	__u64 hsm_arch_ver;
};

enum agent_req_status {
	ARS_WAITING,
	ARS_STARTED,
	ARS_FAILED,
	ARS_CANCELED,
	ARS_SUCCEED,
};

static inline const char *agent_req_status2name(enum agent_req_status ars)
{
	switch (ars) {
	case ARS_WAITING: return "WAITING";
	case ARS_STARTED: return "STARTED";
	case ARS_FAILED: return "FAILED";
	case ARS_CANCELED: return "CANCELED";
	case ARS_SUCCEED: return "SUCCEED";
	default: return "UNKNOWN";
	}
}

struct hsm_progress_kernel {
	struct lu_fid hpk_fid;
	__u64 hpk_cookie;
	struct hsm_extent hpk_extent;
	__u16 hpk_flags;
	__u16 hpk_errval;
	__u32 hpk_padding1;
	__u64 hpk_data_version;
	__u64 hpk_padding2;
} __attribute__((packed));

#define HSM_AGENT_REC 0x10680000

#ifdef __cplusplus
}
#endif

#endif /* _LUSTRE_IDL_H_ */
