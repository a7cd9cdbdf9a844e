// Test file contents: deterministic pseudo-random bytes from a seed, written
// in chunks, and a 64-bit digest to compare files without keeping them in
// memory.
//
// Thread-safety: pure functions.
#ifndef TESTS_SUPPORT_FILE_DATA_H_
#define TESTS_SUPPORT_FILE_DATA_H_

#include <cstdint>
#include <optional>
#include <string>

namespace testing_support {

// Creates (or truncates) `path` with `size` bytes derived from `seed`.
// Returns the digest of what was written, or nullopt on error.
std::optional<uint64_t> WriteTestFile(const std::string& path, uint64_t size,
                                      uint64_t seed);
// Appends `size` bytes derived from `seed`; returns false on error.
bool AppendTestData(const std::string& path, uint64_t size, uint64_t seed);
// The digest of the file's contents (reading it plainly), or nullopt.
std::optional<uint64_t> DigestFile(const std::string& path);
// The digest of a string.
uint64_t Digest(const std::string& data);

}  // namespace testing_support

#endif  // TESTS_SUPPORT_FILE_DATA_H_
