// Who may read the HTTP listener (docs/monitoring.md): with an auth_file,
// every request needs the monitor or the admin role, from a token or a
// client certificate, as on the main port (docs/auth.md). A token comes as
//   Authorization: Bearer TOKEN
// or as Basic authentication whose password is the token (the user name
// is ignored): what browsers and Prometheus' basic_auth send.
// Without an auth_file every request is let in, as on the main port.
//
// Thread-safety: pure functions.
#ifndef HTTP_HTTP_AUTH_H_
#define HTTP_HTTP_AUTH_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authorizer.h"

namespace http {

// The token an Authorization header carries: Bearer, or Basic's password.
// nullopt when the header is absent or of another scheme; *malformed set
// when it is Bearer or Basic but cannot be read.
std::optional<std::string> TokenOf(std::string_view authorization,
                                   bool* malformed);

struct Access {
  // 0: let in; 401: no credentials the auth file knows (or a token it does
  // not know); 403: known, without the monitor or admin role.
  int status = 0;
  std::string identity;  // the grant's name ("token NAME", "cert ...")
  std::string why;       // for the refusal's body and the debug log
};

// `authorizer` null: no authentication. `identities`: the client
// certificate's (tls/identity.h), empty without one.
Access CheckAccess(const auth::Authorizer* authorizer,
                   const std::vector<std::string>& identities,
                   std::string_view authorization);

// The WWW-Authenticate challenges of a 401.
std::vector<std::string> Challenges();

}  // namespace http

#endif  // HTTP_HTTP_AUTH_H_
