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

void AppendItemText(std::string* out, const ItemFields& item) {
  const hsm_action_item& hai = item.hai;
  AppendInt(out, R"({"hai_action":)", static_cast<int64_t>(hai.hai_action));
  AppendFid(out, R"(,"hai_fid":)", hai.hai_fid);
  AppendFid(out, R"(,"hai_dfid":)", hai.hai_dfid);
  AppendSigned(out, R"(,"hai_extent_offset":)", hai.hai_extent.offset);
  AppendSigned(out, R"(,"hai_extent_length":)", hai.hai_extent.length);
  AppendSigned(out, R"(,"hai_cookie":)", hai.hai_cookie);
  AppendSigned(out, R"(,"hai_gid":)", hai.hai_gid);
  const std::string_view data = item.data;
  if (IsValidUtf8(data)) {
    out->append(R"(,"hai_data":)");
    AppendJsonString(out, data);
  } else {
    out->append(R"(,"hai_data_base64":)");
    AppendJsonString(out, Base64Encode(data));
  }
  AppendInt(out, R"(,"hal_archive_id":)", item.archive_id);
  AppendSigned(out, R"(,"hal_flags":)", item.hal_flags);
  AppendInt(out, R"(,"timestamp":)", item.timestamp_ns);
  out->push_back('}');
}

namespace {
ItemFields WireFields(const WireItem& wire) {
  return {wire.item.hai, wire.item.data, wire.archive_id, wire.hal_flags,
          wire.timestamp_ns};
}
}  // namespace

void AppendItemText(std::string* out, const WireItem& wire) {
  AppendItemText(out, WireFields(wire));
}

size_t ItemTextBytes(size_t data_size) {
  // The names, the eleven numbers at their longest, the data.
  return 512 + data_size;
}

size_t RecvReplyFrameBytes(const ActionListHeader& header) {
  return 160 + header.fsname.size();
}

void AppendRecvReplyHead(std::string* out, const ActionListHeader& header) {
  out->append(R"({"command":"recv","hsm_action_list":{"hal_version":)");
  fmt::format_to(std::back_inserter(*out), "{}", header.version);
  AppendInt(out, R"(,"hal_archive_id":)", header.archive_id);
  out->append(R"(,"hal_fsname":)");
  AppendJsonString(out, header.fsname);
  out->append(R"(,"list":[)");
}

void AppendRecvReplyTail(std::string* out, const ActionListHeader& header) {
  out->push_back(']');
  if (header.flags) {
    AppendSigned(out, R"(,"hal_flags":)", header.flags);
  }
  out->append("}}");
}

void AppendRecvReplyText(std::string* out, const ActionListHeader& header,
                         std::span<const WireItem> cancels,
                         std::span<const WireItem> items) {
  AppendRecvReplyText(out, header, cancels, items, WireFields);
}

std::string OkReplyText(std::string_view command) {
  std::string out = R"({"command":)";
  AppendJsonString(&out, command);
  out.push_back('}');
  return out;
}

}  // namespace protocol
