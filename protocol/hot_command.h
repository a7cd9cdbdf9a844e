// The hot commands read without a JSON DOM. A mover sends one `done` per
// item (and `progress` heartbeats); parsing each into a boost::json object,
// reading it and freeing it cost more than the rest of its handling. This
// scanner reads such a message straight from the received bytes.
//
// It is a fast path only, never a second reader of the protocol: it takes
// a message only when it is a plain `done` or `progress` object whose every
// field it understands and whose meaning is certain, and gives the same
// DoneRequest / ProgressRequest that Parse() gives for the same text. For
// anything else (another command, a field out of range, an escape in a
// string, a nested or duplicated key, a number with a fraction, text cut
// at the end of the buffer) it answers false and the caller hands the
// bytes to JsonStreamReader, which reads and judges them as always, errors
// included.
//
// The batch form of `done` ({"command":"done","items":[...]}, many
// completions in one message, docs/protocol.md) is read the same way: taken
// when every entry is plain, else left whole to the reader, which reads each
// entry alone and refuses only the bad ones.
//
// Thread-safety: pure function.
#ifndef PROTOCOL_HOT_COMMAND_H_
#define PROTOCOL_HOT_COMMAND_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "protocol/messages.h"

namespace protocol {

struct HotCommand {
  Command command = Command::kDone;  // kDone or kProgress
  DoneRequest done;                  // kDone, one completion
  ProgressRequest progress;          // kProgress
  // kDone in the batch form: its entries, in order (`done` unused). Kept
  // between calls: its capacity is reused.
  bool batch = false;
  std::vector<DoneRequest> dones;
};

// Messages larger than this are never taken (the reader bounds them).
inline constexpr size_t kMaxHotCommandBytes = 1024;
// The same for the batch form: a mover sends at most kDoneItemsPerMessage
// entries per message (about 110 bytes each), well within it.
inline constexpr size_t kMaxHotBatchBytes = 64 * 1024;

enum class HotScan {
  kTaken,   // a hot command, read
  kNotHot,  // anything else: the reader's
  kCut,     // the text ends before the scanner could tell: more may come
};

// As ScanHotCommand, telling a message that may still be a hot command
// once more bytes come (kCut) from one that is not. `max_bytes` bounds the
// message further (the connection's own bound on a message).
HotScan ScanHot(std::string_view text, HotCommand* out, size_t* consumed,
                size_t max_bytes = kMaxHotBatchBytes);

// Reads one object at the start of `text` (whitespace before it skipped).
// True with *out and *consumed (the bytes read, whitespace included) if it
// is a hot command as described above; false otherwise, *out undefined.
bool ScanHotCommand(std::string_view text, HotCommand* out, size_t* consumed);

}  // namespace protocol

#endif  // PROTOCOL_HOT_COMMAND_H_
