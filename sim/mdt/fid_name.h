// The names MOUNT/.lustre/fid/ accepts, as Lustre's MDT parses them when it
// looks a name up in its ".lustre/fid" object: any number of leading '[',
// then "0x<seq>:0x<oid>:0x<ver>" in hex (what follows, e.g. the closing
// ']', is not looked at), a sane FID of a normal sequence or the root.
// So "0x200000401:0x1:0x0" and "[0x200000401:0x1:0x0]" both name the file.
//
// Thread-safety: pure.
#ifndef SIM_MDT_FID_NAME_H_
#define SIM_MDT_FID_NAME_H_

#include <linux/lustre/lustre_user.h>

#include <optional>
#include <string_view>

namespace sim::mdt {

std::optional<lu_fid> ParseDotLustreFidName(std::string_view name);

}  // namespace sim::mdt

#endif  // SIM_MDT_FID_NAME_H_
