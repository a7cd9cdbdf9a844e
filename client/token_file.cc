#include "client/token_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include "common/secret_file.h"

namespace client {

bool ReadTokenFile(const std::string& path, std::string* token,
                   std::string* error) {
  common::SecretFileRules rules;
  rules.max_bytes = 4096;
  rules.refused_bits = S_IRGRP | S_IROTH;
  rules.why = "it holds a secret";
  std::string text;
  if (!common::ReadSecretFile(path, rules, &text, error)) {
    *error = "token_file " + *error;
    return false;
  }
  text = text.substr(0, text.find('\n'));
  const char* blanks = " \t\r";
  size_t first = text.find_first_not_of(blanks);
  if (first == std::string::npos) {
    *error = fmt::format("token_file {}: no token on its first line", path);
    return false;
  }
  *token = text.substr(first, text.find_last_not_of(blanks) - first + 1);
  return true;
}

}  // namespace client
