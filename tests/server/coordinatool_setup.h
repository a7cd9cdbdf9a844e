// CoordinatoolSetup: a coordinatool server registered on a SimMount, movers
// running ct-posix unmodified under libcoordinatool_preload.so, and helpers
// to ask the server for its status. Everything it starts is killed when it
// is destroyed (before the SimMount, which must outlive it).
//
// Thread-compatible: one test thread drives it.
#ifndef TESTS_SERVER_COORDINATOOL_SETUP_H_
#define TESTS_SERVER_COORDINATOOL_SETUP_H_

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/sim_mount.h"

namespace testing_support {

// A port of 127.0.0.1 free now (the kernel's choice for port 0).
int FreeLoopbackPort();

std::string CoordinatoolBinary();
std::string CoordinatoolClientBinary();
std::string PreloadLibrary();

// `lfs COMMAND PATHS...` on `sim`; a test failure with its output if it
// fails.
void RunLfs(SimMount& sim, const std::string& command,
            const std::vector<std::string>& paths);

// TLS for a CoordinatoolSetup (paths of PEM files, e.g. from TestPki).
struct SetupTls {
  std::string server_cert, server_key;  // the server's, on its port
  std::string ca;                       // the clients verify the server
  // Non-empty: the server requires client certificates chaining to it.
  std::string client_ca;
  // Shown by every mover and client (empty: none).
  std::string client_cert, client_key;
};

class CoordinatoolSetup {
 public:
  explicit CoordinatoolSetup(SimMount& sim) : sim_(sim) {}
  ~CoordinatoolSetup();

  // TLS from the next StartServer() (tls_* keys through the environment),
  // and for every mover and client started after (client_tls_* keys),
  // Status() included.
  void set_tls(SetupTls tls) { tls_ = std::move(tls); }
  bool tls() const { return !tls_.server_cert.empty(); }

  // Starts `coordinatool -H 127.0.0.1 -p PORT ARGS MOUNT` (port 0 the first
  // time: the kernel picks one, which later restarts reuse) and waits for it
  // to serve. The embedded store goes to state_dir() unless ARGS choose a
  // --state-dir or another store.
  ::testing::AssertionResult StartServer(
      const std::vector<std::string>& args = {});
  void KillServer() { server_.Kill(); }
  // From the next StartServer(), -H and -p are left out of its command
  // line: the configuration file its ARGS name (-c) gives host 127.0.0.1
  // and a port (0: the kernel picks one), so that a reload may change them.
  void set_listen_from_config(bool on) { listen_from_config_ = on; }
  Process& server() { return server_; }
  int port() const { return port_; }
  // The port the next StartServer() listens on (a second server of the
  // same store, on a port its movers were told of in advance).
  void set_port(int port) { port_ = port; }
  // From the next StartServer(), the HTTP listener on (http_port: a port
  // free when chosen, kept across restarts; a start that finds it taken
  // meanwhile tries another).
  void EnableHttp() { http_ = true; }
  int http_port() const { return http_port_; }
  // Movers, Client() and Status() connect to `port` instead of the
  // server's (a relay in front of a TLS server); 0: the server's.
  void set_client_port(int port) { client_port_ = port; }
  int client_port() const { return client_port_ != 0 ? client_port_ : port_; }
  std::string state_dir() const;
  // Lines of every server log so far matching `pattern` (ECMAScript).
  std::vector<std::string> ServerLogLines(const std::string& pattern) const;

  // Starts ct-posix under the preload library as mover `id` and waits until
  // the server lists it. `env` adds COORDINATOOL_* settings (limits...).
  Process* StartMover(
      const std::string& id,
      const std::vector<std::pair<std::string, std::string>>& env = {},
      const std::vector<std::string>& ct_args = {});
  // Movers started after run `COMMAND... CT_ARGS... MOUNT` (another
  // copytool under the preload library) instead of `ct-posix -p ARCHIVE
  // -u 1 CT_ARGS... MOUNT`; empty: ct-posix again.
  void set_mover_command(std::vector<std::string> command) {
    mover_command_ = std::move(command);
  }
  // The same without waiting for the server to list it (a mover started
  // before its server); nullptr (and a test failure) if it cannot start.
  Process* SpawnMover(
      const std::string& id,
      const std::vector<std::pair<std::string, std::string>>& env = {},
      const std::vector<std::string>& ct_args = {});
  // The environment a mover or client needs to reach the server.
  std::vector<std::pair<std::string, std::string>> ClientEnv() const;

  // coordinatool-client -H 127.0.0.1 -p PORT ARGS, with optional stdin.
  CommandResult Client(const std::vector<std::string>& args,
                       const std::string& stdin_text = "") const;
  // The server's status reply (verbose 6: queues included); an empty object
  // (and a test failure) if it cannot be read.
  boost::json::object Status() const;
  // The token Status() and the helpers over it present first (a server
  // with an auth file); empty: none.
  void set_status_token(const std::string& token) { status_token_ = token; }
  // Authentication (docs/auth.md) from the next StartServer(): an auth file
  // with two tokens, one with the admin role, one with the mover role for
  // every mover id. Movers started after present the movers' token (unless
  // their `env` names another COORDINATOOL_TOKEN_FILE), Client() and
  // Status() the admin's.
  void EnableAuth();
  // A client's entry in Status()["clients"], or an empty object.
  boost::json::object ClientStatus(const std::string& id) const;
  // Status counter `key` (absent counts as 0).
  int64_t Counter(const std::string& key) const;

  // A field of ClientStatus(id): a string as it is, anything else as JSON
  // text; "" when absent.
  std::string ClientField(const std::string& id, const std::string& key) const;
  // The number field of ClientStatus(id), or -1.
  int64_t ClientNumber(const std::string& id, const std::string& key) const;
  // Everything mover `id` logged.
  std::string MoverLog(const std::string& id) const;

  std::string Logs() const;

 private:
  ::testing::AssertionResult StartServerOnce(
      const std::vector<std::string>& args);

  SimMount& sim_;
  SetupTls tls_;
  Process server_;
  int port_ = 0;
  int client_port_ = 0;
  bool http_ = false;
  int http_port_ = 0;
  int server_starts_ = 0;
  bool listen_from_config_ = false;
  std::vector<std::string> mover_command_;
  std::string status_token_;
  std::string auth_file_;          // EnableAuth(): the server's
  std::string admin_token_file_;   // Client()'s
  std::string movers_token_file_;  // the movers'
  std::vector<std::unique_ptr<Process>> movers_;
  std::vector<std::string> mover_logs_;
  std::map<std::string, std::string> mover_log_of_;
};

}  // namespace testing_support

#endif  // TESTS_SERVER_COORDINATOOL_SETUP_H_
