// Exposure: where the server listens and what it says about it, from what
// protects its port (safe by default, docs/security.md).
//
// Anyone who reaches an unprotected port can stop the server, read every
// queue and take or end movers' work. So a server without both TLS and
// authentication of its peers (an auth_file, or client certificates
// required) listens on the loopback address only, whatever its host says,
// and logs that it does and why; `allow_insecure` lets it listen on that
// host anyway (the original's mode, for a trusted network), with a warning
// at every start. A host that is a loopback address needs nothing.
//
// Pure: the server resolves the host and applies the decision.
//
// Thread-safety: pure functions.
#ifndef SERVER_EXPOSURE_H_
#define SERVER_EXPOSURE_H_

#include <string>
#include <string_view>
#include <vector>

namespace server {

struct ExposureInput {
  std::string host;     // the `host` setting
  std::string address;  // the address it resolves to, the one bound
  bool tls = false;     // TLS on the port
  bool client_certs_required = false;  // mTLS: no certificate, no session
  bool auth = false;                   // an auth_file: tokens and roles
  bool allow_insecure = false;
};

struct ExposureLine {
  bool warning = false;  // else info
  std::string text;
};

struct Exposure {
  std::string listen_host;  // where to listen: host, or a loopback address
  bool confined = false;    // moved to loopback from a host that was not
  std::vector<ExposureLine> lines;  // to log at start, in order
};

// True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8; false for
// anything else, names included (they are resolved first).
bool IsLoopbackAddress(std::string_view address);

Exposure DecideExposure(const ExposureInput& in);

}  // namespace server

#endif  // SERVER_EXPOSURE_H_
