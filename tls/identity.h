// The identities a peer's certificate proves, as the strings the server
// logs and the authorization rules (auth/) match:
//   "CN=<common name>", "subject=<RFC 2253 subject>", and one per subject
//   alternative name: "DNS:<name>", "IP:<address>", "email:<address>",
//   "URI:<uri>" (other kinds of names are left out).
// Bytes outside printable ASCII (a newline in a common name...) are written
// as \xHH, and a backslash as \\, so that a certificate cannot forge a log
// line or match a rule by a look-alike.
//
// Thread-safety: pure functions.
#ifndef TLS_IDENTITY_H_
#define TLS_IDENTITY_H_

#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

namespace tls {

std::vector<std::string> IdentitiesOf(X509* cert);

// `bytes` with every byte outside 0x20..0x7e, and '\', escaped.
std::string EscapeIdentity(std::string_view bytes);

}  // namespace tls

#endif  // TLS_IDENTITY_H_
