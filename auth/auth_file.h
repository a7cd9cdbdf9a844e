// The auth file (the server's `auth_file` key; format in docs/auth.md):
// which credentials get which role, and for movers the mover ids they may
// use. One rule a line:
//
//   ROLE token NAME SECRET [MOVER-ID-PATTERN...]
//   ROLE cert IDENTITY-PATTERN [MOVER-ID-PATTERN...]
//
// ROLE is mover, monitor or admin; a mover line names at least one mover id
// pattern ("*": any), the others none. NAME names a token in logs (the
// secret never appears there); SECRET is the token, 16 to 1024 printable
// characters without blanks. IDENTITY-PATTERN is matched against the
// identities of a client certificate ("CN=...", "subject=...", "DNS:...",
// "IP:...", "email:...", "URI:..."). Patterns are shell globs (*, ?, [..]).
// A field with blanks is written in double quotes ("subject=O=Example Org"),
// \" and \\ inside them. '#' starts a comment line.
//
// The file holds secrets: it is refused unless it is a regular file owned by
// the server's user with no permission for group or other.
//
// Thread-safety: pure functions and value types.
#ifndef AUTH_AUTH_FILE_H_
#define AUTH_AUTH_FILE_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/roles.h"

namespace auth {

// A token is kept as its SHA-256 only: compared in constant time, never
// logged, and a presented token of any length compares alike.
using Digest = std::array<uint8_t, 32>;
Digest DigestOf(std::string_view token);

inline constexpr size_t kMinTokenLength = 16;
inline constexpr size_t kMaxTokenLength = 1024;

struct AuthRule {
  Role role = Role::kMover;
  enum class Kind { kToken, kCert } kind = Kind::kToken;
  std::string token_name;  // kToken
  Digest token_digest{};   // kToken
  std::string identity;    // kCert: a glob over certificate identities
  std::vector<std::string> mover_ids;  // globs; mover lines only
  int line = 0;
};

// Parses the text of an auth file. False with *error ("PATH:LINE: why") on
// the first bad line; a file without any rule is an error too (every peer
// would be refused: almost surely a mistake).
bool ParseAuthFile(std::string_view text, const std::string& path,
                   std::vector<AuthRule>* rules, std::string* error);

// Reads and parses `path`, refusing a file that is not a regular file owned
// by `owner` (the server's effective uid) with no group or other
// permission, or larger than 1 MiB.
bool LoadAuthFile(const std::string& path, uid_t owner,
                  std::vector<AuthRule>* rules, std::string* error);

}  // namespace auth

#endif  // AUTH_AUTH_FILE_H_
