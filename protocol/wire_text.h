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

// Appends serialize(ItemToJson(item)).
void AppendItemText(std::string* out, const WireItem& item);

// Appends serialize(RecvReplyToJson(header, cancels, items)).
void AppendRecvReplyText(std::string* out, const ActionListHeader& header,
                         std::span<const WireItem> cancels,
                         std::span<const WireItem> items);

// serialize(MakeReply(command, {})): the reply of a `done` (or any command)
// that went well, `{"command":"done"}`.
std::string OkReplyText(std::string_view command);

}  // namespace protocol

#endif  // PROTOCOL_WIRE_TEXT_H_
