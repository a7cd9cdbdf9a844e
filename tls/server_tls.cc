#include "tls/server_tls.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>

#include "tls/identity.h"

namespace tls {
namespace {

namespace ssl = boost::asio::ssl;

// What OpenSSL said, oldest first, and its error queue emptied (it is per
// thread: a leftover would be taken for the next operation's error).
std::string OpensslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown error" : out;
}

// An encrypted key fails to load instead of prompting on a terminal.
int NoPassword(char*, int, int, void*) { return 0; }

EVP_PKEY* ReadKey(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    ERR_raise_data(ERR_LIB_SYS, errno, "fopen %s", path.c_str());
    return nullptr;
  }
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, NoPassword, nullptr);
  std::fclose(f);
  return key;
}

std::string Time(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "?";
  ASN1_TIME_print(bio, t);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out = n > 0 ? std::string(data, static_cast<size_t>(n)) : "?";
  BIO_free(bio);
  return out;
}

}  // namespace

std::optional<ClientCertMode> ParseClientCertMode(std::string_view name) {
  if (name == "none") return ClientCertMode::kNone;
  if (name == "optional") return ClientCertMode::kOptional;
  if (name == "required") return ClientCertMode::kRequired;
  return std::nullopt;
}

std::string_view Name(ClientCertMode mode) {
  switch (mode) {
    case ClientCertMode::kNone:
      return "none";
    case ClientCertMode::kOptional:
      return "optional";
    case ClientCertMode::kRequired:
      return "required";
  }
  return "?";
}

std::unique_ptr<ServerTls> ServerTls::Load(ServerTlsFiles files,
                                           std::string* error) {
  std::unique_ptr<ServerTls> tls(new ServerTls(std::move(files)));
  if (!tls->Build(error)) return nullptr;
  return tls;
}

bool ServerTls::Reload(std::string* error) { return Build(error); }

bool ServerTls::Build(std::string* error) {
  const ServerTlsFiles& f = files_;
  ClientCertMode mode =
      f.ca.empty() ? ClientCertMode::kNone : ClientCertMode::kOptional;
  if (!f.client_cert.empty()) {
    auto parsed = ParseClientCertMode(f.client_cert);
    if (!parsed) {
      *error = fmt::format(
          "tls_client_cert: '{}' is not one of none, optional, required",
          f.client_cert);
      return false;
    }
    mode = *parsed;
  }
  if (mode != ClientCertMode::kNone && f.ca.empty()) {
    *error = fmt::format(
        "tls_client_cert {} needs tls_ca, the CA bundle that verifies client "
        "certificates",
        Name(mode));
    return false;
  }
  if (f.cert.empty()) {
    *error = "tls_cert is empty";
    return false;
  }
  ERR_clear_error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  // TLS 1.2 at least; no compression (CRIME), no renegotiation (a peer
  // could make the server redo handshakes at will).
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_default_passwd_cb(ctx, NoPassword);
  const std::string& key = f.key.empty() ? f.cert : f.key;
  if (SSL_CTX_use_certificate_chain_file(ctx, f.cert.c_str()) != 1) {
    *error = fmt::format("tls_cert {}: {}", f.cert, OpensslErrors());
    return false;
  }
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  EVP_PKEY* pkey = ReadKey(key);
  if (pkey == nullptr) {
    *error = fmt::format("tls_key {}: {} (keys must be PEM, not encrypted)",
                         key, OpensslErrors());
    return false;
  }
  // Checked apart, for a clear message in the common mistake of a rotation
  // (the certificate replaced, not yet its key).
  const bool matches = X509_check_private_key(leaf, pkey) == 1;
  const bool used = matches && SSL_CTX_use_PrivateKey(ctx, pkey) == 1;
  EVP_PKEY_free(pkey);
  if (!matches) {
    ERR_clear_error();
    *error = fmt::format("tls_key {} does not match tls_cert {}", key, f.cert);
    return false;
  }
  if (!used) {
    *error = fmt::format("tls_key {}: {}", key, OpensslErrors());
    return false;
  }
  const std::vector<std::string> names = IdentitiesOf(leaf);
  const std::string subject = names.size() > 1 ? names[1] : "no subject";
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
    *error = fmt::format("tls_cert {} ({}) expired on {}", f.cert, subject,
                         Time(X509_get0_notAfter(leaf)));
    return false;
  }
  if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
    *error = fmt::format("tls_cert {} ({}) is not valid before {}", f.cert,
                         subject, Time(X509_get0_notBefore(leaf)));
    return false;
  }
  if (!f.ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, f.ca.c_str(), nullptr) != 1) {
      *error = fmt::format("tls_ca {}: {}", f.ca, OpensslErrors());
      return false;
    }
    // The CA names sent to clients, so that one holding several
    // certificates picks one this server accepts.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(f.ca.c_str()))
      SSL_CTX_set_client_CA_list(ctx, names);
  }
  int verify = SSL_VERIFY_NONE;
  if (mode == ClientCertMode::kOptional) verify = SSL_VERIFY_PEER;
  if (mode == ClientCertMode::kRequired)
    verify = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, verify, nullptr);
  // Resumed sessions keep the identity of the full handshake; OpenSSL
  // refuses to resume with client verification unless the context has an
  // id of its own.
  static constexpr unsigned char kSessionContext[] = "coordinatool";
  SSL_CTX_set_session_id_context(ctx, kSessionContext,
                                 sizeof(kSessionContext) - 1);
  ERR_clear_error();
  context_ = std::move(context);
  mode_ = mode;
  description_ = fmt::format(
      "certificate {} ({}, valid until {}), client certificates {}{}", f.cert,
      subject, Time(X509_get0_notAfter(leaf)), Name(mode),
      f.ca.empty() ? "" : " (verified against " + f.ca + ")");
  return true;
}

}  // namespace tls
