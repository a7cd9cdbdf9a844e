/*
 * The checks of the names third-party copytools take from Lustre's headers,
 * one C file per header, each including only that header (and this one,
 * which includes nothing). Each returns NULL, or what is wrong.
 */
#ifndef TESTS_LUSTRE_API_NAMES_CHECK_H_
#define TESTS_LUSTRE_API_NAMES_CHECK_H_

#ifdef __cplusplus
extern "C" {
#endif

const char* names_lustre_user_check(void);
const char* names_lustre_idl_check(void);
const char* names_lustre_fid_check(void);
const char* names_lustreapi_check(void);

#ifdef __cplusplus
}
#endif

#endif /* TESTS_LUSTRE_API_NAMES_CHECK_H_ */
