// Typed server and client settings, filled from defaults, the configuration
// file, the environment and the command line, in increasing priority. Every
// key, its variable and its option are listed once, in the tables of
// config/settings_table.h, and described in docs/configuration.md. The
// server and client share one file: each side skips the other's keys
// silently and warns about keys nobody knows.
//
// Thread-safety: value types; the Apply functions are pure.
#ifndef CONFIG_SETTINGS_H_
#define CONFIG_SETTINGS_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_file.h"

namespace config {

inline constexpr const char* kDefaultConfigPath = "/etc/coordinatool.conf";

// Looks up an environment variable; returns false when it is unset.
using EnvLookup = std::function<bool(const char* name, std::string* value)>;
EnvLookup ProcessEnvironment();

// Where the server keeps its state (the `store` key).
enum class StoreKind {
  kAuto,      // Redis if redis was configured (host or socket), else embedded
  kRedis,     // Redis, with the original coordinatool's schema
  kEmbedded,  // a journal in state_dir
  kNone,      // memory only
};

// Whose share a restore counts against (the `fair_share_by` key).
enum class FairShareBy {
  kTag,     // the value of fair_share_tag in the request data
  kUid,     // the file's owner
  kGid,     // the file's group
  kProjid,  // the file's project id
};

// The names the file, the environment and the command line use: "auto",
// "redis", "embedded", "none"; "tag", "uid", "gid", "projid".
std::string_view Name(StoreKind kind);
std::string_view Name(FairShareBy by);
std::optional<StoreKind> ParseStoreKind(std::string_view name);
std::optional<FairShareBy> ParseFairShareBy(std::string_view name);
// Comparison with a name ("embedded"), for readers and tests that speak in
// the file's words; an unknown name equals nothing.
inline bool operator==(StoreKind kind, std::string_view name) {
  return Name(kind) == name;
}
inline bool operator==(FairShareBy by, std::string_view name) {
  return Name(by) == name;
}
std::ostream& operator<<(std::ostream& out, StoreKind kind);
std::ostream& operator<<(std::ostream& out, FairShareBy by);

struct HostAffinityRule {  // archive_on_hosts TAG HOST...
  std::string tag;
  std::vector<std::string> hosts;
  int line = 0;
};

struct ConsistentHashRule {  // archive_on_hosts_ch TAG COUNT HOST...
  std::string tag;
  uint32_t count = 0;  // 0: no rewrite of the value
  std::vector<std::string> hosts;
  int line = 0;
};

struct ServerSettings {
  std::string host = "coordinatool";
  std::string port = "5123";
  int verbose = 4;                       // normal
  std::string redis_host = "localhost";  // empty: no Redis
  uint16_t redis_port = 6379;
  std::string redis_socket;    // unix socket; replaces host and port
  std::string redis_user;      // ACL user for AUTH
  std::string redis_password;  // empty: no AUTH
  // Sentinel discovery (docs/redis.md): "host:port" of each sentinel,
  // asked in order for the master monitored as redis_master_name; when
  // given, redis_host/redis_port/redis_socket are not used.
  std::vector<std::string> redis_sentinels;
  std::string redis_master_name;
  // A write batch counts as acknowledged once WAIT says this many replicas
  // have it (0: on the master's reply), waiting at most the timeout.
  int redis_wait_replicas = 0;
  int redis_wait_timeout_ms = 1000;
  // High availability (docs/high-availability.md): the leader's lease time
  // to live in Redis (0: off, a single server as before), and the
  // host:port this server's standbys send movers and clients to while it
  // leads (empty: host:port as it listens).
  int64_t ha_lease_ms = 0;
  std::string ha_advertise;
  // Whether any redis_* key, COORDINATOOL_REDIS_* variable or --redis-*
  // option was given. The original's redis_host defaults to localhost, but
  // a server nobody pointed at Redis uses the embedded store (store auto).
  bool redis_configured = false;
  // Where the state goes: auto (Redis if redis was configured, with a host
  // or a socket, else embedded), redis, embedded (a journal in state_dir)
  // or none.
  StoreKind store = StoreKind::kAuto;
  std::string state_dir;  // empty: /var/lib/coordinatool/<fsname>
  // A running item without progress for this long is taken back from its
  // mover and dispatched again; 0: never.
  int64_t stale_timeout_ms = 0;
  std::vector<uint32_t> archive_ids;  // empty: every archive
  int64_t client_grace_ms = 600000;
  std::vector<HostAffinityRule> archive_on_hosts;
  std::vector<ConsistentHashRule> archive_on_hosts_ch;
  uint32_t batch_idle_sec = 0;  // 0: batching off
  uint32_t batch_max_sec = 0;   // 0: no maximum
  uint32_t batch_slots_per_client = 1;
  // Recalls in tape order (restores whose locality answer names a medium):
  // a medium's slice idle and maximum seconds (idle 0: off), and the media
  // a mover holds at once.
  uint32_t restore_slice_idle_sec = 0;
  uint32_t restore_slice_max_sec = 0;  // 0: no maximum
  uint32_t restore_media_per_mover = 1;
  std::string reporting_dir;
  std::string reporting_hint;
  int64_t reporting_schedule_interval_ms = 60000;
  // Fair share of restores between the owners named by this tag of the
  // request data (e.g. "user="); empty: off. Weights default to 1.
  std::string fair_share_tag;
  std::map<std::string, uint32_t> fair_share_weights;
  // Archives older than this go before restores; 0: off.
  uint32_t archive_max_wait_sec = 0;
  // Blocking restores (HSM_REQ_BLOCKING: a process waits on the file) go
  // before the others, at most this percent of the restores sent while
  // both wait (1..99); 0: no priority.
  uint32_t restore_blocking_share = 90;
  // At most this many restores of one fair-share owner run at once; 0: no
  // limit. Needs fair_share_tag or fair_share_by (the owner).
  uint32_t max_running_restores_per_owner = 0;
  // A new restore from Lustre of an owner with this many restores queued
  // (not running) already is failed at Lustre with EDQUOT; 0: no cap.
  // Needs fair_share_tag or fair_share_by (the owner).
  uint32_t max_queued_restores_per_owner = 0;
  // Whose share a restore counts against: the value of fair_share_tag in the
  // request data, or the uid, gid or project id of the file itself.
  FairShareBy fair_share_by = FairShareBy::kTag;
  // Restore locality (docs/restore-locality.md): the helper program (and
  // its arguments) that names the preferred mover of each new restore;
  // empty: off. A lookup without answer after the timeout gets no
  // preference (the helper keeps running).
  std::vector<std::string> restore_locality_command;
  int64_t restore_locality_timeout_ms = 5000;
  // Retries (docs/policies.md): the attempts a request gets in all when its
  // movers end it with HP_FLAG_RETRY; the request Lustre sends again after
  // the last is failed at Lustre with the last error.
  uint32_t retry_max_attempts = 3;
  // The mover ids this site runs, and the line each came from; empty: not
  // declared, host rules may name any host. When given, a host rule naming
  // another host is a configuration error (a typo would park archives on a
  // mover that never comes).
  std::vector<std::string> movers;
  std::vector<int> mover_lines;  // mover_lines[i]: the line of movers[i]
  // Connections (docs/operations.md, "Connections and dead peers").
  int64_t max_connections = 0;        // 0: from the descriptor limit
  int64_t connection_memory_mb = 64;  // parsed objects of one peer at once
  // A mover that announced heartbeats and sent nothing for this long is
  // closed, and a new ehlo takes the id of a connection silent this long;
  // also sets TCP keepalive. 0: off.
  int64_t liveness_timeout_ms = 120000;
  int64_t handshake_timeout_ms = 30000;  // no ehlo by then: closed; 0: off
  // An item larger than every asking mover's buffer is failed at Lustre
  // once it waited this long; 0: never.
  int64_t oversized_timeout_ms = 300000;
  // TLS on the port (docs/security.md): a non-empty tls_cert turns it on.
  // tls_key empty: the key is in tls_cert. tls_ca verifies client
  // certificates; tls_client_cert is none, optional or required, empty for
  // the default (optional with tls_ca, else none). Checked when loaded
  // (tls/server_tls.h), and re-read on SIGHUP.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string tls_client_cert;
  // Listen on a host that is not loopback without TLS and authentication
  // (server/exposure.h); false: such a server listens on loopback only.
  bool allow_insecure = false;
  // `queue` takes an item only if Lustre holds it live (server/
  // queue_check.h); false: any well-formed item (made-up requests of
  // benchmarks and tests).
  bool queue_check_lustre = true;
  // Roles of the peers (docs/auth.md): tokens and certificate identities,
  // and the mover ids each may use; empty: no authentication, every peer
  // may do everything (the original's behaviour).
  std::string auth_file;
  // The HTTP listener for metrics and the dashboard (docs/monitoring.md),
  // on `host` under the same exposure rules as `port`; "0": off.
  std::string http_port = "0";

  bool batching() const { return batch_idle_sec > 0; }
  bool tape_order() const { return restore_slice_idle_sec > 0; }
};

struct ClientSettings {
  // The servers, tried in this order (config/host_list.h: each a host, or
  // HOST:PORT for another port than `port`); empty: "coordinatool". Each
  // line of the file adds to the list; the environment and the command line
  // replace it.
  std::vector<std::string> hosts;
  std::string port = "5123";
  std::string client_id;  // empty: DefaultClientId()
  uint32_t max_restore = kUnlimited;
  uint32_t max_archive = kUnlimited;
  uint32_t max_remove = kUnlimited;
  uint32_t hal_size = 1u << 20;  // Lustre's HAL_MAXSIZE (config has no Lustre)
  int verbose = 4;
  // TLS to the server (docs/security.md): on with client_tls, or when a CA
  // bundle to verify the server is given.
  bool client_tls = false;
  std::string client_tls_ca;           // empty: the system's CA store
  std::string client_tls_cert;         // this client's certificate; empty: none
  std::string client_tls_key;          // its key; empty: in client_tls_cert
  std::string client_tls_server_name;  // empty: the host connected to

  bool tls() const { return client_tls || !client_tls_ca.empty(); }
  // A file holding the token sent with `auth` right after connecting
  // (docs/auth.md); empty: none. Never the token itself.
  std::string token_file;
  // How long a mover (the preload library's register) waits for the
  // server at start: -1 for ever (the default, as the original, which
  // retried every 5 s), 0 not at all, else milliseconds.
  int64_t connect_wait_ms = -1;
  // The errnos (positive) that the preload library turns into
  // HP_FLAG_RETRY when the copytool ends an archive, or a remove, with one
  // of them (retry_errors; docs/policies.md, "Retries"). Empty: none.
  std::vector<int> retry_errors_archive;
  std::vector<int> retry_errors_remove;
};

// The host name up to its first dot.
std::string DefaultClientId();

// Applies the file's entries, then checks that the policy keys agree with
// each other (host rules against `movers` and against each other, fair
// share, batching, reporting, store). Returns false with *error naming file,
// line and key for the first invalid value or conflict; appends non-fatal
// remarks (unknown key, key without value, a key that has no effect) to
// *warnings.
bool ApplyServerFile(const ConfigText& file, ServerSettings* settings,
                     std::vector<std::string>* warnings, std::string* error);
bool ApplyClientFile(const ConfigText& file, ClientSettings* settings,
                     std::vector<std::string>* warnings, std::string* error);

// Applies COORDINATOOL_* variables. Invalid values are errors, except
// COORDINATOOL_REDIS_PORT, which is reported in *warnings and ignored, as
// the original does.
bool ApplyServerEnv(const EnvLookup& env, ServerSettings* settings,
                    std::vector<std::string>* warnings, std::string* error);
bool ApplyClientEnv(const EnvLookup& env, ClientSettings* settings,
                    std::string* error);

// The configuration path: `cli_path` if given, else COORDINATOOL_CONF, else
// the default. `required` is true unless it is the default: a missing
// default file is not an error.
struct ConfigPath {
  std::string path;
  bool required = false;
};
ConfigPath ResolveConfigPath(const std::string& cli_path, const EnvLookup& env);

// Defaults, then the configuration file (ResolveConfigPath), then the
// environment: everything but the command line, which the caller applies
// last. False with *error on a missing required file or a bad value.
bool LoadServerSettings(const std::string& cli_path, const EnvLookup& env,
                        ServerSettings* settings,
                        std::vector<std::string>* warnings, std::string* error);
bool LoadClientSettings(const std::string& cli_path, const EnvLookup& env,
                        ClientSettings* settings,
                        std::vector<std::string>* warnings, std::string* error);

}  // namespace config

#endif  // CONFIG_SETTINGS_H_
