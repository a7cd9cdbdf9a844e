#include "policy/tag.h"

namespace policy {

namespace {

// Where the value starts, or npos.
size_t ValueStart(std::string_view data, std::string_view tag) {
  if (tag.empty()) return std::string_view::npos;
  for (size_t pos = data.find(tag); pos != std::string_view::npos;
       pos = data.find(tag, pos + 1)) {
    if (pos == 0 || data[pos - 1] == ',') return pos + tag.size();
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<std::string_view> TagValue(std::string_view data,
                                         std::string_view tag) {
  size_t start = ValueStart(data, tag);
  if (start == std::string_view::npos) return std::nullopt;
  size_t end = data.find(',', start);
  return data.substr(
      start, end == std::string_view::npos ? data.size() - start : end - start);
}

std::string ReplaceTagValue(std::string_view data, std::string_view tag,
                            std::string_view value) {
  size_t start = ValueStart(data, tag);
  size_t end = data.find(',', start);
  if (end == std::string_view::npos) end = data.size();
  std::string out(data.substr(0, start));
  out += value;
  out += data.substr(end);
  return out;
}

uint64_t Djb2(std::string_view bytes) {
  uint64_t h = 5381;
  for (char c : bytes)
    h = h * 33 + static_cast<uint64_t>(
                     static_cast<int64_t>(static_cast<signed char>(c)));
  return h;
}

}  // namespace policy
