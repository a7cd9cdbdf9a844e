// A stored request read back without a JSON DOM. At start the server reads
// every request the store holds (a million and more): parsing each into a
// boost::json object, reading it and freeing it was most of the recovery.
// What the store holds is almost always the text AppendItemText
// (protocol/wire_text.h) wrote, so this scanner reads exactly that shape.
//
// It is a fast path only, never a second reader: it takes the text only
// when it is byte for byte in the writer's form (the keys in the writer's
// order, no blanks, integers without fraction or exponent, strings without
// escapes) and gives the same WireItem that ItemFromJson gives for the
// parsed text. For anything else (another key order, an escape, a value out
// of range, invalid UTF-8, trailing bytes) it answers false and the caller
// parses the text with boost::json and judges it as always, errors included.
//
// Thread-safety: pure function.
#ifndef PROTOCOL_ITEM_SCAN_H_
#define PROTOCOL_ITEM_SCAN_H_

#include <string_view>

#include "protocol/action_item.h"

namespace protocol {

// Reads `text` when it is the whole of serialize(ItemToJson(item)), as
// AppendItemText writes it, optionally with one more string member
// `extra_key` last (`,"<extra_key>":"<value>"` before the closing brace).
// True with *item as ItemFromJson reads it and *extra the member's value
// (empty when absent; it points into `text`); false otherwise, *item and
// *extra undefined.
bool ScanItemText(std::string_view text, std::string_view extra_key,
                  WireItem* item, std::string_view* extra);

}  // namespace protocol

#endif  // PROTOCOL_ITEM_SCAN_H_
