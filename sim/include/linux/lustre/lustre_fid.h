/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * FID helpers (installed as <linux/lustre/lustre_fid.h>), for building
 * against the Lustre HSM simulator: the FID tests and comparisons Lustre
 * declares in this header, with the same names and meaning. The FID struct
 * and its print formats are in lustre_user.h, the sequence ranges in
 * lustre_idl.h.
 */
#ifndef _UAPI_LUSTRE_FID_H_
#define _UAPI_LUSTRE_FID_H_

#include <linux/types.h>
#include <linux/lustre/lustre_idl.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline __u64 fid_seq(const struct lu_fid *fid)
{
	return fid->f_seq;
}

static inline __u32 fid_oid(const struct lu_fid *fid)
{
	return fid->f_oid;
}

static inline __u32 fid_ver(const struct lu_fid *fid)
{
	return fid->f_ver;
}

static inline void fid_zero(struct lu_fid *fid)
{
	memset(fid, 0, sizeof(*fid));
}

static inline __u64 fid_ver_oid(const struct lu_fid *fid)
{
	return (__u64)fid_ver(fid) << 32 | fid_oid(fid);
}

/* MDT0's objects: sequence 0 (old OST objects) or a normal sequence. */
static inline bool fid_seq_is_mdt0(__u64 seq)
{
	return seq == FID_SEQ_OST_MDT0;
}

static inline bool fid_seq_is_mdt(__u64 seq)
{
	return seq == FID_SEQ_OST_MDT0 || seq >= FID_SEQ_NORMAL;
}

static inline bool fid_seq_is_rsvd(__u64 seq)
{
	return seq > FID_SEQ_OST_MDT0 && seq <= FID_SEQ_RSVD;
}

static inline bool fid_seq_is_root(__u64 seq)
{
	return seq == FID_SEQ_ROOT;
}

static inline bool fid_seq_is_dot(__u64 seq)
{
	return seq == FID_SEQ_DOT_LUSTRE;
}

static inline bool fid_seq_is_igif(__u64 seq)
{
	return seq >= FID_SEQ_IGIF && seq <= FID_SEQ_IGIF_MAX;
}

static inline bool fid_is_igif(const struct lu_fid *fid)
{
	return fid_seq_is_igif(fid_seq(fid));
}

static inline bool fid_seq_is_idif(__u64 seq)
{
	return seq >= FID_SEQ_IDIF && seq <= FID_SEQ_IDIF_MAX;
}

static inline bool fid_is_idif(const struct lu_fid *fid)
{
	return fid_seq_is_idif(fid_seq(fid));
}

static inline bool fid_seq_is_norm(__u64 seq)
{
	return seq >= FID_SEQ_NORMAL;
}

static inline bool fid_is_norm(const struct lu_fid *fid)
{
	return fid_seq_is_norm(fid_seq(fid));
}

/* What the MDT accepts as a FID in a request: a normal sequence with
 * version 0, an IGIF, an IDIF, or a reserved sequence. */
static inline bool fid_is_sane(const struct lu_fid *fid)
{
	return fid != NULL &&
	       ((fid_seq(fid) >= FID_SEQ_START && fid_ver(fid) == 0) ||
		fid_is_igif(fid) || fid_is_idif(fid) ||
		fid_seq_is_rsvd(fid_seq(fid)));
}

static inline bool lu_fid_eq(const struct lu_fid *f0, const struct lu_fid *f1)
{
	return f0->f_seq == f1->f_seq && f0->f_oid == f1->f_oid &&
	       f0->f_ver == f1->f_ver;
}

/* -1, 0 or 1: sequence first, then oid, then version. */
static inline int lu_fid_cmp(const struct lu_fid *f0, const struct lu_fid *f1)
{
	if (fid_seq(f0) != fid_seq(f1))
		return fid_seq(f0) > fid_seq(f1) ? 1 : -1;
	if (fid_oid(f0) != fid_oid(f1))
		return fid_oid(f0) > fid_oid(f1) ? 1 : -1;
	if (fid_ver(f0) != fid_ver(f1))
		return fid_ver(f0) > fid_ver(f1) ? 1 : -1;
	return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* _UAPI_LUSTRE_FID_H_ */
