#include "protocol/action_item.h"

#include <fmt/format.h>

#include "protocol/byte_string.h"

namespace protocol {

namespace json = boost::json;

namespace {

bool AsU64(const json::value& value, uint64_t* out) {
  if (value.is_int64()) {
    *out = static_cast<uint64_t>(value.get_int64());
    return true;
  }
  if (value.is_uint64()) {
    *out = value.get_uint64();
    return true;
  }
  return false;
}

bool GetU32(const json::object& object, std::string_view key, uint32_t* out,
            std::string* error) {
  uint64_t wide;
  if (!GetU64(object, key, &wide)) {
    *error = fmt::format("'{}' must be an integer", key);
    return false;
  }
  // Values of 2^31 and above may arrive negative (a C int on the other side).
  int64_t as_signed = static_cast<int64_t>(wide);
  if (as_signed < INT32_MIN || (as_signed > UINT32_MAX)) {
    *error = fmt::format("'{}' is out of 32-bit range", key);
    return false;
  }
  *out = static_cast<uint32_t>(wide);
  return true;
}

json::value Signed(uint64_t v) { return static_cast<int64_t>(v); }

}  // namespace

bool GetU64(const json::object& object, std::string_view key, uint64_t* out) {
  const json::value* value = object.if_contains(key);
  return value && AsU64(*value, out);
}

json::object FidToJson(const lu_fid& fid) {
  return {{"f_seq", Signed(fid.f_seq)},
          {"f_oid", static_cast<int64_t>(fid.f_oid)},
          {"f_ver", static_cast<int64_t>(fid.f_ver)}};
}

bool FidFromJson(const json::value& value, lu_fid* fid, std::string* error) {
  const json::object* object = value.if_object();
  if (!object) {
    *error = "FID must be an object";
    return false;
  }
  for (const auto& entry : *object) {
    if (entry.key() != "f_seq" && entry.key() != "f_oid" &&
        entry.key() != "f_ver") {
      *error = fmt::format("unexpected key '{}' in FID",
                           std::string_view(entry.key()));
      return false;
    }
  }
  uint64_t seq;
  uint32_t oid, ver;
  if (!GetU64(*object, "f_seq", &seq)) {
    *error = "'f_seq' must be an integer";
    return false;
  }
  if (!GetU32(*object, "f_oid", &oid, error) ||
      !GetU32(*object, "f_ver", &ver, error))
    return false;
  fid->f_seq = seq;
  fid->f_oid = oid;
  fid->f_ver = ver;
  return true;
}

json::object ItemToJson(const WireItem& wire) {
  const hsm_action_item& hai = wire.item.hai;
  json::object o;
  o["hai_action"] = static_cast<int64_t>(hai.hai_action);
  o["hai_fid"] = FidToJson(hai.hai_fid);
  o["hai_dfid"] = FidToJson(hai.hai_dfid);
  o["hai_extent_offset"] = Signed(hai.hai_extent.offset);
  o["hai_extent_length"] = Signed(hai.hai_extent.length);
  o["hai_cookie"] = Signed(hai.hai_cookie);
  o["hai_gid"] = Signed(hai.hai_gid);
  PutBytes(o, "hai_data", wire.item.data);
  o["hal_archive_id"] = static_cast<int64_t>(wire.archive_id);
  o["hal_flags"] = Signed(wire.hal_flags);
  o["timestamp"] = wire.timestamp_ns;
  return o;
}

bool ItemFromJson(const json::object& object, WireItem* wire,
                  std::string* error) {
  hsm_action_item& hai = wire->item.hai;
  hai = hsm_action_item{};
  uint32_t action;
  if (!GetU32(object, "hai_action", &action, error)) return false;
  hai.hai_action = action;
  for (const char* key : {"hai_fid", "hai_dfid"}) {
    const json::value* value = object.if_contains(key);
    if (!value) {
      *error = fmt::format("'{}' is missing", key);
      return false;
    }
    lu_fid fid;
    if (!FidFromJson(*value, &fid, error)) {
      *error = fmt::format("'{}': {}", key, *error);
      return false;
    }
    (std::string_view(key) == "hai_fid" ? hai.hai_fid : hai.hai_dfid) = fid;
  }
  uint64_t offset, length, cookie, gid;
  struct {
    const char* key;
    uint64_t* out;
  } fields[] = {{"hai_extent_offset", &offset},
                {"hai_extent_length", &length},
                {"hai_cookie", &cookie},
                {"hai_gid", &gid}};
  for (auto& field : fields) {
    if (!GetU64(object, field.key, field.out)) {
      *error = fmt::format("'{}' must be an integer", field.key);
      return false;
    }
  }
  hai.hai_extent.offset = offset;
  hai.hai_extent.length = length;
  hai.hai_cookie = cookie;
  hai.hai_gid = gid;
  if (!GetBytes(object, "hai_data", &wire->item.data, error)) return false;
  hai.hai_len =
      static_cast<uint32_t>(hsm::kHaiFixedSize + wire->item.data.size());
  wire->archive_id = 0;
  wire->hal_flags = 0;
  wire->timestamp_ns = 0;
  if (object.contains("hal_archive_id") &&
      !GetU32(object, "hal_archive_id", &wire->archive_id, error))
    return false;
  if (object.contains("hal_flags") &&
      !GetU64(object, "hal_flags", &wire->hal_flags)) {
    *error = "'hal_flags' must be an integer";
    return false;
  }
  uint64_t timestamp = 0;
  if (object.contains("timestamp") &&
      !GetU64(object, "timestamp", &timestamp)) {
    *error = "'timestamp' must be an integer";
    return false;
  }
  wire->timestamp_ns = static_cast<int64_t>(timestamp);
  return true;
}

bool ItemIdentityFromJson(const json::object& object, hsm_action_item* hai,
                          std::string* error) {
  *hai = hsm_action_item{};
  uint64_t cookie;
  const json::value* dfid = object.if_contains("hai_dfid");
  if (!GetU64(object, "hai_cookie", &cookie)) {
    *error = "'hai_cookie' must be an integer";
    return false;
  }
  if (!dfid || !FidFromJson(*dfid, &hai->hai_dfid, error)) {
    *error = "'hai_dfid' is missing or malformed";
    return false;
  }
  hai->hai_cookie = cookie;
  hai->hai_fid = hai->hai_dfid;
  std::string ignored;
  if (const json::value* fid = object.if_contains("hai_fid"))
    FidFromJson(*fid, &hai->hai_fid, &ignored);
  uint32_t action;
  if (GetU32(object, "hai_action", &action, &ignored)) hai->hai_action = action;
  uint64_t offset = 0, length = LUSTRE_EOF;
  GetU64(object, "hai_extent_offset", &offset);
  GetU64(object, "hai_extent_length", &length);
  hai->hai_extent.offset = offset;
  hai->hai_extent.length = length;
  hai->hai_len = sizeof(hsm_action_item);
  return true;
}

}  // namespace protocol
