#include "client/failover.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "protocol/messages.h"

namespace client {

namespace json = boost::json;

bool IsStandbyAnswer(const json::object& reply, std::string* leader) {
  const protocol::ReplyHeader header = protocol::ReadReplyHeader(reply);
  if (header.status != EAGAIN) return false;
  const json::value* named = reply.if_contains("leader");
  const bool has_leader = named && named->is_string();
  if (!has_leader && !header.error.starts_with("standby")) return false;
  *leader = has_leader ? std::string(named->get_string()) : std::string();
  return true;
}

ServerList::ServerList(std::vector<ServerAddress> servers)
    : servers_(std::move(servers)) {
  if (servers_.empty()) servers_.push_back({"coordinatool", "5123"});
}

const ServerAddress& ServerList::Current() const {
  return redirect_ ? *redirect_ : servers_[index_];
}

void ServerList::Advance() {
  index_ = (index_ + 1) % servers_.size();
  ++tried_;
}

bool ServerList::EndOfRound() {
  if (redirect_ || tried_ < servers_.size()) return true;
  last_round_standby_ = standby_this_round_;
  standby_this_round_ = false;
  tried_ = 0;
  redirects_ = 0;
  return false;
}

bool ServerList::Failed() {
  if (redirect_)
    redirect_.reset();
  else
    Advance();
  return EndOfRound();
}

bool ServerList::Standby(std::optional<ServerAddress> leader) {
  standby_this_round_ = true;
  const ServerAddress answered = Current();
  if (redirect_)
    redirect_.reset();
  else
    Advance();
  if (leader && *leader != answered && redirects_ < servers_.size()) {
    redirect_ = std::move(leader);
    ++redirects_;
  }
  return EndOfRound();
}

void ServerList::Connected() {
  // A named leader that is in the list is that entry: when it is lost, the
  // next round starts after it.
  if (redirect_) {
    auto it = std::find(servers_.begin(), servers_.end(), *redirect_);
    if (it != servers_.end()) {
      index_ = static_cast<size_t>(it - servers_.begin());
      redirect_.reset();
    }
  }
  tried_ = 0;
  redirects_ = 0;
  standby_this_round_ = false;
  last_round_standby_ = false;
}

void ServerList::Lost(std::optional<ServerAddress> leader) {
  const ServerAddress lost = Current();
  if (redirect_)
    redirect_.reset();  // index_ is already the server after the one
                        // that named it
  else
    index_ = (index_ + 1) % servers_.size();
  tried_ = 0;
  redirects_ = 0;
  if (leader && *leader != lost) {
    redirect_ = std::move(leader);
    ++redirects_;
  }
}

std::chrono::milliseconds RoundDelay(Backoff& backoff,
                                     const ServerList& servers) {
  const std::chrono::milliseconds delay = backoff.NextDelay();
  return servers.standby_seen() ? std::min(delay, kStandbyRetryCap) : delay;
}

Attempt Introduce(Session& session, const ServerAddress& to,
                  const std::string& token, const json::object& ehlo,
                  json::object* reply, int timeout_ms) {
  Attempt attempt;
  auto fail = [&](Attempt::Result result) {
    session.Close();
    attempt.result = result;
    return attempt;
  };
  if (!session.Connect(to.host, to.port, &attempt.error))
    return fail(Attempt::Result::kFailed);
  bool refused = false;
  if (!token.empty() &&
      !session.Authenticate(token, &attempt.error, &refused, reply)) {
    if (refused && IsStandbyAnswer(*reply, &attempt.leader))
      return fail(Attempt::Result::kStandby);
    attempt.error = fmt::format("{}: {}", to.ToString(), attempt.error);
    return fail(refused ? Attempt::Result::kRefused : Attempt::Result::kFailed);
  }
  if (!session.Call(ehlo, reply, timeout_ms, &attempt.error)) {
    attempt.error = fmt::format("{}: ehlo: {}", to.ToString(), attempt.error);
    return fail(Attempt::Result::kFailed);
  }
  if (IsStandbyAnswer(*reply, &attempt.leader))
    return fail(Attempt::Result::kStandby);
  attempt.result = Attempt::Result::kConnected;
  return attempt;
}

Attempt::Result TryRound(
    ServerList& servers,
    const std::function<Attempt(const ServerAddress&)>& attempt,
    std::string* error) {
  std::string failures;
  for (;;) {
    const ServerAddress to = servers.Current();
    Attempt outcome = attempt(to);
    bool more = false;
    switch (outcome.result) {
      case Attempt::Result::kConnected:
        servers.Connected();
        return outcome.result;
      case Attempt::Result::kRefused:
        *error = outcome.error;
        servers.Failed();
        return outcome.result;
      case Attempt::Result::kStandby: {
        std::optional<ServerAddress> leader;
        std::string ignored;
        if (!outcome.leader.empty())
          leader =
              config::ParseServerAddress(outcome.leader, to.port, &ignored);
        outcome.error =
            fmt::format("{}: standby, {}", to.ToString(),
                        leader ? "the leader is " + leader->ToString()
                               : std::string("no leader yet"));
        more = servers.Standby(std::move(leader));
        break;
      }
      case Attempt::Result::kFailed:
        more = servers.Failed();
        break;
    }
    failures += (failures.empty() ? "" : "; ") + outcome.error;
    if (!more) {
      *error = failures;
      return Attempt::Result::kFailed;
    }
  }
}

}  // namespace client
