// The hot replies written straight to text, without building a JSON DOM
// first: a `recv` reply carries up to a MiB of items, and building each
// item's object, serialising it and freeing it cost a third of the server's
// time per request. The text is byte for byte what serialising the DOM
// forms (RecvReplyToJson, ItemToJson, MakeReply) gives, so peers, the
// original's movers included, see no difference (wire_text_test checks it).
//
// Thread-safety: pure functions.
#ifndef PROTOCOL_WIRE_TEXT_H_
#define PROTOCOL_WIRE_TEXT_H_

#include <span>
#include <string>
#include <string_view>

#include "protocol/action_item.h"
#include "protocol/messages.h"

namespace protocol {

// Appends `text` as a JSON string (quoted, escaped as boost::json does).
void AppendJsonString(std::string* out, std::string_view text);

// An item's fields as the wire carries them, wherever they are held: a
// WireItem, or the server's own item (its hsm data after it), which is then
// written without a copy of its data.
struct ItemFields {
  const hsm_action_item& hai;
  std::string_view data;
  uint32_t archive_id = 0;
  uint64_t hal_flags = 0;
  int64_t timestamp_ns = 0;
};

// Appends serialize(ItemToJson(item)).
void AppendItemText(std::string* out, const ItemFields& item);
void AppendItemText(std::string* out, const WireItem& item);

// Room for an item's text with `data_size` bytes of plain hsm data (data to
// escape or base64 may need more: the string grows then).
size_t ItemTextBytes(size_t data_size);

// The reply in pieces: AppendRecvReplyHead, then each item's
// AppendItemText with a ',' between them, then AppendRecvReplyTail give
// what AppendRecvReplyText gives. RecvReplyFrameBytes is the room the head
// and tail take.
size_t RecvReplyFrameBytes(const ActionListHeader& header);
void AppendRecvReplyHead(std::string* out, const ActionListHeader& header);
void AppendRecvReplyTail(std::string* out, const ActionListHeader& header);

// Appends serialize(RecvReplyToJson(header, cancels, items)), for items
// held any way: fields_of(item) gives an item's ItemFields (the server
// writes its own items so, without copying their data into WireItems).
template <class Items, class FieldsOf>
void AppendRecvReplyText(std::string* out, const ActionListHeader& header,
                         std::span<const WireItem> cancels, const Items& items,
                         FieldsOf fields_of) {
  // Room for the whole reply at once: grown append by append, a reply of
  // a thousand items was copied a dozen times over.
  size_t bytes = RecvReplyFrameBytes(header);
  for (const WireItem& cancel : cancels)
    bytes += ItemTextBytes(cancel.item.data.size());
  for (const auto& item : items)
    bytes += ItemTextBytes(fields_of(item).data.size());
  out->reserve(out->size() + bytes);
  AppendRecvReplyHead(out, header);
  bool first = true;
  auto separate = [&] {
    if (!first) out->push_back(',');
    first = false;
  };
  for (const WireItem& cancel : cancels) {
    separate();
    AppendItemText(out, cancel);
  }
  for (const auto& item : items) {
    separate();
    AppendItemText(out, fields_of(item));
  }
  AppendRecvReplyTail(out, header);
}
// The same for WireItems.
void AppendRecvReplyText(std::string* out, const ActionListHeader& header,
                         std::span<const WireItem> cancels,
                         std::span<const WireItem> items);

// serialize(MakeReply(command, {})): the reply of a `done` (or any command)
// that went well, `{"command":"done"}`.
std::string OkReplyText(std::string_view command);

}  // namespace protocol

#endif  // PROTOCOL_WIRE_TEXT_H_
