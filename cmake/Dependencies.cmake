# Every dependency with the oldest version the project is built and tested
# with (Debian 12's; docs/deployment.md lists the packages for Debian and
# RHEL). An older one stops the configure step with a message naming the
# dependency, the version found and the one needed, rather than failing
# later in the middle of the build.

# coordinatool_check_version(NAME FOUND NEEDED HINT): fails the configure
# step when version FOUND of NAME is older than NEEDED.
function(coordinatool_check_version name found needed hint)
  if(NOT found)
    message(FATAL_ERROR
      "${name} >= ${needed} is needed; its version could not be read. ${hint}")
  endif()
  if(found VERSION_LESS needed)
    message(FATAL_ERROR
      "${name} ${found} is too old: coordinatool needs ${name} >= ${needed}. "
      "${hint}")
  endif()
endfunction()

# C++20 as GCC 12 and clang 14 implement it (designated initializers,
# std::span, concepts, <bit>).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  coordinatool_check_version("GCC" "${CMAKE_CXX_COMPILER_VERSION}" 12
    "On RHEL 8/9 use gcc-toolset-12 or later.")
elseif(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  coordinatool_check_version("clang" "${CMAKE_CXX_COMPILER_VERSION}" 14 "")
endif()

find_package(Threads REQUIRED)
# Boost.JSON's API as of 1.81 (RHEL 8/9's own Boost, 1.66/1.75, is older).
find_package(Boost 1.81 COMPONENTS json)
if(NOT Boost_FOUND)
  message(FATAL_ERROR
    "Boost >= 1.81 with Boost.JSON is needed (found: "
    "${Boost_VERSION_STRING}). Debian 12: libboost1.81-dev "
    "libboost-json1.81-dev; elsewhere build Boost 1.81 or later and pass "
    "-DBoost_ROOT=DIR.")
endif()

find_package(fmt REQUIRED)
coordinatool_check_version("fmt" "${fmt_VERSION}" 9.1
  "Debian 12: libfmt-dev; RHEL: fmt-devel (EPEL).")
find_package(spdlog REQUIRED)
coordinatool_check_version("spdlog" "${spdlog_VERSION}" 1.10
  "Debian 12: libspdlog-dev; RHEL: spdlog-devel (EPEL).")
find_package(CLI11 REQUIRED)
coordinatool_check_version("CLI11" "${CLI11_VERSION}" 2.1
  "Debian 12: libcli11-dev; RHEL: cli11-devel (EPEL).")
find_package(GTest REQUIRED)
coordinatool_check_version("GoogleTest" "${GTest_VERSION}" 1.12
  "Debian 12: libgtest-dev; RHEL: gtest-devel (EPEL).")

# TLS (tls/, the clients): 3.0 for SSL_get1_peer_certificate.
find_package(OpenSSL 3.0)
if(NOT OpenSSL_FOUND)
  message(FATAL_ERROR
    "OpenSSL >= 3.0 is needed (found: ${OPENSSL_VERSION}). Debian 12: "
    "libssl-dev; RHEL 9: openssl-devel; RHEL 8: openssl3-devel (EPEL).")
endif()

find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
coordinatool_check_version("hiredis" "${HIREDIS_VERSION}" 0.14
  "Debian 12: libhiredis-dev; RHEL: hiredis-devel (EPEL).")
# sd_notify (server/systemd_notify.h): readiness under systemd's Type=notify.
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
coordinatool_check_version("libsystemd" "${LIBSYSTEMD_VERSION}" 239
  "Debian 12: libsystemd-dev; RHEL: systemd-devel.")
