/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Kernel to userspace communication (KUC) framing (installed as
 * <linux/lustre/lustre_kernelcomm.h>): the simulated coordinator sends
 * hsm_action_lists to copytools in exactly this format.
 */
#ifndef __UAPI_KERNELCOMM_H__
#define __UAPI_KERNELCOMM_H__

#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kuc_hdr {
	__u16 kuc_magic;
	__u8 kuc_transport; /* enum kuc_transport_type */
	__u8 kuc_flags;
	__u16 kuc_msgtype; /* types depend on transport */
	__u16 kuc_msglen;  /* including header */
} __attribute__((aligned(sizeof(__u64))));

#define KUC_MAGIC 0x191C
#define KUC_CHANGELOG_MSG_MAXSIZE (sizeof(struct kuc_hdr) + 4096)

enum kuc_transport_type {
	KUC_TRANSPORT_GENERIC = 1,
	KUC_TRANSPORT_HSM = 2,
	KUC_TRANSPORT_CHANGELOG = 3,
};

enum kuc_generic_message_type {
	KUC_MSG_SHUTDOWN = 1,
};

enum hsm_message_type {
	HMT_ACTION_LIST = 100,
};

#define KUC_GRP_HSM 0x02
#define KUC_GRP_MAX KUC_GRP_HSM

enum lk_flags {
	LK_FLG_STOP = 0x0001,
	LK_FLG_DATANR = 0x0002,
};
#define LK_NOFD -1U

struct lustre_kernelcomm {
	__u32 lk_wfd;
	__u32 lk_rfd;
	__u32 lk_uid;
	__u32 lk_group;
	__u32 lk_data_count;
	__u32 lk_flags;
	__u32 lk_data[];
} __attribute__((packed));

#ifdef __cplusplus
}
#endif

#endif /* __UAPI_KERNELCOMM_H__ */
