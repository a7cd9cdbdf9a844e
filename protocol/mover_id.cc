#include "protocol/mover_id.h"

#include <fmt/format.h>

namespace protocol {

std::optional<std::string> MoverIdError(std::string_view id) {
  if (id.empty()) return "mover id is empty";
  if (id.size() > kMaxMoverIdBytes)
    return fmt::format("mover id is longer than {} bytes", kMaxMoverIdBytes);
  for (size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (c < 0x21 || c > 0x7e)
      return fmt::format(
          "mover id has byte {:#04x} at offset {}: only printable ASCII "
          "characters other than space are allowed",
          c, i);
  }
  return std::nullopt;
}

}  // namespace protocol
