// The id a mover announces in `ehlo` (docs/protocol.md, ehlo). It names
// the mover in logs, report files (`sent <fid> <id>`: fields apart by
// spaces, one per line), the store, status replies and host rules, so the
// server takes only ids that are printable, without spaces, and short.
//
// Thread-safety: pure functions.
#ifndef PROTOCOL_MOVER_ID_H_
#define PROTOCOL_MOVER_ID_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace protocol {

// Longer than any host name (253), which is what ids default to.
constexpr size_t kMaxMoverIdBytes = 255;

// Why `id` cannot be a mover id, or nullopt when it can: 1 to
// kMaxMoverIdBytes bytes, each a printable ASCII character other than
// space (0x21..0x7e).
std::optional<std::string> MoverIdError(std::string_view id);

}  // namespace protocol

#endif  // PROTOCOL_MOVER_ID_H_
