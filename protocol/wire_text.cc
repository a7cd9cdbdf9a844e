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

void AppendInt(std::string* out, int64_t value) {
  // format_int: no format string to parse (a recv reply has several
  // numbers per item).
  const fmt::format_int text(value);
  out->append(text.data(), text.size());
}

void AppendSigned(std::string* out, uint64_t value) {
  AppendInt(out, static_cast<int64_t>(value));
}

void AppendFid(std::string* out, const lu_fid& fid) {
  out->append(R"({"f_seq":)");
  AppendSigned(out, fid.f_seq);
  out->append(R"(,"f_oid":)");
  AppendInt(out, fid.f_oid);
  out->append(R"(,"f_ver":)");
  AppendInt(out, fid.f_ver);
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
  out->append(R"({"hai_action":)");
  AppendInt(out, static_cast<int64_t>(hai.hai_action));
  out->append(R"(,"hai_fid":)");
  AppendFid(out, hai.hai_fid);
  out->append(R"(,"hai_dfid":)");
  AppendFid(out, hai.hai_dfid);
  out->append(R"(,"hai_extent_offset":)");
  AppendSigned(out, hai.hai_extent.offset);
  out->append(R"(,"hai_extent_length":)");
  AppendSigned(out, hai.hai_extent.length);
  out->append(R"(,"hai_cookie":)");
  AppendSigned(out, hai.hai_cookie);
  out->append(R"(,"hai_gid":)");
  AppendSigned(out, hai.hai_gid);
  const std::string_view data = wire.item.data;
  if (IsValidUtf8(data)) {
    out->append(R"(,"hai_data":)");
    AppendJsonString(out, data);
  } else {
    out->append(R"(,"hai_data_base64":)");
    AppendJsonString(out, Base64Encode(data));
  }
  out->append(R"(,"hal_archive_id":)");
  AppendInt(out, wire.archive_id);
  out->append(R"(,"hal_flags":)");
  AppendSigned(out, wire.hal_flags);
  out->append(R"(,"timestamp":)");
  AppendInt(out, wire.timestamp_ns);
  out->push_back('}');
}

void AppendRecvReplyText(std::string* out, const ActionListHeader& header,
                         std::span<const WireItem> cancels,
                         std::span<const WireItem> items) {
  out->append(R"({"command":"recv","hsm_action_list":{"hal_version":)");
  fmt::format_to(std::back_inserter(*out), "{}", header.version);
  out->append(R"(,"hal_archive_id":)");
  AppendInt(out, header.archive_id);
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
    out->append(R"(,"hal_flags":)");
    AppendSigned(out, header.flags);
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
