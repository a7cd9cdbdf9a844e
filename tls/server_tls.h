// ServerTls: the server's TLS material (docs/security.md): an OpenSSL
// context built from the tls_cert, tls_key and tls_ca files, TLS 1.2 at
// least, with the client certificate policy of tls_client_cert:
// - none: no client certificate asked;
// - optional: asked; one that is sent must verify against tls_ca (else the
//   handshake fails), a peer sending none is let in (authentication may
//   then come from a token);
// - required: a peer without a certificate that verifies is refused.
// The default is optional when tls_ca is set, else none.
//
// Reload() re-reads the files: new connections get the new context, open
// ones keep the one they started with (each holds a shared_ptr to it). A
// reload that fails (a file missing, a key that does not match, a
// certificate expired) keeps the current context and says why.
//
// The server's own certificate is checked when loaded: expired or not yet
// valid is refused (every client would refuse it anyway, with a less clear
// message). Keys must not be encrypted: the server never prompts.
//
// Thread-safety: none; the event loop's thread.
#ifndef TLS_SERVER_TLS_H_
#define TLS_SERVER_TLS_H_

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tls {

enum class ClientCertMode { kNone, kOptional, kRequired };

// "none", "optional", "required"; nullopt for anything else.
std::optional<ClientCertMode> ParseClientCertMode(std::string_view name);
std::string_view Name(ClientCertMode mode);

struct ServerTlsFiles {
  std::string cert;  // PEM: the server certificate, then its chain
  std::string key;   // PEM private key; empty: in the cert file
  std::string ca;    // PEM CA bundle verifying client certificates
  // tls_client_cert: "none", "optional", "required", or "" (the default).
  std::string client_cert;
};

class ServerTls {
 public:
  // Builds the first context. nullptr with *error naming the file at fault.
  static std::unique_ptr<ServerTls> Load(ServerTlsFiles files,
                                         std::string* error);

  // Re-reads the files. False with *error, the current context kept.
  bool Reload(std::string* error);

  // The context for a new connection.
  std::shared_ptr<boost::asio::ssl::context> context() const {
    return context_;
  }
  ClientCertMode client_cert_mode() const { return mode_; }
  // For the logs: the certificate in use ("subject ..., valid until ...")
  // and the client certificate policy.
  const std::string& description() const { return description_; }

 private:
  explicit ServerTls(ServerTlsFiles files) : files_(std::move(files)) {}
  bool Build(std::string* error);

  const ServerTlsFiles files_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  ClientCertMode mode_ = ClientCertMode::kNone;
  std::string description_;
};

}  // namespace tls

#endif  // TLS_SERVER_TLS_H_
