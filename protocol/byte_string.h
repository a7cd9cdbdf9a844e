// Byte strings in JSON (docs/protocol.md, "Byte strings"). Lustre's hsm
// data is bytes, JSON strings are UTF-8: a byte string travels as the plain
// JSON string `key` when its bytes are valid UTF-8 (NUL included, written
// \u0000), and otherwise as `key_base64`, the standard base64 (RFC 4648,
// padded) of the exact bytes, with no `key`. Readers take exactly one of
// the two.
//
// Thread-safety: pure functions.
#ifndef PROTOCOL_BYTE_STRING_H_
#define PROTOCOL_BYTE_STRING_H_

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace protocol {

// True if `bytes` is well-formed UTF-8 as JSON parsers require it: no
// overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view bytes);

std::string Base64Encode(std::string_view bytes);
// Strict: padded, standard alphabet, no blanks; false on anything else.
bool Base64Decode(std::string_view text, std::string* bytes);

// Writes `bytes` under `key`, or under `key` + "_base64" (erasing `key`)
// when they are not valid UTF-8.
void PutBytes(boost::json::object& object, std::string_view key,
              std::string_view bytes);

// Reads the byte string stored under `key` or `key` + "_base64". False with
// *error naming the key when both or neither are present, or when the value
// is not a string or not base64.
bool GetBytes(const boost::json::object& object, std::string_view key,
              std::string* bytes, std::string* error);

// A printable form for logs and terminals: common::Escape (common/escape.h).
std::string Printable(std::string_view bytes);

}  // namespace protocol

#endif  // PROTOCOL_BYTE_STRING_H_
