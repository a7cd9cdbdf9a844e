#include "http/http_auth.h"

#include <fmt/format.h>

#include <cctype>

#include "auth/auth_file.h"
#include "protocol/byte_string.h"

namespace http {

namespace {

// Whether `header` starts with `scheme` (any case) then a space; *rest is
// what follows the blanks.
bool HasScheme(std::string_view header, std::string_view scheme,
               std::string_view* rest) {
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ')
    return false;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i])
      return false;
  *rest = header.substr(scheme.size());
  while (!rest->empty() && rest->front() == ' ') rest->remove_prefix(1);
  while (!rest->empty() && rest->back() == ' ') rest->remove_suffix(1);
  return true;
}

}  // namespace

std::optional<std::string> TokenOf(std::string_view authorization,
                                   bool* malformed) {
  *malformed = false;
  std::string_view rest;
  if (HasScheme(authorization, "bearer", &rest)) {
    if (rest.empty() || rest.find(' ') != std::string_view::npos) {
      *malformed = true;
      return std::nullopt;
    }
    return std::string(rest);
  }
  if (HasScheme(authorization, "basic", &rest)) {
    std::string decoded;
    size_t colon = std::string::npos;
    if (!protocol::Base64Decode(rest, &decoded) ||
        (colon = decoded.find(':')) == std::string::npos ||
        colon + 1 == decoded.size()) {
      *malformed = true;
      return std::nullopt;
    }
    return decoded.substr(colon + 1);
  }
  return std::nullopt;
}

Access CheckAccess(const auth::Authorizer* authorizer,
                   const std::vector<std::string>& identities,
                   std::string_view authorization) {
  Access access;
  if (!authorizer) return access;
  auth::Credentials credentials;
  credentials.identities = identities;
  bool malformed = false;
  std::optional<std::string> token = TokenOf(authorization, &malformed);
  if (malformed) {
    access.status = 401;
    access.why = "malformed Authorization header";
    return access;
  }
  if (token) {
    auth::Digest digest = auth::DigestOf(*token);
    if (!authorizer->KnowsToken(digest)) {
      access.status = 401;
      access.why = "unknown token";
      return access;
    }
    credentials.token = digest;
  }
  auth::Grant grant = authorizer->GrantFor(credentials);
  access.identity = grant.name;
  if (grant.has(auth::Role::kMonitor) || grant.has(auth::Role::kAdmin))
    return access;
  if (grant.name.empty()) {
    access.status = 401;
    access.why =
        "credentials needed: a token (Bearer, or Basic with the token as "
        "password) or a client certificate with the monitor or admin role";
    return access;
  }
  access.status = 403;
  access.why =
      fmt::format("{} has {}; the monitor or admin role is needed", grant.name,
                  grant.roles.empty() ? std::string("no role")
                                      : "the roles " + grant.roles.Names());
  return access;
}

std::vector<std::string> Challenges() {
  return {"Bearer realm=\"coordinatool\"",
          "Basic realm=\"coordinatool\", charset=\"UTF-8\""};
}

}  // namespace http
