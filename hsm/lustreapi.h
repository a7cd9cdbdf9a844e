// <lustre/lustreapi.h> for the project's C++ code: include this instead of
// the Lustre header itself.
//
// liblustreapi's header is written for C and leaks macros that break C++
// headers included after it: real Lustre (2.15 and later) defines
// `fallthrough` as `__attribute__((fallthrough))` when nothing defined it
// before, which turns <fmt/core.h>'s `__has_attribute(fallthrough)` and
// CLI11's `App::fallthrough()` into syntax errors. Undefining it here makes
// the include order of our files irrelevant. A copytool written in C, the
// way a site writes one, includes <lustre/lustreapi.h> directly.
//
// Names whose presence depends on the Lustre version are tested with the
// COORDINATOOL_* macros that the build defines (cmake/LustreApi.cmake).
#ifndef HSM_LUSTREAPI_H_
#define HSM_LUSTREAPI_H_

#include <lustre/lustreapi.h>

#ifdef fallthrough
#undef fallthrough
#endif

#endif  // HSM_LUSTREAPI_H_
