#include "client/upcall/upcall_client.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "client/tls_settings.h"
#include "hsm/fid.h"

namespace client::upcall {

namespace json = boost::json;

int OpenSession(const config::ClientSettings& settings,
                const std::string& token, const protocol::EhloRequest& ehlo,
                Session* session, std::string* error) {
  session->set_tls(TlsFromSettings(settings));
  if (!session->Connect(settings.host, settings.port, error))
    return ECONNREFUSED;
  if (!token.empty()) {
    bool refused = false;
    if (!session->Authenticate(token, error, &refused))
      return refused ? EACCES : EIO;
  }
  json::object reply;
  if (!session->Call(protocol::ToJson(ehlo), &reply, 30'000, error)) {
    *error = "ehlo: " + *error;
    return EIO;
  }
  protocol::EhloReply parsed;
  protocol::Parse(reply, &parsed);
  if (parsed.header.status != 0) {
    *error = fmt::format("ehlo refused: {}", parsed.header.error);
    return parsed.header.status;
  }
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
    *error =
        fmt::format("no answer from {}:{}: {}", settings.host, settings.port,
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
