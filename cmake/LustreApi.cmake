# Provides Lustre::Headers (the headers) and Lustre::API (headers <lustre/lustreapi.h> and
# <linux/lustre/*.h> plus liblustreapi), either the system's or the
# simulator's. Nothing else in the tree may care which one it is, except
# through the COORDINATOOL_* feature macros below (docs/lustre.md, "Building
# against a real Lustre").
#
# LUSTRE_API=auto picks system only when an installed liblustreapi is found
# AND a small C++ program using its headers compiles and links here;
# otherwise it picks sim and says why. A Lustre development install that our
# compiler cannot use (too old, not C++-clean in a way -fpermissive does not
# cover, a broken library) thus never turns a default build into a broken one.
include(CheckCXXSourceCompiles)
include(CMakePushCheckState)

find_path(SYSTEM_LUSTREAPI_INCLUDE lustre/lustreapi.h NO_CACHE)
find_library(SYSTEM_LUSTREAPI_LIB lustreapi NO_CACHE)

# The real headers are C: their C++ compile errors (implicit int-to-enum
# conversions in inline functions of 2.17's linux/lustre/lustre_user.h)
# are "permissive" errors. With -fpermissive GCC makes them warnings, which
# it does not print for system headers (the imported targets below put the
# headers on the path with -isystem); in our own code -Werror turns the same
# warnings back into errors. clang has no such switch: it cannot build
# against Lustre 2.17 (auto then picks the simulator).
#
# The flag is given to every C++ file in every mode, simulator included: it
# changes nothing in our code (-Werror), and identical compile commands let a
# compiler cache share every object that does not include a Lustre header
# between the simulator build and the real ones (scripts/lustre).
set(COORDINATOOL_LUSTRE_CXX_FLAGS "")
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  set(COORDINATOOL_LUSTRE_CXX_FLAGS "-fpermissive")
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fpermissive>")
endif()

# coordinatool_lustre_check(VAR SOURCE INCLUDE_DIR [LIBRARY]): whether
# SOURCE compiles (and links with LIBRARY) against the Lustre headers of
# INCLUDE_DIR, as our code includes them. The result is cached under a name
# that depends on the headers and library, so that pointing the build at
# another install checks again.
function(coordinatool_lustre_check var source include_dir)
  string(MD5 key "${include_dir};${ARGN};${source}")
  string(SUBSTRING "${key}" 0 8 key)
  set(result "COORDINATOOL_LUSTRE_CHECK_${var}_${key}")
  cmake_push_check_state(RESET)
  set(CMAKE_REQUIRED_FLAGS "-isystem ${include_dir} ${COORDINATOOL_LUSTRE_CXX_FLAGS}")
  set(CMAKE_REQUIRED_LIBRARIES ${ARGN})
  set(CMAKE_REQUIRED_QUIET ON)
  check_cxx_source_compiles("${source}" ${result})
  cmake_pop_check_state()
  if(${result})
    set(${var} 1 PARENT_SCOPE)
  else()
    set(${var} 0 PARENT_SCOPE)
  endif()
endfunction()

if(LUSTRE_API STREQUAL "auto")
  if(SYSTEM_LUSTREAPI_INCLUDE AND SYSTEM_LUSTREAPI_LIB)
    coordinatool_lustre_check(usable [[
      #include <lustre/lustreapi.h>
      #include <linux/lustre/lustre_kernelcomm.h>
      int main() {
        struct hsm_copytool_private* ct = nullptr;
        return llapi_hsm_copytool_register(&ct, "", 0, nullptr, 0);
      }]] "${SYSTEM_LUSTREAPI_INCLUDE}" "${SYSTEM_LUSTREAPI_LIB}")
    if(usable)
      set(LUSTRE_API "system")
    else()
      message(STATUS "liblustreapi found (${SYSTEM_LUSTREAPI_LIB}) but a "
        "program using its headers does not build here: using the "
        "simulator (-DLUSTRE_API=system to use it anyway and see why)")
      set(LUSTRE_API "sim")
    endif()
  else()
    set(LUSTRE_API "sim")
  endif()
endif()

if(LUSTRE_API STREQUAL "system")
  if(NOT (SYSTEM_LUSTREAPI_INCLUDE AND SYSTEM_LUSTREAPI_LIB))
    message(FATAL_ERROR "LUSTRE_API=system but no liblustreapi was found "
      "(give its install prefix with -DCMAKE_PREFIX_PATH=DIR)")
  endif()
  set(lustre_include "${SYSTEM_LUSTREAPI_INCLUDE}")
  # Imported targets: their include directories are SYSTEM (-isystem).
  add_library(Lustre::Headers INTERFACE IMPORTED)
  set_target_properties(Lustre::Headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${lustre_include}")
  add_library(Lustre::API UNKNOWN IMPORTED)
  set_target_properties(Lustre::API PROPERTIES
    IMPORTED_LOCATION "${SYSTEM_LUSTREAPI_LIB}"
    INTERFACE_LINK_LIBRARIES Lustre::Headers)
  set(COORDINATOOL_LUSTRE_IS_SIM OFF)
  set(lustre_headers_target Lustre::Headers)
  # For the configure log only: the version of a pkg-config'd install.
  get_filename_component(lustre_libdir "${SYSTEM_LUSTREAPI_LIB}" DIRECTORY)
  set(lustre_version "")
  if(EXISTS "${lustre_libdir}/pkgconfig/lustre.pc")
    file(STRINGS "${lustre_libdir}/pkgconfig/lustre.pc" lustre_version
         REGEX "^Version:")
    string(REGEX REPLACE "^Version: *" " " lustre_version "${lustre_version}")
  endif()
  set(lustre_what "system${lustre_version} (${SYSTEM_LUSTREAPI_LIB})")
elseif(LUSTRE_API STREQUAL "sim")
  set(COORDINATOOL_LUSTRE_IS_SIM ON)  # sim/llapi defines Lustre::API
  set(lustre_include "${PROJECT_SOURCE_DIR}/sim/include")
  add_library(lustre_sim_headers INTERFACE)
  target_include_directories(lustre_sim_headers INTERFACE "${lustre_include}")
  add_library(Lustre::Headers ALIAS lustre_sim_headers)
  set(lustre_headers_target lustre_sim_headers)
  set(lustre_what "sim")
else()
  message(FATAL_ERROR "LUSTRE_API must be auto, sim or system")
endif()

# Names that differ between Lustre versions, detected from the headers in
# use (the simulator's too), each a COORDINATOOL_* macro defined to 0 or 1
# for every target that sees the headers. Code that uses such a name tests
# the macro (#if); hsm/abi_test.cc checks each macro against the headers.
#   HSM_REQ_BLOCKING: hsm_request flag of implicit restores (after 2.16).
#   HSM_PCC_STATES: HS_PCCRW and HS_PCCRO, which HSM_STATUS_MASK and
#     HSM_FLAGS_MASK include (2.16 and later).
#   LLAPI_HSM_IMPORT_ENUM_PATTERN: llapi_hsm_import's stripe pattern is an
#     enum lov_pattern (after 2.16), not an int.
coordinatool_lustre_check(have_blocking [[
  #include <linux/lustre/lustre_user.h>
  #ifndef HSM_REQ_BLOCKING
  #error no HSM_REQ_BLOCKING
  #endif
  int main() { return 0; }]] "${lustre_include}")
coordinatool_lustre_check(have_pcc [[
  #include <linux/lustre/lustre_user.h>
  int main() { return HS_PCCRW | HS_PCCRO; }]] "${lustre_include}")
coordinatool_lustre_check(import_enum [[
  #include <lustre/lustreapi.h>
  #include <tuple>
  #include <type_traits>
  template <class R, class... A>
  std::tuple_element_t<6, std::tuple<A...>> Seventh(R (*)(A...));
  static_assert(std::is_enum_v<decltype(Seventh(&llapi_hsm_import))>);
  int main() { return 0; }]] "${lustre_include}")
set(COORDINATOOL_HAVE_HSM_REQ_BLOCKING ${have_blocking})
set(COORDINATOOL_HAVE_HSM_PCC_STATES ${have_pcc})
set(COORDINATOOL_LLAPI_HSM_IMPORT_ENUM_PATTERN ${import_enum})
target_compile_definitions(${lustre_headers_target} INTERFACE
  COORDINATOOL_HAVE_HSM_REQ_BLOCKING=${have_blocking}
  COORDINATOOL_HAVE_HSM_PCC_STATES=${have_pcc}
  COORDINATOOL_LLAPI_HSM_IMPORT_ENUM_PATTERN=${import_enum})

message(STATUS "liblustreapi: ${lustre_what}; HSM_REQ_BLOCKING ${have_blocking}, "
  "PCC states ${have_pcc}, llapi_hsm_import enum pattern ${import_enum}")

# The unit tests that need no simulator and build on the Lustre headers run
# in every build, real Lustre builds included (scripts/test builds only them
# there, with the programs): CTest label "lustre-api", build target
# lustre_api_tests. Tests that need the simulator are defined only when
# COORDINATOOL_LUSTRE_IS_SIM.
#
# coordinatool_lustre_api_test(TARGET [LABEL...]), after
# gtest_discover_tests(TARGET ...) in the same directory: labels each test
# found in TARGET "lustre-api" and the LABELs (gtest_discover_tests passes
# one label only), or, when TARGET was not built, its TARGET_NOT_BUILT test,
# which then fails under -L lustre-api.
add_custom_target(lustre_api_tests)
function(coordinatool_lustre_api_test target)
  set(labels "lustre-api" ${ARGN})
  set(script "${CMAKE_CURRENT_BINARY_DIR}/${target}_lustre_api.cmake")
  file(WRITE "${script}"
    "if(${target}_TESTS)\n"
    "  set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${labels}\")\n"
    "else()\n"
    "  set_tests_properties(${target}_NOT_BUILT PROPERTIES LABELS \"${labels}\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
  add_dependencies(lustre_api_tests ${target})
endfunction()
