#include "client/upcall/upcall_client.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "client/failover.h"
#include "client/tls_settings.h"
#include "config/host_list.h"
#include "hsm/fid.h"

namespace client::upcall {

namespace json = boost::json;

int OpenSession(const config::ClientSettings& settings,
                const std::string& token, const protocol::EhloRequest& ehlo,
                Session* session, std::string* error, std::string* server) {
  session->set_tls(TlsFromSettings(settings));
  // One round over the servers, following a standby to the leader
  // (client/failover.h); the callers retry as they did with one server.
  ServerList servers(config::ServerAddresses(settings));
  const json::object ehlo_json = protocol::ToJson(ehlo);
  json::object reply;
  switch (TryRound(
      servers,
      [&](const ServerAddress& to) {
        return Introduce(*session, to, token, ehlo_json, &reply);
      },
      error)) {
    case Attempt::Result::kConnected:
      break;
    case Attempt::Result::kRefused:
      return EACCES;
    case Attempt::Result::kFailed:
    case Attempt::Result::kStandby:
      return ECONNREFUSED;
  }
  protocol::EhloReply parsed;
  protocol::Parse(reply, &parsed);
  if (parsed.header.status != 0) {
    session->Close();
    *error = fmt::format("ehlo refused: {}", parsed.header.error);
    return parsed.header.status;
  }
  if (server) *server = servers.Current().ToString();
  return 0;
}

int QueueUpcall(const config::ClientSettings& settings,
                const std::string& token,
                const protocol::UpcallRequest& request, int timeout_ms,
                std::string* error) {
  Session session;
  if (int rc = OpenSession(settings, token, protocol::EhloRequest{}, &session,
                           error);
      rc != 0)
    return rc;
  json::object reply;
  if (!session.Call(protocol::ToJson(request), &reply, timeout_ms, error)) {
    const bool timed_out = *error == "timed out";
    *error = fmt::format("no answer from the server: {}",
                         timed_out ? "timed out (the requests may not be "
                                     "durable)"
                                   : *error);
    return timed_out ? ETIMEDOUT : EIO;
  }
  protocol::UpcallReply parsed;
  protocol::Parse(reply, &parsed);
  if (parsed.header.status != 0) {
    *error = fmt::format("refused by the server: {}", parsed.header.error);
    return parsed.header.status;
  }
  return 0;
}

std::vector<std::string> HsmUpcallCommand(const WorkerCommand& command,
                                          const std::string& fsname,
                                          const protocol::WireItem& item) {
  const hsm_action_item& hai = item.item.hai;
  if (!protocol::IsUpcalledCookie(hai.hai_cookie) ||
      !protocol::IsUpcallArchive(item.archive_id))
    return {};
  const char* action = hai.hai_action == HSMA_ARCHIVE  ? "ARCHIVE"
                       : hai.hai_action == HSMA_REMOVE ? "REMOVE"
                                                       : nullptr;
  if (action == nullptr) return {};
  std::vector<std::string> argv = {command.lfs, "hsm_upcall"};
  if (!command.mntpath.empty()) {
    argv.push_back("--mntpath");
    argv.push_back(command.mntpath);
  }
  const std::string& data = item.item.data;
  argv.insert(argv.end(),
              {command.worker, action, fsname,
               std::to_string(protocol::LustreArchiveOf(item.archive_id)),
               std::to_string(item.hal_flags), data.substr(0, data.find('\0')),
               hsm::FormatFid(hai.hai_fid)});
  return argv;
}

}  // namespace client::upcall
