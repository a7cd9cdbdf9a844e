// Readers of the fields of client commands. A field that is present but of
// the wrong type is an error naming it, never a silent default: a `done`
// whose status is "x" must not count as a success.
//
// Thread-safety: pure functions.
#ifndef SERVER_COMMAND_FIELDS_H_
#define SERVER_COMMAND_FIELDS_H_

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/item.h"

namespace server {

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

}  // namespace server

#endif  // SERVER_COMMAND_FIELDS_H_
