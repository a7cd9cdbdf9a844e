/* test_pch's C source (cmake/TestPch.cmake). */
int coordinatool_test_pch_c;
