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

#define LL_HSM_MAX_ARCHIVES_PER_AGENT 1024

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
