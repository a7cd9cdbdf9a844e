// The client side of docs/upcall.md: what coordinatool-upcall does with
// the arguments a Lustre MDT carrying the LU-10968 patch gives it, and what
// the upcall worker runs for each upcalled item. Neither touches Lustre:
// the upcall only talks to the server; the worker leaves Lustre to
// `lfs hsm_upcall` (the patch's command), which it runs.
//
// Thread-safety: none; each program has one thread.
#ifndef CLIENT_UPCALL_UPCALL_CLIENT_H_
#define CLIENT_UPCALL_UPCALL_CLIENT_H_

#include <string>
#include <vector>

#include "client/session.h"
#include "config/settings.h"
#include "protocol/action_item.h"
#include "protocol/messages.h"
#include "protocol/upcall.h"

namespace client::upcall {

// Connects to the server of `settings` (TLS and token as coordinatool-client
// does; with several servers, the first that takes it, following a
// standby to the leader: client/failover.h), authenticates and sends
// `ehlo`. Returns 0 with *server (if given) the server's address, or an
// errno with *error: ECONNREFUSED (cannot reach a server), EACCES
// (refused), or the server's refusal of the ehlo.
int OpenSession(const config::ClientSettings& settings,
                const std::string& token, const protocol::EhloRequest& ehlo,
                Session* session, std::string* error,
                std::string* server = nullptr);

// Sends `request` as an `upcall` and waits up to `timeout_ms` for the reply,
// which the server sends only once the items are durable. Returns 0 (all
// queued and durable), or an errno with a one-line *error: the server's
// refusal (its status), ETIMEDOUT (no answer in time: the store may not
// have them), ECONNREFUSED (no server), EACCES, EIO.
int QueueUpcall(const config::ClientSettings& settings,
                const std::string& token,
                const protocol::UpcallRequest& request, int timeout_ms,
                std::string* error);

// How the worker runs one upcalled item.
struct WorkerCommand {
  std::string lfs = "lfs";  // the lfs carrying `hsm_upcall` (LU-10968)
  std::string mntpath;      // passed as --mntpath when set
  std::string worker;       // the site's worker program
};

// The command line for one item: LFS hsm_upcall [--mntpath M] WORKER ACTION
// FSNAME ARCHIVE_ID FLAGS DATA FID, with the item's Lustre archive id (the
// upcalled queue space's bit cleared) and its data cut at its first NUL.
// Empty when the item is no upcalled archive or remove.
std::vector<std::string> HsmUpcallCommand(const WorkerCommand& command,
                                          const std::string& fsname,
                                          const protocol::WireItem& item);

}  // namespace client::upcall

#endif  // CLIENT_UPCALL_UPCALL_CLIENT_H_
