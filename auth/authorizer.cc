#include "auth/authorizer.h"

#include <fnmatch.h>
#include <openssl/crypto.h>

#include <algorithm>

namespace auth {

namespace {

// Constant time in the digests' contents.
bool SameDigest(const Digest& a, const Digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void AddIds(const std::vector<std::string>& ids, Grant* grant) {
  for (const std::string& id : ids)
    if (std::find(grant->mover_ids.begin(), grant->mover_ids.end(), id) ==
        grant->mover_ids.end())
      grant->mover_ids.push_back(id);
}

// The certificate's name in logs: its subject, else its first identity.
std::string CertName(const std::vector<std::string>& identities) {
  for (const std::string& identity : identities)
    if (identity.starts_with("subject=")) return "cert " + identity.substr(8);
  return "cert " + identities.front();
}

}  // namespace

bool IdentityMatches(std::string_view pattern, std::string_view identity) {
  // fnmatch works on C strings: an identity with a NUL byte (a SAN can
  // hold one) must not match by its prefix.
  if (identity.find('\0') != std::string_view::npos ||
      pattern.find('\0') != std::string_view::npos)
    return false;
  return fnmatch(std::string(pattern).c_str(), std::string(identity).c_str(),
                 0) == 0;
}

bool Grant::MayUseMoverId(std::string_view id) const {
  if (!has(Role::kMover)) return false;
  return std::any_of(
      mover_ids.begin(), mover_ids.end(),
      [&](const std::string& pattern) { return IdentityMatches(pattern, id); });
}

Grant FullGrant() {
  Grant grant;
  grant.roles = Roles::All();
  grant.mover_ids = {"*"};
  return grant;
}

Authorizer::Authorizer(std::vector<AuthRule> rules) : rules_(std::move(rules)) {
  for (const AuthRule& rule : rules_)
    if (rule.kind == AuthRule::Kind::kToken) has_tokens_ = true;
}

bool Authorizer::KnowsToken(const Digest& digest) const {
  bool known = false;
  for (const AuthRule& rule : rules_)
    if (rule.kind == AuthRule::Kind::kToken)
      known |= SameDigest(rule.token_digest, digest);
  return known;
}

Grant Authorizer::GrantFor(const Credentials& credentials) const {
  Grant grant;
  std::string token_name;
  bool cert_matched = false;
  for (const AuthRule& rule : rules_) {
    bool matches = false;
    if (rule.kind == AuthRule::Kind::kToken) {
      // Every rule compared: the time taken does not say which matched.
      matches = credentials.token &&
                SameDigest(rule.token_digest, *credentials.token);
      if (matches) token_name = rule.token_name;
    } else {
      for (const std::string& identity : credentials.identities)
        matches |= IdentityMatches(rule.identity, identity);
      cert_matched |= matches;
    }
    if (!matches) continue;
    grant.roles |= rule.role;
    AddIds(rule.mover_ids, &grant);
  }
  if (!token_name.empty())
    grant.name = "token " + token_name;
  else if (cert_matched)
    grant.name = CertName(credentials.identities);
  return grant;
}

Regrant RegrantFor(const Authorizer& authorizer, const Credentials& credentials,
                   const std::optional<std::string>& mover_id) {
  Regrant regrant;
  regrant.grant = authorizer.GrantFor(credentials);
  regrant.close = mover_id && !regrant.grant.MayUseMoverId(*mover_id);
  return regrant;
}

}  // namespace auth
