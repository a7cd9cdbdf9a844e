#include "client/active_requests.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "hsm/fid.h"
#include "hsm/hal.h"

namespace client {

namespace {

constexpr size_t kMaxLineBytes = 9700;

// The value after `key` where key sits at the start of the line or right
// after a space; nullopt if absent.
std::optional<std::string_view> Find(std::string_view line,
                                     std::string_view key) {
  size_t pos = 0;
  while ((pos = line.find(key, pos)) != std::string_view::npos) {
    if (pos == 0 || line[pos - 1] == ' ') return line.substr(pos + key.size());
    pos += 1;
  }
  return std::nullopt;
}

// strtoull over a string_view prefix; *used = characters consumed.
std::optional<uint64_t> Number(std::string_view text, int base, size_t* used) {
  std::string copy(text.substr(0, 40));
  if (copy.empty() || copy[0] == '-' || copy[0] == ' ') return std::nullopt;
  errno = 0;
  char* end = nullptr;
  uint64_t v = strtoull(copy.c_str(), &end, base);
  if (end == copy.c_str() || errno != 0) return std::nullopt;
  *used = static_cast<size_t>(end - copy.c_str());
  return v;
}

std::optional<uint64_t> NumberField(std::string_view line, std::string_view key,
                                    int base) {
  auto value = Find(line, key);
  if (!value) return std::nullopt;
  size_t used;
  return Number(*value, base, &used);
}

std::optional<lu_fid> FidField(std::string_view line, std::string_view key) {
  auto value = Find(line, key);
  if (!value || value->empty() || value->front() != '[') return std::nullopt;
  size_t close = value->find(']');
  if (close == std::string_view::npos) return std::nullopt;
  return hsm::ParseFid(value->substr(0, close + 1));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool ParseActiveRequestLine(std::string_view line, protocol::WireItem* item,
                            std::string* error, std::string* warning) {
  *item = protocol::WireItem{};
  hsm_action_item& hai = item->item.hai;
  warning->clear();

  auto action = Find(line, "action=");
  if (!action) {
    *error = "no action=";
    return false;
  }
  if (action->starts_with("ARCHIVE "))
    hai.hai_action = HSMA_ARCHIVE;
  else if (action->starts_with("RESTORE "))
    hai.hai_action = HSMA_RESTORE;
  else if (action->starts_with("REMOVE "))
    hai.hai_action = HSMA_REMOVE;
  else {
    *error = fmt::format("unsupported action '{}'",
                         action->substr(0, action->find(' ')));
    return false;
  }

  auto fid = FidField(line, "fid=");
  auto dfid = FidField(line, "dfid=");
  if (!fid || !dfid) {
    *warning = "malformed fid= or dfid=";
  }
  if (fid) hai.hai_fid = *fid;
  if (dfid) hai.hai_dfid = *dfid;

  auto cookie = Find(line, "compound/cookie=");
  size_t used = 0;
  if (!cookie || !Number(*cookie, 16, &used) || used >= cookie->size() ||
      (*cookie)[used] != '/') {
    *error = "malformed compound/cookie=";
    return false;
  }
  auto cookie_value = Number(cookie->substr(used + 1), 16, &used);
  if (!cookie_value) {
    *error = "malformed compound/cookie=";
    return false;
  }
  hai.hai_cookie = *cookie_value;

  auto extent = Find(line, "extent=");
  if (!extent) {
    *error = "no extent=";
    return false;
  }
  auto offset = Number(*extent, 16, &used);
  if (!offset || used >= extent->size() || (*extent)[used] != '-') {
    *error = "malformed extent=";
    return false;
  }
  auto length = Number(extent->substr(used + 1), 16, &used);
  if (!length) {
    *error = "malformed extent=";
    return false;
  }
  hai.hai_extent.offset = *offset;
  hai.hai_extent.length = *length;

  auto gid = NumberField(line, "gid=", 0);
  auto archive = NumberField(line, "archive#=", 0);
  auto flags = NumberField(line, "flags=", 0);
  if (!gid || !archive || !flags || *archive > UINT32_MAX) {
    *error = "malformed gid=, archive#= or flags=";
    return false;
  }
  hai.hai_gid = *gid;
  item->archive_id = static_cast<uint32_t>(*archive);
  item->hal_flags = *flags;

  auto data = Find(line, "data=[");
  if (!data) {
    *error = "no data=";
    return false;
  }
  size_t close = data->find(']');
  if (close == std::string_view::npos) {
    *error = "unterminated data=[";
    return false;
  }
  std::string_view hex = data->substr(0, close);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      *error = "data=[...] is not hexadecimal";
      return false;
    }
    item->item.data.push_back(static_cast<char>(hi << 4 | lo));
  }
  hai.hai_len =
      static_cast<uint32_t>(hsm::kHaiFixedSize + item->item.data.size());
  return true;
}

bool ParseActiveRequests(std::string_view text,
                         std::vector<protocol::WireItem>* items,
                         std::vector<std::string>* warnings,
                         std::string* error) {
  std::vector<protocol::WireItem> parsed;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t eol = text.find('\n');
    if (eol == std::string_view::npos) {
      *error =
          fmt::format("line {}: no newline at the end of the input", line_no);
      return false;
    }
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    if (line.empty()) {
      *error = fmt::format("line {}: empty line", line_no);
      return false;
    }
    if (line.size() > kMaxLineBytes) {
      *error =
          fmt::format("line {}: longer than {} bytes", line_no, kMaxLineBytes);
      return false;
    }
    if (line.starts_with("mdt.") && line.back() == '=') continue;
    protocol::WireItem item;
    std::string why, warning;
    if (!ParseActiveRequestLine(line, &item, &why, &warning)) {
      *error = fmt::format("line {}: {}", line_no, why);
      return false;
    }
    if (!warning.empty())
      warnings->push_back(fmt::format("line {}: {}", line_no, warning));
    parsed.push_back(std::move(item));
  }
  *items = std::move(parsed);
  return true;
}

}  // namespace client
