#include "client/tls_settings.h"

namespace client {

TlsOptions TlsFromSettings(const config::ClientSettings& settings) {
  TlsOptions tls;
  if (!settings.tls()) return tls;
  tls.enabled = true;
  tls.ca_file = settings.client_tls_ca;
  tls.cert_file = settings.client_tls_cert;
  tls.key_file = settings.client_tls_key;
  // Empty: the name of the host each connection goes to (Session), so that
  // with several servers each is checked against its own name.
  tls.server_name = settings.client_tls_server_name;
  return tls;
}

}  // namespace client
