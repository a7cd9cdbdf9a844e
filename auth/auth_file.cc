#include "auth/auth_file.h"

#include <fmt/format.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <map>
#include <optional>

#include "common/secret_file.h"

namespace auth {

namespace {

constexpr size_t kMaxFileBytes = 1u << 20;

bool Blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits a line into fields: blanks separate them, double quotes keep
// blanks inside one (\" and \\ escape). False with *error on an
// unterminated quote or a control character.
bool SplitFields(std::string_view line, std::vector<std::string>* fields,
                 std::string* error) {
  size_t i = 0;
  while (true) {
    while (i < line.size() && Blank(line[i])) ++i;
    if (i == line.size()) return true;
    std::string field;
    if (line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < line.size()) c = line[i++];
        field += c;
      }
      if (!closed) {
        *error = "unterminated quote";
        return false;
      }
      if (i < line.size() && !Blank(line[i])) {
        *error = "a quoted field must end at a blank";
        return false;
      }
    } else {
      while (i < line.size() && !Blank(line[i])) field += line[i++];
    }
    for (unsigned char c : field) {
      if (c < 0x20 || c == 0x7f) {
        *error = "control character in a field";
        return false;
      }
    }
    fields->push_back(std::move(field));
  }
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
          c == '.'))
      return false;
  return true;
}

// Why `secret` is not an acceptable token, or "".
std::string BadSecret(std::string_view secret) {
  if (secret.size() < kMinTokenLength)
    return fmt::format("a token needs at least {} characters", kMinTokenLength);
  if (secret.size() > kMaxTokenLength)
    return fmt::format("a token has at most {} characters", kMaxTokenLength);
  for (unsigned char c : secret)
    if (c <= 0x20 || c >= 0x7f)
      return "a token is printable ASCII without blanks";
  return "";
}

// One line's rule; false with *error (without the location).
bool ParseRule(const std::vector<std::string>& f, AuthRule* rule,
               std::string* error) {
  std::optional<Role> role = ParseRole(f[0]);
  if (!role) {
    *error = fmt::format("unknown role '{}' (mover, monitor or admin)", f[0]);
    return false;
  }
  rule->role = *role;
  size_t ids_from = 0;
  if (f.size() >= 2 && f[1] == "token") {
    if (f.size() < 4) {
      *error = "expected: ROLE token NAME SECRET [MOVER-ID...]";
      return false;
    }
    if (!ValidName(f[2])) {
      *error = fmt::format(
          "token name '{}': 1 to 64 letters, digits, '-', '_' or '.'", f[2]);
      return false;
    }
    if (std::string why = BadSecret(f[3]); !why.empty()) {
      *error = fmt::format("token {}: {}", f[2], why);
      return false;
    }
    rule->kind = AuthRule::Kind::kToken;
    rule->token_name = f[2];
    rule->token_digest = DigestOf(f[3]);
    ids_from = 4;
  } else if (f.size() >= 2 && f[1] == "cert") {
    if (f.size() < 3 || f[2].empty()) {
      *error = "expected: ROLE cert IDENTITY-PATTERN [MOVER-ID...]";
      return false;
    }
    rule->kind = AuthRule::Kind::kCert;
    rule->identity = f[2];
    ids_from = 3;
  } else {
    *error = "expected 'token' or 'cert' after the role";
    return false;
  }
  rule->mover_ids.assign(f.begin() + static_cast<ptrdiff_t>(ids_from), f.end());
  if (*role == Role::kMover && rule->mover_ids.empty()) {
    *error =
        "a mover line names the mover ids it may use (patterns; '*' for "
        "any)";
    return false;
  }
  if (*role != Role::kMover && !rule->mover_ids.empty()) {
    *error = fmt::format("only mover lines name mover ids, not {} lines",
                         RoleName(*role));
    return false;
  }
  return true;
}

}  // namespace

Digest DigestOf(std::string_view token) {
  Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         digest.data());
  return digest;
}

bool ParseAuthFile(std::string_view text, const std::string& path,
                   std::vector<AuthRule>* rules, std::string* error) {
  std::vector<AuthRule> parsed;
  // A token's name and secret go together: one name, one secret.
  std::map<std::string, Digest> secret_of;
  std::map<Digest, std::string> name_of;
  int line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    std::vector<std::string> fields;
    std::string why;
    AuthRule rule;
    if (SplitFields(line, &fields, &why) && !fields.empty())
      ParseRule(fields, &rule, &why);
    if (why.empty() && rule.kind == AuthRule::Kind::kToken) {
      auto [s, new_name] =
          secret_of.emplace(rule.token_name, rule.token_digest);
      auto [n, new_secret] =
          name_of.emplace(rule.token_digest, rule.token_name);
      if (!new_name && s->second != rule.token_digest)
        why = fmt::format("token {} has another secret on an earlier line",
                          rule.token_name);
      else if (!new_secret && n->second != rule.token_name)
        why = fmt::format("token {} has the secret of token {}",
                          rule.token_name, n->second);
    }
    if (!why.empty()) {
      *error = fmt::format("{}:{}: {}", path, line_number, why);
      return false;
    }
    rule.line = line_number;
    parsed.push_back(std::move(rule));
  }
  if (parsed.empty()) {
    *error = fmt::format("{}: no rule: every peer would be refused", path);
    return false;
  }
  *rules = std::move(parsed);
  return true;
}

bool LoadAuthFile(const std::string& path, uid_t owner,
                  std::vector<AuthRule>* rules, std::string* error) {
  common::SecretFileRules secret;
  secret.max_bytes = kMaxFileBytes;
  secret.owner = owner;
  secret.owner_name = "the server's user";
  secret.refused_bits = S_IRWXG | S_IRWXO;
  secret.why = "it holds the secrets that grant roles";
  std::string text;
  if (!common::ReadSecretFile(path, secret, &text, error)) return false;
  return ParseAuthFile(text, path, rules, error);
}

}  // namespace auth
