// The target that compiles the tests' precompiled header
// (cmake/TestPch.cmake); the program itself is never built by default.
int main() { return 0; }
