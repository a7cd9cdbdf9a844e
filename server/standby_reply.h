// The standby's answer (docs/protocol.md, "The standby's answer"): a
// server that does not lead answers every message but `status` with
//   {"command": <cmd>, "status": 11, "error": "standby: the leader is
//    <host:port>", "leader": "<host:port>"}
// ("leader" left out, and the error "standby: no leader yet", when it does
// not know one), then closes the connection once the answer is written.
// Movers and clients (client/failover.h) then try the leader it names,
// else the next server of their list. EAGAIN: asking again elsewhere, or
// later, works.
//
// Use (the server in standby mode), before the permission check, so that a
// mover's `auth` gets it too:
//   if (standby && server::StandbyAnswers(command))
//     return server::AnswerAsStandby(c, protocol::CommandName(command),
//                                    leader_address);
//
// Thread-safety: pure functions, and one that writes to a Connection (the
// server's loop).
#ifndef SERVER_STANDBY_REPLY_H_
#define SERVER_STANDBY_REPLY_H_

#include <boost/json.hpp>
#include <string_view>

#include "protocol/messages.h"

namespace server {

class Connection;

// The status of the answer: EAGAIN.
inline constexpr int kStandbyStatus = 11;

// The answer to `command`; `leader` "host:port", empty when unknown.
boost::json::object StandbyReply(std::string_view command,
                                 std::string_view leader);

// Whether a standby answers `command` with StandbyReply (every command but
// `status`, which says the server's role).
bool StandbyAnswers(protocol::Command command);

// Sends StandbyReply(command, leader) on `connection`, then closes it once
// the answer has left (what the peer sends meanwhile gets the same answer).
void AnswerAsStandby(Connection& connection, std::string_view command,
                     std::string_view leader);

}  // namespace server

#endif  // SERVER_STANDBY_REPLY_H_
