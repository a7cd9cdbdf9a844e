// Escape: bytes from a peer made safe for a log line, a report line or a
// terminal. A peer chooses its mover id, its hsm data and the text of its
// errors; written raw, a newline in them forges a line of its own and a
// terminal escape sequence rewrites the screen.
//
// Thread-safety: pure functions.
#ifndef COMMON_ESCAPE_H_
#define COMMON_ESCAPE_H_

#include <string>
#include <string_view>

namespace common {

// True if `bytes` is well-formed UTF-8 as JSON parsers require it: no
// overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view bytes);

// A printable one-line form: the bytes themselves when they are valid UTF-8
// without control characters, else C-style escapes (\n, \r, \t, \\, and
// \xNN for every other control or non-UTF-8 byte). Never contains a control
// character, so never a line break; a backslash is always doubled, so an
// escape in the result cannot be mistaken for bytes the peer sent.
std::string Escape(std::string_view bytes);

// True if Escape(bytes) == bytes: nothing to escape.
bool IsPrintable(std::string_view bytes);

}  // namespace common

#endif  // COMMON_ESCAPE_H_
