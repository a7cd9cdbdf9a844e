// Parser of Lustre's hsm/active_requests text (docs/operations.md, what -Q
// reads), the input of `coordinatool-client -Q`: one request per line, as the
// MDT's debugfs file or `lctl get_param -n mdt.*.hsm.active_requests` prints
// it.
//
// Thread-safety: pure functions.
#ifndef CLIENT_ACTIVE_REQUESTS_H_
#define CLIENT_ACTIVE_REQUESTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "protocol/action_item.h"

namespace client {

// Parses one line (without its newline). Returns false with *error on an
// unparsable line. A malformed fid= or dfid= is only reported in *warning.
bool ParseActiveRequestLine(std::string_view line, protocol::WireItem* item,
                            std::string* error, std::string* warning);

// Parses a whole text. Every line must end with a newline; `lctl` header
// lines ("mdt.*=") are skipped; an empty line, text after the last newline
// or any unparsable line fails the whole parse (nothing is returned) with
// *error naming the line number.
bool ParseActiveRequests(std::string_view text,
                         std::vector<protocol::WireItem>* items,
                         std::vector<std::string>* warnings,
                         std::string* error);

}  // namespace client

#endif  // CLIENT_ACTIVE_REQUESTS_H_
