// Reading tags out of an item's hsm data, as the original's policies do
// (docs/policies.md: host affinity and consistent hashing, report files).
// Data is a comma-separated list of `name=value` pairs by convention
// ("proj=42,tape=t1"), but any bytes may appear.
//
// Thread-safety: pure functions.
#ifndef POLICY_TAG_H_
#define POLICY_TAG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace policy {

// The value that follows `tag` where `tag` sits at the start of `data` or
// right after a comma, up to the next comma or the end; nullopt if `tag`
// never sits there. `tag` normally ends with '=' ("proj=").
std::optional<std::string_view> TagValue(std::string_view data,
                                         std::string_view tag);

// `data` with the value TagValue() found replaced by `value`.
// REQUIRES: TagValue(data, tag) has a value.
std::string ReplaceTagValue(std::string_view data, std::string_view tag,
                            std::string_view value);

// djb2 as the original computes it: h = 5381, then h = h * 33 + b for each
// byte b taken as a *signed* char, in wrapping 64-bit arithmetic.
uint64_t Djb2(std::string_view bytes);

}  // namespace policy

#endif  // POLICY_TAG_H_
