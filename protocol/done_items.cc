#include "protocol/done_items.h"

#include <cerrno>
#include <climits>

#include "protocol/fields.h"

namespace protocol {

namespace json = boost::json;

bool AnnouncesDoneItems(const json::object& ehlo_reply) {
  const json::value* batch = ehlo_reply.if_contains(kDoneItemsKey);
  return batch && batch->is_bool() && batch->get_bool();
}

void AnnounceDoneItems(json::object* ehlo_reply) {
  (*ehlo_reply)[kDoneItemsKey] = true;
}

bool SaysQuietDone(const json::object& ehlo) {
  const json::value* quiet = ehlo.if_contains(kQuietDoneKey);
  return quiet && quiet->is_bool() && quiet->get_bool();
}

void SayQuietDone(json::object* ehlo) { (*ehlo)[kQuietDoneKey] = true; }

bool IsDoneItems(const json::object& m) { return m.contains("items"); }

bool Parse(const json::object& m, DoneItemsRequest* out, std::string* error) {
  *out = DoneItemsRequest();
  const json::value* items = m.if_contains("items");
  if (!items || !items->is_array()) {
    *error = "'items' must be an array";
    return false;
  }
  out->items.reserve(items->get_array().size());
  for (const json::value& entry : items->get_array()) {
    DoneItemsEntry& read = out->items.emplace_back();
    if (!entry.is_object())
      read.error = "not an object";
    else if (!Parse(entry.get_object(), &read.done, &read.error) &&
             read.error.empty())
      read.error = "unreadable";
  }
  return true;
}

json::object ToJson(const DoneItemsRequest& request) {
  json::array items;
  items.reserve(request.items.size());
  for (const DoneItemsEntry& entry : request.items) {
    if (!entry.error.empty()) continue;
    // A `done` without its "command", fields in the same order.
    json::object one;
    for (const auto& field : ToJson(entry.done))
      if (field.key() != "command") one.emplace(field.key(), field.value());
    items.push_back(std::move(one));
  }
  json::object m{{"command", CommandName(Command::kDone)}};
  m["items"] = std::move(items);
  return m;
}

void Parse(const json::object& m, DoneItemsReply* out) {
  *out = DoneItemsReply();
  out->header = ReadReplyHeader(m);
  OptionalInt(m, "done", 0, &out->done);
  const json::value* failed = m.if_contains("failed");
  if (!failed || !failed->is_array()) return;
  for (const json::value& f : failed->get_array()) {
    if (!f.is_object()) continue;
    DoneItemsFailure failure;
    OptionalInt(f.get_object(), "index", 0, &failure.index);
    int64_t status = 0;
    OptionalInt(f.get_object(), "status", 0, &status);
    failure.status = status < INT_MIN || status > INT_MAX
                         ? EPROTO
                         : static_cast<int>(status);
    const json::value* why = f.get_object().if_contains("error");
    if (why && why->is_string()) failure.error = why->get_string();
    out->failed.push_back(std::move(failure));
  }
}

json::object ToJson(const DoneItemsReply& reply) {
  json::object fields{{"done", reply.done}};
  if (!reply.failed.empty()) {
    json::array failed;
    for (const DoneItemsFailure& f : reply.failed)
      failed.push_back(json::object{
          {"index", f.index}, {"status", f.status}, {"error", f.error}});
    fields["failed"] = std::move(failed);
  }
  return MakeReply(CommandName(Command::kDone), reply.header,
                   std::move(fields));
}

}  // namespace protocol
