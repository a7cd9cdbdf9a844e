// The readers of command fields moved to protocol/fields.h; these names
// keep the server's callers unchanged until they read typed requests.
#ifndef SERVER_COMMAND_FIELDS_H_
#define SERVER_COMMAND_FIELDS_H_

#include "protocol/fields.h"

namespace server {

using protocol::IdField;
using protocol::OptionalBool;
using protocol::OptionalInt;
using protocol::OptionalIntIn;
using protocol::ReadItemId;

}  // namespace server

#endif  // SERVER_COMMAND_FIELDS_H_
