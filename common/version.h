// The version of coordinatool, one definition for every program: the
// project's version in CMakeLists.txt, given by the `version` target.
#ifndef COMMON_VERSION_H_
#define COMMON_VERSION_H_

#ifndef COORDINATOOL_VERSION
#error "link the version target (common/CMakeLists.txt) to use common/version.h"
#endif

namespace common {

inline constexpr const char* kVersion = COORDINATOOL_VERSION;

}  // namespace common

#endif  // COMMON_VERSION_H_
