// Readers of the fields of client commands, the rules every typed request
// (protocol/messages.h) is read with. A field that is present but of the
// wrong type is an error naming it, never a silent default: a `done` whose
// status is "x" must not count as a success.
//
// Thread-safety: pure functions.
#ifndef PROTOCOL_FIELDS_H_
#define PROTOCOL_FIELDS_H_

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/item_id.h"

namespace protocol {

// An optional integer field: `fallback` when absent. False with *error
// ("'KEY' must be an integer") when present but not an integer.
bool OptionalInt(const boost::json::object& m, std::string_view key,
                 int64_t fallback, int64_t* out, std::string* error);

// The same where a bad value is the caller's own error (lock) or a
// harmless default (status verbosity): false when present but not an
// integer.
bool OptionalInt(const boost::json::object& m, std::string_view key,
                 int64_t fallback, int64_t* out);

// An optional integer field that must lie in [min, max]; *error says
// "'KEY' must be an integer" or "'KEY' is out of range".
bool OptionalIntIn(const boost::json::object& m, std::string_view key,
                   int64_t fallback, int64_t min, int64_t max, int64_t* out,
                   std::string* error);

// An optional boolean field: `fallback` when absent.
bool OptionalBool(const boost::json::object& m, std::string_view key,
                  bool fallback, bool* out, std::string* error);

// The item identity a `done` or `progress` names: hai_cookie + hai_dfid.
enum class IdField { kOk, kMissing, kMalformed };
IdField ReadItemId(const boost::json::object& m, ItemId* id,
                   std::string* error);

// Writes the identity as `hai_cookie` (signed 64-bit form) and `hai_dfid`.
void PutItemId(boost::json::object& m, const ItemId& id);

}  // namespace protocol

#endif  // PROTOCOL_FIELDS_H_
