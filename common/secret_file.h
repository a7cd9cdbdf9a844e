// ReadSecretFile: reads a small file that holds secrets (the server's auth
// file, a client's token file), refusing it when others could read it.
//
// The checks are made on the descriptor opened, not on the name, so the
// file cannot be swapped between the check and the read. A secret kept in
// a file anyone can read is no secret: the file is refused, with the mode
// found and the chmod that fixes it, rather than used with a warning.
//
// Thread-safety: a pure function of the file system.
#ifndef COMMON_SECRET_FILE_H_
#define COMMON_SECRET_FILE_H_

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

namespace common {

struct SecretFileRules {
  // Larger files are refused (a secret file is small; this bounds memory).
  size_t max_bytes = 4096;
  // The uid that must own the file; none: any owner.
  std::optional<uid_t> owner;
  // Who that owner is, in the refusal.
  std::string owner_name = "the user reading it";
  // Which permission bits of group and other refuse the file: read only
  // (S_IRGRP | S_IROTH), or any access (S_IRWXG | S_IRWXO).
  mode_t refused_bits = 0;
  // Says why the owner and mode matter, in the refusal ("it holds the
  // secrets that grant roles").
  std::string why;
};

// Reads the whole of `path` into *text. On failure returns false with
// *error starting with the path.
bool ReadSecretFile(const std::string& path, const SecretFileRules& rules,
                    std::string* text, std::string* error);

}  // namespace common

#endif  // COMMON_SECRET_FILE_H_
