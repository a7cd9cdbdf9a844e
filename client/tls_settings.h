// The TLS options of a session from the client settings (the client_tls*
// keys, docs/configuration.md), for coordinatool-client and the preload
// library.
//
// Thread-safety: pure function.
#ifndef CLIENT_TLS_SETTINGS_H_
#define CLIENT_TLS_SETTINGS_H_

#include "client/tls.h"
#include "config/settings.h"

namespace client {

// Disabled unless settings.tls(); the server's name is client_tls_server_name,
// else the host the session connects to.
TlsOptions TlsFromSettings(const config::ClientSettings& settings);

}  // namespace client

#endif  // CLIENT_TLS_SETTINGS_H_
