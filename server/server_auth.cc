// Server: authentication and roles (docs/auth.md). The rules are the
// auth/ components'; here is only where the server applies them: each
// command checked against the connection's grant, the `auth` command, the
// mover id an ehlo claims, and the reload of the auth file.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>

#include "auth/auth_file.h"
#include "auth/roles.h"
#include "hsm/fid.h"
#include "protocol/messages.h"
#include "server/server.h"

namespace server {

namespace json = boost::json;

namespace {

// Unknown tokens a connection may present before it is closed: a token is
// not guessed one connection at a time, and a client that got its file
// wrong learns it at the first refusal.
constexpr int kMaxFailedAuths = 3;
constexpr int kLoggedRefusals = 5;

// What a refused connection is, for its error and the log.
std::string Who(const Connection& c) {
  return c.grant.name.empty() ? std::string(
                                    "this connection (no credentials "
                                    "the auth file knows)")
                              : c.grant.name;
}

}  // namespace

bool Server::LoadAuth(std::string* error) {
  const std::string& path = options_.settings.auth_file;
  if (path.empty()) return true;
  std::vector<auth::AuthRule> rules;
  if (!auth::LoadAuthFile(path, geteuid(), &rules, error)) {
    *error = "auth_file " + *error;
    return false;
  }
  authorizer_.emplace(std::move(rules));
  spdlog::info("authentication on: {} rules from {}", authorizer_->rules(),
               path);
  return true;
}

void Server::ReloadAuth() {
  const std::string& path = options_.settings.auth_file;
  if (path.empty() || stopped_) return;
  std::vector<auth::AuthRule> rules;
  std::string error;
  if (!auth::LoadAuthFile(path, geteuid(), &rules, &error)) {
    spdlog::error("reload: auth_file {}: keeping the rules in force", error);
    return;
  }
  authorizer_.emplace(std::move(rules));
  spdlog::info("reload: {} rules from {}", authorizer_->rules(), path);
  // Open connections get the new file's grant: a token or an identity
  // taken out of the file loses its roles at once, and a mover whose
  // identity may no longer use its id is closed (its work waits for its
  // grace time, as after any disconnection).
  std::vector<std::shared_ptr<Connection>> lost;
  for (const auto& c : connections_) {
    if (!c->granted) continue;
    auth::Regrant regrant =
        auth::RegrantFor(*authorizer_, {c->tls_identities, c->token},
                         c->identified ? std::optional(c->id) : std::nullopt);
    c->grant = std::move(regrant.grant);
    if (regrant.close) lost.push_back(c);
  }
  for (const auto& c : lost) {
    spdlog::warn("{}: {} may no longer use mover id {}: closing", c->peer(),
                 Who(*c), c->id);
    c->Close("its identity may no longer use its mover id");
  }
}

const auth::Grant& Server::GrantOf(Connection& c) {
  if (!c.granted) {
    c.granted = true;
    c.grant = authorizer_->GrantFor({c.tls_identities, c.token});
    if (!c.tls_identities.empty())
      spdlog::info("{}: certificate {}: roles {}", c.peer(),
                   c.tls_identities.front(), c.grant.roles.Names());
  }
  return c.grant;
}

bool Server::Permitted(Connection& c, std::string_view command,
                       const json::object& m) {
  if (!authorizer_) return true;
  const auth::Grant& grant = GrantOf(c);
  auth::Need need = auth::NeedOf(command, command == "ehlo" && m.contains("id"),
                                 c.identified);
  if (auth::Satisfies(grant.roles, need)) return true;
  // Refused: the connection stays open and nothing changes.
  std::string error =
      fmt::format("permission denied: '{}' needs {}; {} has {}", command,
                  auth::Describe(need), Who(c),
                  grant.roles.empty() ? std::string("no role")
                                      : "the roles " + grant.roles.Names());
  // Logged for the first few only: a peer repeating a refused command
  // does not flood the log.
  if (++c.refusals <= kLoggedRefusals)
    spdlog::warn("{}: {}{}", c.peer(), error,
                 c.refusals == kLoggedRefusals
                     ? " (further refusals on this connection not logged)"
                     : "");
  SendWhenDurable(c, protocol::MakeReply(command, {EACCES, error}));
  return false;
}

void Server::Auth(Connection& c, const json::object& m) {
  protocol::AuthRequest request;
  std::string error;
  if (!protocol::Parse(m, &request, &error))
    return Reply(c, "auth", EINVAL, error);
  protocol::AuthReply reply;
  if (!authorizer_) {
    // No authentication: every peer may do everything; a client set up
    // with a token works with this server too.
    reply.role = auth::Roles::All().Names();
    return SendWhenDurable(c, protocol::ToJson(reply));
  }
  if (c.state != Connection::State::kInit)
    return Reply(c, "auth", EINVAL, "auth must come before ehlo");
  const auth::Digest digest = auth::DigestOf(request.token);
  if (!authorizer_->KnowsToken(digest)) {
    ++c.failed_auths;
    spdlog::warn("{}: unknown token ({} of {} tries)", c.peer(), c.failed_auths,
                 kMaxFailedAuths);
    reply.header = {EACCES, "unknown token"};
    if (c.failed_auths >= kMaxFailedAuths) {
      SendWhenDurable(c, protocol::ToJson(reply));
      CloseAfterReplies(c, "too many unknown tokens");
      return;
    }
    return SendWhenDurable(c, protocol::ToJson(reply));
  }
  c.token = digest;
  c.grant = authorizer_->GrantFor({c.tls_identities, c.token});
  c.granted = true;
  spdlog::info("{}: authenticated as {}: roles {}", c.peer(), c.grant.name,
               c.grant.roles.Names());
  reply.role = c.grant.roles.Names();
  reply.identity = c.grant.name;
  SendWhenDurable(c, protocol::ToJson(reply));
}

std::optional<std::string> Server::CheckMoverId(Connection& c,
                                                const std::string& id) {
  if (!authorizer_) return std::nullopt;
  const auth::Grant& grant = GrantOf(c);
  if (!grant.MayUseMoverId(id))
    return fmt::format("permission denied: {} may not use mover id '{}'",
                       Who(c), id);
  if (!id_holders_.MayClaim(id, grant.name))
    return fmt::format(
        "permission denied: mover id '{}' is held by another identity "
        "(connected, or within its grace time)",
        id);
  return std::nullopt;
}

bool Server::MayReannounce(const Connection& c, const Item& item) {
  if (!authorizer_ || !item.running() || item.owner == c.id) return true;
  const std::string owner = item.owner.str();
  if (id_holders_.HolderOf(owner) == c.grant.name) return true;
  spdlog::warn(
      "{}: mover {} re-announces {} cookie {:#x}, which runs on mover {} of "
      "another identity: not taken",
      c.peer(), c.id, hsm::FormatFid(item.id().dfid), item.id().cookie, owner);
  return false;
}

}  // namespace server
