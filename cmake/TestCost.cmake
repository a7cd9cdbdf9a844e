# Run the longest tests first under `ctest -j` (scripts/test).
#
# ctest starts the tests of highest COST first. It learns each test's time
# as it runs (Testing/Temporary/CTestCostData.txt), but a clean checkout has
# no such record: the tests then start in the order they are defined, and a
# test of a minute that is defined near the end (the end-to-end tests are)
# can run alone on one core for its last minute while the other is idle.
# The tests below are given their cost up front: about their seconds under
# AddressSanitizer on two cores, the slowest run. Only the order changes;
# a test missing from a build (not built, renamed) is ignored.
#
# coordinatool_test_costs(TARGET NAME COST [NAME COST]...), after
# gtest_discover_tests(TARGET ...) in the same directory.
function(coordinatool_test_costs target)
  set(script "${CMAKE_CURRENT_BINARY_DIR}/${target}_costs.cmake")
  set(text "")
  set(args ${ARGN})
  while(args)
    list(POP_FRONT args name cost)
    # list(FIND): ctest reads this file with the old policies (no IN_LIST).
    string(APPEND text
      "list(FIND ${target}_TESTS \"${name}\" i)\n"
      "if(NOT i EQUAL -1)\n"
      "  set_tests_properties(\"${name}\" PROPERTIES COST ${cost})\n"
      "endif()\n")
  endwhile()
  file(WRITE "${script}" "${text}")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
endfunction()
