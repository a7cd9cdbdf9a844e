// Reconciler: `coordinatool-client --reconcile`, the long-running companion
// of the server on the MDS (docs/operations.md, the reconciler). It reads
// Lustre's active requests by running a command (lctl get_param -n
// mdt.*.hsm.active_requests by default) and sends them to the server with
// `reconcile` (docs/protocol.md): the server takes back what it lost (a
// crash between reading a request from Lustre and storing it) and drops the
// waiting requests Lustre no longer has (server/reconcile.h). A pass runs
// each time the server is seen with a new instance id (after every
// connect: the ehlo reply's) and every `interval`.
//
// A list that cannot be read (the command fails, is killed, times out, or
// prints a line that does not parse) skips the pass: an empty list is only
// ever sent when Lustre printed none.
//
// Thread-safety: none; one owner.
#ifndef CLIENT_RECONCILER_H_
#define CLIENT_RECONCILER_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/session.h"
#include "common/clock.h"
#include "protocol/action_item.h"

namespace client {

inline constexpr const char* kDefaultActiveRequestsCommand =
    "lctl get_param -n mdt.*.hsm.active_requests";

// Runs `command` with /bin/sh -c, its standard output in *out (standard
// error passes through). False with *error when it cannot start, exits
// other than 0, dies of a signal, or runs past `timeout` (then killed).
bool RunCommand(const std::string& command, std::chrono::milliseconds timeout,
                std::string* out, std::string* error);

// Runs `command` and parses its output as Lustre's active requests
// (client/active_requests.h). False with *error: nothing is to be sent.
bool ReadActiveRequests(const std::string& command,
                        std::chrono::milliseconds timeout,
                        std::vector<protocol::WireItem>* items,
                        std::vector<std::string>* warnings, std::string* error);

struct ReconcilerOptions {
  std::string command = kDefaultActiveRequestsCommand;
  std::chrono::milliseconds command_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds interval{std::chrono::seconds(60)};
  // Send no token: the server adds what it lacks and drops nothing (a site
  // whose MDS nodes each see only their own MDTs).
  bool add_only = false;
  std::string fsname;  // sent when not empty
  int reply_timeout_ms = 600'000;
};

class Reconciler {
 public:
  // Opens a session to the server: connected, authenticated, past ehlo;
  // *instance is the ehlo reply's. False with *error (logged, retried with
  // backoff); `definitive`: waiting cannot fix it (a refused token).
  using Connect = std::function<bool(Session* session, std::string* instance,
                                     bool* definitive, std::string* error)>;
  // `log` takes one line.
  Reconciler(ReconcilerOptions options, Connect connect,
             std::function<void(const std::string&)> log);

  // Runs until a definitive failure (returned as the exit status, with its
  // reason logged); `passes` > 0 stops after that many passes sent (tests).
  int Run(int passes = 0);

 private:
  // One pass over `session`. False when the session is lost.
  bool Pass(Session& session);

  ReconcilerOptions options_;
  Connect connect_;
  std::function<void(const std::string&)> log_;
  std::string instance_;  // the server's, as last seen
  std::optional<std::string> token_;
  int sent_ = 0;
};

}  // namespace client

#endif  // CLIENT_RECONCILER_H_
