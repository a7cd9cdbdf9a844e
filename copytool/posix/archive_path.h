// Where an archived file lives under the HSM root: lhsmtool_posix's layouts,
// keyed by the Lustre FID (hai_fid), never by the data FID
// (docs/lustre.md, archive layout).
//
// Thread-safety: pure functions.
#ifndef COPYTOOL_POSIX_ARCHIVE_PATH_H_
#define COPYTOOL_POSIX_ARCHIVE_PATH_H_

#include <linux/lustre/lustre_user.h>

#include <optional>
#include <string>
#include <string_view>

namespace ct {

enum class ArchiveFormat {
  // Six levels of 4 hex digits: oid&0xFFFF, oid>>16, then the four 16-bit
  // pieces of seq from the lowest; e.g. 0001/0000/0401/0000/0002/0000/.
  kV1,
  // One level: (oid ^ seq) & 0xFFFF.
  kV2,
};

// "v1" or "v2".
std::optional<ArchiveFormat> ParseArchiveFormat(std::string_view text);

// "<root>/<dirs>/<seq:oid:ver>" for `fid`, formatted with DFID_NOBRACE.
std::string ArchivePath(std::string_view root, const lu_fid& fid,
                        ArchiveFormat format);

// The directory part of ArchivePath (without a trailing slash).
std::string ArchiveDir(std::string_view root, const lu_fid& fid,
                       ArchiveFormat format);

}  // namespace ct

#endif  // COPYTOOL_POSIX_ARCHIVE_PATH_H_
