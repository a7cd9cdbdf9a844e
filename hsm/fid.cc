#include "hsm/fid.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace hsm {

std::string FormatFid(const lu_fid& fid) {
  char buf[FID_LEN + 1];
  snprintf(buf, sizeof(buf), DFID, PFID(&fid));
  return buf;
}

std::string FormatFidNoBrace(const lu_fid& fid) {
  char buf[FID_NOBRACE_LEN + 1];
  snprintf(buf, sizeof(buf), DFID_NOBRACE, PFID(&fid));
  return buf;
}

std::string FormatFidKernel(const lu_fid& fid) {
  char buf[FID_LEN + 1];
  snprintf(buf, sizeof(buf), "[0x%llx:0x%x:0x%x]",
           static_cast<unsigned long long>(fid.f_seq), fid.f_oid, fid.f_ver);
  return buf;
}

namespace {

// Parses one base-0 unsigned field; advances `pos`. Rejects signs and blanks,
// which strtoull would otherwise accept.
std::optional<uint64_t> ParseField(std::string_view text, size_t& pos) {
  if (pos >= text.size() || !isdigit(static_cast<unsigned char>(text[pos])))
    return std::nullopt;
  std::string field;
  while (pos < text.size() &&
         (isxdigit(static_cast<unsigned char>(text[pos])) || text[pos] == 'x' ||
          text[pos] == 'X'))
    field.push_back(text[pos++]);
  errno = 0;
  char* end = nullptr;
  uint64_t value = strtoull(field.c_str(), &end, 0);
  if (errno != 0 || end != field.c_str() + field.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<lu_fid> ParseFid(std::string_view text) {
  bool bracket = !text.empty() && text.front() == '[';
  if (bracket) {
    if (text.size() < 2 || text.back() != ']') return std::nullopt;
    text = text.substr(1, text.size() - 2);
  }
  size_t pos = 0;
  auto seq = ParseField(text, pos);
  if (!seq || pos >= text.size() || text[pos++] != ':') return std::nullopt;
  auto oid = ParseField(text, pos);
  if (!oid || pos >= text.size() || text[pos++] != ':') return std::nullopt;
  auto ver = ParseField(text, pos);
  if (!ver || pos != text.size()) return std::nullopt;
  if (*oid > UINT32_MAX || *ver > UINT32_MAX) return std::nullopt;
  lu_fid fid;
  fid.f_seq = *seq;
  fid.f_oid = static_cast<uint32_t>(*oid);
  fid.f_ver = static_cast<uint32_t>(*ver);
  return fid;
}

}  // namespace hsm
