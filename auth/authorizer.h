// Authorizer: from the rules of the auth file (auth/auth_file.h), the Grant
// of a connection: its roles, the mover ids it may use and the name logs
// and the mover-id holders know it by. A connection's credentials are the
// identities of its client certificate (filled by TLS after the handshake;
// empty without) and the token it presented with `auth`, if any; its grant
// is everything either gives.
//
// Thread-safety: immutable once built; the server's loop replaces it on
// reload.
#ifndef AUTH_AUTHORIZER_H_
#define AUTH_AUTHORIZER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_file.h"
#include "auth/roles.h"

namespace auth {

struct Grant {
  Roles roles;
  std::vector<std::string> mover_ids;  // globs (mover role)
  // Who this is, for logs and for who holds a mover id: "token NAME",
  // "cert SUBJECT" (the certificate's subject= identity, else its first
  // one), or "" for a connection without credentials the file knows.
  std::string name;

  bool has(Role role) const { return roles.has(role); }
  // Whether the mover role may use mover id `id`.
  bool MayUseMoverId(std::string_view id) const;
};

// Everything, for a server without auth_file.
Grant FullGrant();

// Whether certificate identity `identity` matches `pattern` (a glob: *, ?,
// [..]; no special meaning for '/' or '.').
bool IdentityMatches(std::string_view pattern, std::string_view identity);

// A connection's credentials.
struct Credentials {
  std::vector<std::string> identities;  // of its client certificate
  std::optional<Digest> token;          // accepted with `auth`
};

class Authorizer {
 public:
  explicit Authorizer(std::vector<AuthRule> rules);

  // The grant of `credentials` (the roles of every rule matching one of
  // the certificate identities or the token).
  Grant GrantFor(const Credentials& credentials) const;
  // Whether `digest` is a known token: every token rule is compared, in
  // constant time, whichever matches.
  bool KnowsToken(const Digest& digest) const;
  size_t rules() const { return rules_.size(); }
  bool has_tokens() const { return has_tokens_; }

 private:
  std::vector<AuthRule> rules_;
  bool has_tokens_ = false;
};

// A connection's grant after the auth file was read again. `close`: it
// introduced itself as mover `mover_id` (when set), and the new rules no
// longer let it use that id.
struct Regrant {
  Grant grant;
  bool close = false;
};
Regrant RegrantFor(const Authorizer& authorizer, const Credentials& credentials,
                   const std::optional<std::string>& mover_id);

}  // namespace auth

#endif  // AUTH_AUTHORIZER_H_
