// Many `done`s in one message (docs/protocol.md, "Many dones in one
// message"): {"command":"done","items":[{done fields}, ...]}, each entry a
// `done` without its "command". A protocol extension: the server announces
// it in its ehlo reply (`"done_items": true`), and a mover sends the batch
// form only to a server that did: the original, and older servers, know one
// `done` per message. Each entry is read alone: a bad one costs only
// itself, and the reply names it.
//
// Thread-safety: pure functions.
#ifndef PROTOCOL_DONE_ITEMS_H_
#define PROTOCOL_DONE_ITEMS_H_

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/messages.h"

namespace protocol {

// The most entries a mover puts in one message (about 28 KB): the server
// reads such a message without a DOM (protocol/hot_command.h). It takes
// larger ones too, through its JSON reader.
inline constexpr size_t kDoneItemsPerMessage = 256;

// The ehlo reply's field that announces the extension.
inline constexpr const char* kDoneItemsKey = "done_items";
// True if an ehlo reply says the server takes the batch form (`true`, not
// any other value).
bool AnnouncesDoneItems(const boost::json::object& ehlo_reply);
// Adds the announcement to an ehlo reply.
void AnnounceDoneItems(boost::json::object* ehlo_reply);

// Quiet dones (docs/protocol.md, "Quiet dones"): a mover that reads no
// `done` acknowledgement (the preload library) asks in its ehlo for none,
// `"quiet_done": true`; a server that honours it says the same in its ehlo
// reply, and then answers that connection's `done`s only to refuse one. It
// saves the server a write and the mover a wake-up per `done`. The
// original ignores the field and acknowledges every `done`, which such a
// mover reads and drops as before.
inline constexpr const char* kQuietDoneKey = "quiet_done";
// True if an ehlo (request or reply) says `"quiet_done": true` (not any
// other value).
bool SaysQuietDone(const boost::json::object& ehlo);
// Adds `"quiet_done": true` to an ehlo request or reply.
void SayQuietDone(boost::json::object* ehlo);

struct DoneItemsEntry {
  std::string error;  // the entry's refusal, as Parse(DoneRequest) says it
  DoneRequest done;   // meaningful when `error` is empty
};
struct DoneItemsRequest {
  std::vector<DoneItemsEntry> items;
};
// A `done` message in the batch form: it has "items".
bool IsDoneItems(const boost::json::object& m);
// Errors: "'items' must be an array" (empty: nothing to end). An entry
// that is not an object: "not an object"; else its DoneRequest error.
bool Parse(const boost::json::object& m, DoneItemsRequest* out,
           std::string* error);
// Entries with an error are not written.
boost::json::object ToJson(const DoneItemsRequest& request);

// One refused entry of a batch: its index in `items`, an errno and why.
struct DoneItemsFailure {
  int64_t index = 0;
  int status = 0;
  std::string error;
};
// {"done":N,"command":"done"} with N the entries taken; when some are
// refused, `status` and `error` say the first refusal and `failed` lists
// each.
struct DoneItemsReply {
  ReplyHeader header;
  int64_t done = 0;
  std::vector<DoneItemsFailure> failed;
};
void Parse(const boost::json::object& m, DoneItemsReply* out);
boost::json::object ToJson(const DoneItemsReply& reply);

}  // namespace protocol

#endif  // PROTOCOL_DONE_ITEMS_H_
