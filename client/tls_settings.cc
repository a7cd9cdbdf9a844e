#include "client/tls_settings.h"

namespace client {

TlsOptions TlsFromSettings(const config::ClientSettings& settings) {
  TlsOptions tls;
  if (!settings.tls()) return tls;
  tls.enabled = true;
  tls.ca_file = settings.client_tls_ca;
  tls.cert_file = settings.client_tls_cert;
  tls.key_file = settings.client_tls_key;
  tls.server_name = settings.client_tls_server_name.empty()
                        ? settings.host
                        : settings.client_tls_server_name;
  return tls;
}

}  // namespace client
