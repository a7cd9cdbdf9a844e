#include "protocol/fields.h"

#include <fmt/format.h>

#include "protocol/action_item.h"

namespace protocol {

namespace json = boost::json;

bool OptionalInt(const json::object& m, std::string_view key, int64_t fallback,
                 int64_t* out, std::string* error) {
  const json::value* v = m.if_contains(key);
  if (!v) {
    *out = fallback;
    return true;
  }
  if (v->is_int64()) {
    *out = v->get_int64();
    return true;
  }
  if (v->is_uint64()) {
    *out = static_cast<int64_t>(v->get_uint64());
    return true;
  }
  *error = fmt::format("'{}' must be an integer", key);
  return false;
}

bool OptionalInt(const json::object& m, std::string_view key, int64_t fallback,
                 int64_t* out) {
  std::string ignored;
  return OptionalInt(m, key, fallback, out, &ignored);
}

bool OptionalIntIn(const json::object& m, std::string_view key,
                   int64_t fallback, int64_t min, int64_t max, int64_t* out,
                   std::string* error) {
  if (!OptionalInt(m, key, fallback, out, error)) return false;
  const json::value* v = m.if_contains(key);
  if ((v && v->is_uint64()) || *out < min || *out > max) {
    *error = fmt::format("'{}' is out of range", key);
    return false;
  }
  return true;
}

bool OptionalBool(const json::object& m, std::string_view key, bool fallback,
                  bool* out, std::string* error) {
  const json::value* v = m.if_contains(key);
  if (!v) {
    *out = fallback;
    return true;
  }
  if (!v->is_bool()) {
    *error = fmt::format("'{}' must be a boolean", key);
    return false;
  }
  *out = v->get_bool();
  return true;
}

IdField ReadItemId(const json::object& m, ItemId* id, std::string* error) {
  const json::value* cookie = m.if_contains("hai_cookie");
  const json::value* dfid = m.if_contains("hai_dfid");
  if (!cookie || !dfid) return IdField::kMissing;
  if (!GetU64(m, "hai_cookie", &id->cookie)) {
    *error = "'hai_cookie' must be an integer";
    return IdField::kMalformed;
  }
  std::string why;
  if (!FidFromJson(*dfid, &id->dfid, &why)) {
    *error = fmt::format("'hai_dfid': {}", why);
    return IdField::kMalformed;
  }
  return IdField::kOk;
}

void PutItemId(json::object& m, const ItemId& id) {
  m["hai_cookie"] = static_cast<int64_t>(id.cookie);
  m["hai_dfid"] = FidToJson(id.dfid);
}

}  // namespace protocol
