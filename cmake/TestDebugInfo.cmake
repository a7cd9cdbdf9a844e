# Line tables only (-g1) for the code that is not shipped: the tests, their
# support libraries and the benchmarks.
#
# build/ is RelWithDebInfo (-O2 -g): the shipped programs keep their full
# debug information (the packages strip it; the build tree keeps it). For a
# test, full debug information is a good part of the compile: GCC 12, CPU
# seconds at -O2 -g then -O2 -g1: config_test.cc 22.2 and 10.8 (9.2 MB of
# object against 2.4 MB), coordinatool_test.cc 17.9 and 12.6,
# http_server_test.cc 16.5 and 12.9, movers_test.cc 14.1 and 13.6; tests
# are about three fifths of build/'s compile time. A
# failing test's backtrace, and a sanitizer's report, need only the file
# and line of each frame, which -g1 keeps. -g never changes the generated
# code: the tests run the same instructions either way.
# -DCOORDINATOOL_TEST_FULL_DEBUG_INFO=ON keeps -g for them (to inspect a
# test's variables in a debugger).
option(COORDINATOOL_TEST_FULL_DEBUG_INFO
       "Full debug information (-g) for the tests and benchmarks too" OFF)

# Call once, after every add_subdirectory.
function(coordinatool_test_debug_info)
  if(COORDINATOOL_TEST_FULL_DEBUG_INFO)
    return()
  endif()
  # Only where the build type asks for full debug information: the real
  # Lustre builds (-O0, none) and the fuzz build (line tables) are left so.
  string(TOUPPER "${CMAKE_BUILD_TYPE}" type)
  if(NOT " ${CMAKE_CXX_FLAGS_${type}} ${CMAKE_CXX_FLAGS} " MATCHES " -g ")
    return()
  endif()
  coordinatool_targets_in("${PROJECT_SOURCE_DIR}" targets)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$")
      continue()
    endif()
    get_target_property(dir ${target} SOURCE_DIR)
    get_target_property(libs ${target} LINK_LIBRARIES)
    cmake_path(RELATIVE_PATH dir BASE_DIRECTORY "${PROJECT_SOURCE_DIR}")
    if(dir MATCHES "^(tests|bench)(/|$)" OR "GTest::gtest_main" IN_LIST libs
       OR "GTest::gtest" IN_LIST libs)
      # After the build type's -g on the command line: the last -g wins.
      target_compile_options(${target} PRIVATE -g1)
    endif()
  endforeach()
endfunction()
