// The version of coordinatool, one definition for every program: `git
// describe` of the source, or the version of the source tarball
// (cmake/Version.cmake writes it at each build; link the `version` target).
#ifndef COMMON_VERSION_H_
#define COMMON_VERSION_H_

#include "coordinatool_version.h"

namespace common {

inline constexpr const char* kVersion = COORDINATOOL_VERSION;

}  // namespace common

#endif  // COMMON_VERSION_H_
