/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * Simulator-only entry points of the simulated liblustreapi. Not part of
 * Lustre's API: only the simulator's own tools use them.
 */
#ifndef SIM_LLAPI_SIM_EXTENSIONS_H_
#define SIM_LLAPI_SIM_EXTENSIONS_H_

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Makes `path` readable as a read on Lustre would: if the file is released,
 * sends an implicit restore (HUA_RESTORE, hr_flags HSM_REQ_BLOCKING, extent
 * 0..EOF), then waits until no restore holds the file (kWaitRestore).
 * Returns 0 once the file's data is back, -EIO if the file is still released
 * after the wait (the restore failed), -ENOTTY if the file is not on a
 * simulated mount, or another -errno.
 */
int llapi_sim_wait_restore(const char* path);

/*
 * The simulated MDT's tunables and debugfs files (what lctl get_param and
 * set_param reach on Lustre), on the simulated filesystem containing `path`.
 * Names are full lctl names, e.g. "mdt.lustre-MDT0000.hsm.max_requests".
 * All return 0 or -errno (-ENODEV when `path` is on no simulated mount,
 * otherwise the daemon's error, e.g. -ENOENT for an unknown name).
 *
 * llapi_sim_get_param sets *value to the file's text, a malloc()ed
 * NUL-terminated string the caller frees.
 * llapi_sim_set_param writes `value` to `name`.
 * llapi_sim_list_param sets *names to every parameter name, one per line,
 * malloc()ed.
 */
int llapi_sim_get_param(const char* path, const char* name, char** value);
int llapi_sim_set_param(const char* path, const char* name, const char* value);
int llapi_sim_list_param(const char* path, char** names);

#ifdef __cplusplus
}
#endif

#endif /* SIM_LLAPI_SIM_EXTENSIONS_H_ */
