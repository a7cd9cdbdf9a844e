#include "protocol/wire_text.h"

#include <fmt/format.h>

#include <iterator>

#include "protocol/byte_string.h"

namespace protocol {

namespace {

// Bytes a JSON string may hold as they are.
bool Plain(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == '"' || c == '\\') return false;
  return true;
}

// `key` (the JSON text before the value: separator, name, colon), then
// the value. One call a member keeps each line of the encoders a field.
void AppendInt(std::string* out, std::string_view key, int64_t value) {
  out->append(key);
  // format_int: no format string to parse (a recv reply has several
  // numbers per item).
  const fmt::format_int text(value);
  out->append(text.data(), text.size());
}

// The original's JSON holds Lustre's unsigned 64-bit fields as signed.
void AppendSigned(std::string* out, std::string_view key, uint64_t value) {
  AppendInt(out, key, static_cast<int64_t>(value));
}

void AppendFid(std::string* out, std::string_view key, const lu_fid& fid) {
  out->append(key);
  AppendSigned(out, R"({"f_seq":)", fid.f_seq);
  AppendInt(out, R"(,"f_oid":)", fid.f_oid);
  AppendInt(out, R"(,"f_ver":)", fid.f_ver);
  out->push_back('}');
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view text) {
  if (!Plain(text)) {
    // Rare (control bytes, quotes): boost::json's own escaping.
    out->append(boost::json::serialize(boost::json::string_view(text)));
    return;
  }
  out->push_back('"');
  out->append(text);
  out->push_back('"');
}

void AppendItemText(std::string* out, const WireItem& wire) {
  const hsm_action_item& hai = wire.item.hai;
  AppendInt(out, R"({"hai_action":)", static_cast<int64_t>(hai.hai_action));
  AppendFid(out, R"(,"hai_fid":)", hai.hai_fid);
  AppendFid(out, R"(,"hai_dfid":)", hai.hai_dfid);
  AppendSigned(out, R"(,"hai_extent_offset":)", hai.hai_extent.offset);
  AppendSigned(out, R"(,"hai_extent_length":)", hai.hai_extent.length);
  AppendSigned(out, R"(,"hai_cookie":)", hai.hai_cookie);
  AppendSigned(out, R"(,"hai_gid":)", hai.hai_gid);
  const std::string_view data = wire.item.data;
  if (IsValidUtf8(data)) {
    out->append(R"(,"hai_data":)");
    AppendJsonString(out, data);
  } else {
    out->append(R"(,"hai_data_base64":)");
    AppendJsonString(out, Base64Encode(data));
  }
  AppendInt(out, R"(,"hal_archive_id":)", wire.archive_id);
  AppendSigned(out, R"(,"hal_flags":)", wire.hal_flags);
  AppendInt(out, R"(,"timestamp":)", wire.timestamp_ns);
  out->push_back('}');
}

namespace {

// Room for an item's text with plain hsm data: the names, the eleven
// numbers at their longest, the data. Data to escape or base64 may need
// more; the string grows then, as it would have.
constexpr size_t kItemTextBytes = 512;

size_t ReplyBytes(std::string_view fsname, std::span<const WireItem> cancels,
                  std::span<const WireItem> items) {
  size_t bytes = 160 + fsname.size();
  for (auto list : {cancels, items})
    for (const WireItem& item : list)
      bytes += kItemTextBytes + item.item.data.size();
  return bytes;
}

}  // namespace

void AppendRecvReplyText(std::string* out, const ActionListHeader& header,
                         std::span<const WireItem> cancels,
                         std::span<const WireItem> items) {
  // Room for the whole reply at once: grown append by append, a reply of
  // a thousand items was copied a dozen times over.
  out->reserve(out->size() + ReplyBytes(header.fsname, cancels, items));
  out->append(R"({"command":"recv","hsm_action_list":{"hal_version":)");
  fmt::format_to(std::back_inserter(*out), "{}", header.version);
  AppendInt(out, R"(,"hal_archive_id":)", header.archive_id);
  out->append(R"(,"hal_fsname":)");
  AppendJsonString(out, header.fsname);
  out->append(R"(,"list":[)");
  bool first = true;
  for (auto list : {cancels, items})
    for (const WireItem& item : list) {
      if (!first) out->push_back(',');
      first = false;
      AppendItemText(out, item);
    }
  out->push_back(']');
  if (header.flags) {
    AppendSigned(out, R"(,"hal_flags":)", header.flags);
  }
  out->append("}}");
}

std::string OkReplyText(std::string_view command) {
  std::string out = R"({"command":)";
  AppendJsonString(&out, command);
  out.push_back('}');
  return out;
}

}  // namespace protocol
