#include "sim/mdt/tunables.h"

#include <strings.h>

#include <cerrno>
#include <charconv>
#include <vector>

namespace sim::mdt {

namespace {

struct PolicyName {
  uint32_t bit;
  const char* name;
  const char* abbrev;
};
constexpr PolicyName kPolicyNames[] = {
    {kPolicyNbr, "NonBlockingRestore", "NBR"},
    {kPolicyNra, "NoRetryAction", "NRA"},
};

std::vector<std::string_view> Tokens(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find_first_of(" \t\n", pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

bool EqualsNoCase(std::string_view a, const char* b) {
  return a.size() == strlen(b) && strncasecmp(a.data(), b, a.size()) == 0;
}

}  // namespace

std::string FormatPolicy(uint32_t policy) {
  std::string out;
  for (const auto& p : kPolicyNames) {
    if (!out.empty()) out += ' ';
    out += (policy & p.bit) ? "[" + std::string(p.name) + "]" : p.name;
  }
  return out + "\n";
}

int ParsePolicy(std::string_view text, uint32_t* policy) {
  uint32_t set = 0, add = 0, remove = 0;
  for (std::string_view token : Tokens(text)) {
    char sign = token[0];
    if (sign == '+' || sign == '-') token.remove_prefix(1);
    uint32_t bit = 0;
    for (const auto& p : kPolicyNames)
      if (token == p.name || token == p.abbrev) bit = p.bit;
    if (bit == 0) return -EINVAL;
    if (sign == '+')
      add |= bit;
    else if (sign == '-')
      remove |= bit;
    else
      set |= bit;
  }
  if (set != 0)
    *policy = set;
  else
    *policy = (*policy | add) & ~remove;
  return 0;
}

std::string FormatRequestMask(uint64_t mask) {
  std::string out;
  for (int i = 0; i < 64; ++i) {
    if (!(mask & (1ULL << i))) continue;
    if (!out.empty()) out += ' ';
    out += hsm_copytool_action2name(static_cast<hsm_copytool_action>(i));
  }
  return out + "\n";
}

int ParseRequestMask(std::string_view text, uint64_t* mask) {
  static constexpr hsm_copytool_action kActions[] = {
      HSMA_NONE, HSMA_ARCHIVE, HSMA_RESTORE, HSMA_REMOVE, HSMA_CANCEL};
  uint64_t result = 0;
  for (std::string_view token : Tokens(text)) {
    uint64_t bit = 0;
    for (auto a : kActions)
      if (EqualsNoCase(token, hsm_copytool_action2name(a))) bit = 1ULL << a;
    if (bit == 0) return -EINVAL;
    result |= bit;
  }
  *mask = result;
  return 0;
}

int ParseUpcallMask(std::string_view text, uint64_t* mask) {
  uint64_t parsed = 0;
  if (int rc = ParseRequestMask(text, &parsed); rc < 0) return rc;
  if (parsed & ~((1ULL << HSMA_ARCHIVE) | (1ULL << HSMA_REMOVE)))
    return -EINVAL;
  *mask = parsed;
  return 0;
}

std::string FormatUpcallMask(uint64_t mask) { return FormatRequestMask(mask); }

bool ParseU64(std::string_view text, uint64_t* value) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return false;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *value, base);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace sim::mdt
