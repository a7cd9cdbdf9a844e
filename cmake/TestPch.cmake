# One precompiled <gtest/gtest.h> for every test program (GCC builds).
#
# About 130 test programs and test sources include <gtest/gtest.h>, and
# GoogleTest's headers (with the standard headers they pull in) take about
# two CPU seconds to parse, more than many a test's own code. GCC reads the
# header once here, compiled as the test programs are (same flags; -fPIE,
# as executables are, since a precompiled header made with other -fpic/-fpie
# settings is refused), and each test program's sources start from it.
#
# Only GoogleTest is in it: every test source includes it anyway, so a test
# that forgets an include of its own still fails to compile in build/ (the
# header is the one the source would get first). -Winvalid-pch (CMake's) is
# an error under -Werror: a test whose flags the header does not fit fails
# loudly instead of silently compiling without it.
#
# clang (the TSan and fuzz builds, a handful of tests) checks command-line
# macros against the header's and would refuse most tests' -D options: it
# compiles them as before. -DCOORDINATOOL_TEST_PCH=OFF turns it off.
#
# Off by default: with the header precompiled, GCC 12 (Debian 12's) reports
# -Warray-bounds and -Wstringop-overflow on std::string concatenations
# inlined from libstdc++ in several tests that compile clean without it
# (false positives of that release's flow analysis; GCC bug 105651), and
# hiredis's pkg-config flags define _FILE_OFFSET_BITS, which the header must
# then be built with too. Turn it on with a compiler that does not.
option(COORDINATOOL_TEST_PCH "Precompile <gtest/gtest.h> for the tests (GCC)"
       OFF)

# The targets defined in DIR and its subdirectories, in OUT.
function(coordinatool_targets_in dir out)
  set(found "")
  set(dirs "${dir}")
  while(dirs)
    list(POP_FRONT dirs current)
    get_property(targets DIRECTORY "${current}" PROPERTY BUILDSYSTEM_TARGETS)
    get_property(subdirs DIRECTORY "${current}" PROPERTY SUBDIRECTORIES)
    list(APPEND found ${targets})
    list(APPEND dirs ${subdirs})
  endwhile()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# Call once, after every add_subdirectory.
function(coordinatool_test_pch)
  if(NOT COORDINATOOL_TEST_PCH OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    return()
  endif()
  # A C source too: CMake wants a header for each language of a target
  # that reuses this one's, even for sources that skip it (below).
  add_executable(test_pch "${PROJECT_SOURCE_DIR}/cmake/test_pch.cc"
                 "${PROJECT_SOURCE_DIR}/cmake/test_pch_c.c")
  target_link_libraries(test_pch PRIVATE GTest::gtest)
  target_precompile_headers(test_pch PRIVATE
    "$<$<COMPILE_LANGUAGE:CXX>:<gtest/gtest.h$<ANGLE-R>>"
    "$<$<COMPILE_LANGUAGE:C>:<stddef.h$<ANGLE-R>>")
  set_target_properties(test_pch PROPERTIES EXCLUDE_FROM_ALL ON)
  # ccache caches a compile that uses a precompiled header only when told
  # to ignore __TIME__ and the header's defines: the test programs' compiles
  # go through ccache with those two settings (and the others in effect at
  # configure time).
  set(launcher "")
  if(CMAKE_CXX_COMPILER_LAUNCHER MATCHES "ccache")
    set(sloppiness "$ENV{CCACHE_SLOPPINESS}")
    list(APPEND sloppiness pch_defines time_macros)
    string(REPLACE ";" "," sloppiness "${sloppiness}")
    set(launcher "${CMAKE_COMMAND}" -E env "CCACHE_SLOPPINESS=${sloppiness}"
                 ${CMAKE_CXX_COMPILER_LAUNCHER})
    set_property(TARGET test_pch PROPERTY CXX_COMPILER_LAUNCHER "${launcher}")
  endif()
  coordinatool_targets_in("${PROJECT_SOURCE_DIR}" targets)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT type STREQUAL "EXECUTABLE" OR target STREQUAL "test_pch")
      continue()
    endif()
    get_target_property(libs ${target} LINK_LIBRARIES)
    if(NOT ("GTest::gtest_main" IN_LIST libs OR "GTest::gtest" IN_LIST libs))
      continue()
    endif()
    set_property(TARGET ${target} PROPERTY PRECOMPILE_HEADERS_REUSE_FROM
                 test_pch)
    if(launcher)
      set_property(TARGET ${target} PROPERTY CXX_COMPILER_LAUNCHER
                   "${launcher}")
    endif()
    # A test's C sources (hsm_test, lustre_api_names_test) go without: they
    # check C headers as a C program includes them.
    get_target_property(sources ${target} SOURCES)
    get_target_property(dir ${target} SOURCE_DIR)
    foreach(source IN LISTS sources)
      if(source MATCHES "\\.c$")
        cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${dir}")
        set_source_files_properties("${source}" TARGET_DIRECTORY ${target}
          PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
      endif()
    endforeach()
  endforeach()
endfunction()
