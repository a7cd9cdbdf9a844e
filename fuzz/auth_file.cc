// Fuzz target: the server's auth file (auth/auth_file, auth/authorizer).
// Input: the file's text.
// Properties: no crash or undefined behaviour; a refused file names the
// file (and, for a bad line, its line); an accepted one has rules on
// increasing lines, a mover line names mover ids and no other line does,
// tokens have valid names, and nothing holds a control character; the
// grant of the credentials the file itself names (its identity patterns
// taken as identities) is computed without crash, and a grant's mover ids
// are only those of mover lines.
#include "auth/auth_file.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authorizer.h"
#include "fuzz/fuzz_util.h"

namespace {

bool HasControl(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<auth::AuthRule> rules;
  std::string error;
  if (!auth::ParseAuthFile(text, "fuzz.auth", &rules, &error)) {
    FUZZ_CHECK(error.starts_with("fuzz.auth"));
    FUZZ_CHECK(rules.empty());
    return 0;
  }
  FUZZ_CHECK(!rules.empty());
  int last_line = 0;
  std::vector<std::string> identities;
  for (const auth::AuthRule& rule : rules) {
    FUZZ_CHECK(rule.line > last_line);
    last_line = rule.line;
    FUZZ_CHECK((rule.role == auth::Role::kMover) == !rule.mover_ids.empty());
    for (const std::string& id : rule.mover_ids) FUZZ_CHECK(!HasControl(id));
    if (rule.kind == auth::AuthRule::Kind::kToken) {
      FUZZ_CHECK(!rule.token_name.empty() && rule.token_name.size() <= 64);
      FUZZ_CHECK(!HasControl(rule.token_name));
    } else {
      FUZZ_CHECK(!rule.identity.empty() && !HasControl(rule.identity));
      identities.push_back(rule.identity);
    }
  }
  auth::Authorizer authorizer(rules);
  auth::Grant grant = authorizer.GrantFor({identities, std::nullopt});
  for (const std::string& pattern : grant.mover_ids) {
    bool from_mover_line = false;
    for (const auth::AuthRule& rule : rules)
      for (const std::string& id : rule.mover_ids)
        from_mover_line |= rule.role == auth::Role::kMover && id == pattern;
    FUZZ_CHECK(from_mover_line);
  }
  FUZZ_CHECK(grant.mover_ids.empty() || grant.has(auth::Role::kMover));
  return 0;
}
