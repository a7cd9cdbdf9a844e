// Failover between several servers (docs/protocol.md, "Reconnecting"):
// the servers of the `host` key are tried in order; a standby
// answers with the leader's address (docs/protocol.md, "The standby's
// answer"), which is tried next, then the following server. A round is
// over once every server of the list was tried since the last connection
// (redirects to a named leader come on top, at most one per server in a
// round, so two standbys naming each other cannot loop); the caller then
// waits (client/backoff.h) before the next round.
//
// A single host behaves as before: one attempt per round.
//
// Thread-safety: none; one owner (the preload library's receiving thread,
// the client's main thread).
#ifndef CLIENT_FAILOVER_H_
#define CLIENT_FAILOVER_H_

#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/backoff.h"
#include "client/session.h"
#include "config/host_list.h"

namespace client {

using config::ServerAddress;

// True if `reply` is a standby's answer: status EAGAIN and an error that
// starts with "standby" or a "leader" field. *leader: the leader it names,
// "" when it names none.
bool IsStandbyAnswer(const boost::json::object& reply, std::string* leader);

class ServerList {
 public:
  // `servers` must not be empty (config::ServerAddresses never is).
  explicit ServerList(std::vector<ServerAddress> servers);

  // The server to try now.
  const ServerAddress& Current() const;
  // The attempt on Current() failed. True: try Current() now (another
  // server); false: the round is over, wait before the next one, which
  // starts at Current().
  bool Failed();
  // Current() answered as a standby naming `leader` (nullopt: unknown).
  // The leader is tried next unless it is the server that answered or this
  // round has followed as many redirects as there are servers. Returns as
  // Failed().
  bool Standby(std::optional<ServerAddress> leader);
  // Connected to Current(): a new round starts from it when it is lost.
  void Connected();
  // The connection to Current() was lost. The next round starts with the
  // server after it (the lost one comes last), or with `leader` when a
  // server that stepped down named its successor.
  void Lost(std::optional<ServerAddress> leader = std::nullopt);
  // The last round that ended met a standby: servers are up and a leader is
  // being chosen, worth trying again soon.
  bool standby_seen() const { return last_round_standby_; }
  size_t size() const { return servers_.size(); }
  const std::vector<ServerAddress>& servers() const { return servers_; }

 private:
  void Advance();
  bool EndOfRound();

  std::vector<ServerAddress> servers_;
  size_t index_ = 0;  // the list's server tried now, or next after redirect_
  std::optional<ServerAddress> redirect_;  // a leader named by a standby
  size_t tried_ = 0;                       // list servers tried this round
  size_t redirects_ = 0;                   // this round
  bool standby_this_round_ = false;
  bool last_round_standby_ = false;
};

// A standby seen in the last round caps the wait before the next at this:
// a leader is being chosen (the lease's time to live at most).
inline constexpr std::chrono::milliseconds kStandbyRetryCap{1000};

// The wait before the next round: the backoff's draw, capped at
// kStandbyRetryCap when the round met a standby.
std::chrono::milliseconds RoundDelay(Backoff& backoff,
                                     const ServerList& servers);

// One attempt on one server: connect, authenticate, ehlo.
struct Attempt {
  enum class Result {
    kConnected,
    kFailed,   // worth trying again: the server may answer later
    kStandby,  // a standby answered: try the leader it named, or the next
    kRefused,  // definitive: the same attempt gets the same answer
  };
  Result result = Result::kFailed;
  std::string error;
  std::string leader;  // kStandby: the leader it named ("" unknown)
};

// Connects `session` to `to`, presents `token` (if not empty) and sends
// `ehlo`, whose reply goes to *reply. kConnected once the ehlo is
// answered, whatever its status (the caller judges a refusal); kStandby
// when a standby answers the auth or the ehlo; kRefused when the token is
// refused; kFailed otherwise. *error and the messages name the server.
// The session is closed unless kConnected.
Attempt Introduce(Session& session, const ServerAddress& to,
                  const std::string& token, const boost::json::object& ehlo,
                  boost::json::object* reply, int timeout_ms = 30'000);

// One round over `servers` (see above): `attempt` on each in turn,
// following standbys' answers. kConnected: servers.Current() is the server
// connected to. kRefused: one server's definitive refusal, in *error.
// kFailed: the round is over, *error names each server's failure.
Attempt::Result TryRound(
    ServerList& servers,
    const std::function<Attempt(const ServerAddress&)>& attempt,
    std::string* error);

}  // namespace client

#endif  // CLIENT_FAILOVER_H_
