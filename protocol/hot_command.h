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
// Thread-safety: pure function.
#ifndef PROTOCOL_HOT_COMMAND_H_
#define PROTOCOL_HOT_COMMAND_H_

#include <cstddef>
#include <string_view>

#include "protocol/messages.h"

namespace protocol {

struct HotCommand {
  Command command = Command::kDone;  // kDone or kProgress
  DoneRequest done;                  // kDone
  ProgressRequest progress;          // kProgress
};

// Messages larger than this are never taken (the reader bounds them).
inline constexpr size_t kMaxHotCommandBytes = 1024;

// Reads one object at the start of `text` (whitespace before it skipped).
// True with *out and *consumed (the bytes read, whitespace included) if it
// is a hot command as described above; false otherwise, *out undefined.
bool ScanHotCommand(std::string_view text, HotCommand* out, size_t* consumed);

}  // namespace protocol

#endif  // PROTOCOL_HOT_COMMAND_H_
