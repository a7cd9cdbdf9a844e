#include "copytool/posix/archive_path.h"

#include <cstdio>

namespace ct {
namespace {

std::string FidNoBrace(const lu_fid& fid) {
  char buf[FID_NOBRACE_LEN + 1];
  std::snprintf(buf, sizeof(buf), DFID_NOBRACE, PFID(&fid));
  return buf;
}

std::string Hex4(unsigned long long v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04llx", v & 0xFFFF);
  return buf;
}

}  // namespace

std::optional<ArchiveFormat> ParseArchiveFormat(std::string_view text) {
  if (text == "v1") return ArchiveFormat::kV1;
  if (text == "v2") return ArchiveFormat::kV2;
  return std::nullopt;
}

std::string ArchiveDir(std::string_view root, const lu_fid& fid,
                       ArchiveFormat format) {
  std::string dir(root);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const unsigned long long seq = fid.f_seq;
  const unsigned long long oid = fid.f_oid;
  if (format == ArchiveFormat::kV2) return dir + "/" + Hex4(oid ^ seq);
  for (unsigned long long part :
       {oid, oid >> 16, seq, seq >> 16, seq >> 32, seq >> 48}) {
    dir += "/" + Hex4(part);
  }
  return dir;
}

std::string ArchivePath(std::string_view root, const lu_fid& fid,
                        ArchiveFormat format) {
  return ArchiveDir(root, fid, format) + "/" + FidNoBrace(fid);
}

}  // namespace ct
