#include "client/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

namespace client {

namespace {

using SteadyClock = std::chrono::steady_clock;

// What the BIO does when the socket has nothing to read.
enum class ReadMode {
  kWait,   // poll until the deadline (the handshake)
  kNoWait  // report "retry" at once (Read)
};

struct BioState {
  int fd = -1;
  ReadMode read_mode = ReadMode::kWait;
  SteadyClock::time_point deadline;
  bool nonblocking_write = false;  // the close_notify only
  bool timed_out = false;
  int last_errno = 0;
};

int BioRead(BIO* bio, char* out, int size) {
  auto* s = static_cast<BioState*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  for (;;) {
    ssize_t n = recv(s->fd, out, static_cast<size_t>(size), MSG_DONTWAIT);
    if (n >= 0) return static_cast<int>(n);  // 0: end of stream
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      s->last_errno = errno;
      return -1;
    }
    if (s->read_mode == ReadMode::kNoWait) {
      BIO_set_retry_read(bio);
      return -1;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    s->deadline - SteadyClock::now())
                    .count();
    if (left <= 0) {
      s->timed_out = true;
      s->last_errno = ETIMEDOUT;
      return -1;
    }
    pollfd pfd{s->fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX))) < 0 &&
        errno != EINTR) {
      s->last_errno = errno;
      return -1;
    }
  }
}

int BioWrite(BIO* bio, const char* data, int size) {
  auto* s = static_cast<BioState*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const int flags = MSG_NOSIGNAL | (s->nonblocking_write ? MSG_DONTWAIT : 0);
  for (;;) {
    ssize_t n = send(s->fd, data, static_cast<size_t>(size), flags);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
    s->last_errno = errno;
    return -1;
  }
}

long BioCtrl(BIO*, int cmd, long, void*) {
  // Writes go straight to the socket: nothing to flush.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* SocketMethod() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                                 "coordinatool client socket");
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  return method;
}

// OpenSSL's queued errors as one line (their reasons), and the queue
// emptied. `fallback` when the queue is empty.
std::string OpenSslErrors(const std::string& fallback) {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    std::string part = reason ? reason : fmt::format("OpenSSL error {:#x}", e);
    if (text.find(part) != std::string::npos) continue;
    if (!text.empty()) text += ": ";
    text += part;
  }
  return text.empty() ? fallback : text;
}

// A readable file, or *error naming the key and why.
bool CheckReadable(const char* key, const std::string& path,
                   std::string* error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("{} {}: {}", key, path, strerror(errno));
    return false;
  }
  close(fd);
  return true;
}

// A private key file never prompts for a passphrase (the preload library
// runs in daemons without a terminal): an encrypted key fails to load.
int NoPassphrase(char*, int, int, void*) { return 0; }

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

}  // namespace

struct TlsChannel::State {
  BioState bio_state;
  std::unique_ptr<SSL_CTX, CtxFree> ctx;
  std::unique_ptr<SSL, SslFree> ssl;
};

namespace {

std::unique_ptr<SSL_CTX, CtxFree> MakeContext(const TlsOptions& options,
                                              std::string* error) {
  std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    *error = OpenSslErrors("cannot create a TLS context");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  // Whole socket buffers at a time, not a record header and then its body:
  // half the reads. OpenSSL then holds records the socket no longer shows,
  // which is why Read drains it.
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  SSL_CTX_set_default_passwd_cb(ctx.get(), NoPassphrase);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (options.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      *error = "the system's CA store: " + OpenSslErrors("cannot load");
      return nullptr;
    }
  } else {
    if (!CheckReadable("client_tls_ca", options.ca_file, error)) return nullptr;
    if (SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(),
                                      nullptr) != 1) {
      *error = fmt::format("client_tls_ca {}: {}", options.ca_file,
                           OpenSslErrors("no certificate in it"));
      return nullptr;
    }
  }
  if (options.cert_file.empty()) {
    if (!options.key_file.empty()) {
      *error = "client_tls_key is set without client_tls_cert";
      return nullptr;
    }
    return ctx;
  }
  const std::string& key =
      options.key_file.empty() ? options.cert_file : options.key_file;
  if (!CheckReadable("client_tls_cert", options.cert_file, error) ||
      !CheckReadable("client_tls_key", key, error))
    return nullptr;
  if (SSL_CTX_use_certificate_chain_file(ctx.get(),
                                         options.cert_file.c_str()) != 1) {
    *error = fmt::format("client_tls_cert {}: {}", options.cert_file,
                         OpenSslErrors("cannot load"));
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) !=
      1) {
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
        ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      *error =
          fmt::format("client_tls_key {} does not match client_tls_cert {}",
                      key, options.cert_file);
      return nullptr;
    }
    *error = fmt::format("client_tls_key {}: {}", key,
                         OpenSslErrors("cannot load (encrypted?)"));
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    *error = fmt::format("client_tls_key {} does not match client_tls_cert {}",
                         key, options.cert_file);
    ERR_clear_error();
    return nullptr;
  }
  return ctx;
}

// Names the server's certificate must carry: an address is checked against
// its IP SANs, anything else against its DNS SANs (or subject CN).
bool SetServerName(SSL* ssl, const std::string& name, std::string* error) {
  if (name.empty()) {
    *error = "TLS needs the server's name (client_tls_server_name or host)";
    return false;
  }
  in6_addr address;
  bool is_ip = inet_pton(AF_INET, name.c_str(), &address) == 1 ||
               inet_pton(AF_INET6, name.c_str(), &address) == 1;
  if (is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1) {
      *error = fmt::format("'{}': {}", name, OpenSslErrors("bad address"));
      return false;
    }
    return true;
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, name.c_str()) != 1 ||
      SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    *error = fmt::format("'{}': {}", name, OpenSslErrors("bad server name"));
    return false;
  }
  return true;
}

// Why a handshake failed, in the words an operator needs.
std::string HandshakeError(SSL* ssl, int rc, const BioState& bio,
                           int timeout_ms) {
  int code = SSL_get_error(ssl, rc);
  if (bio.timed_out)
    return fmt::format("TLS handshake: no answer from the server in {} ms",
                       timeout_ms);
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return fmt::format("TLS handshake: the server's certificate is refused: {}",
                       X509_verify_cert_error_string(verify));
  }
  unsigned long first = ERR_peek_error();
  if (code == SSL_ERROR_SYSCALL && first == 0) {
    if (bio.last_errno != 0)
      return fmt::format("TLS handshake: {}", strerror(bio.last_errno));
    return "TLS handshake: the server closed the connection (is TLS on at "
           "the server? does it want a client certificate?)";
  }
  std::string reasons = OpenSslErrors("failed");
  if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
      (ERR_GET_REASON(first) == SSL_R_WRONG_VERSION_NUMBER ||
       ERR_GET_REASON(first) == SSL_R_PACKET_LENGTH_TOO_LONG ||
       ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
    reasons += " (is TLS on at the server?)";
  return "TLS handshake: " + reasons;
}

}  // namespace

TlsChannel::TlsChannel(std::unique_ptr<State> state)
    : state_(std::move(state)), owner_pid_(getpid()) {}

std::unique_ptr<TlsChannel> TlsChannel::Handshake(int fd,
                                                  const TlsOptions& options,
                                                  std::string* error) {
  ERR_clear_error();  // the queue is per thread: start from nothing
  auto state = std::make_unique<State>();
  state->ctx = MakeContext(options, error);
  if (!state->ctx) return nullptr;
  state->ssl.reset(SSL_new(state->ctx.get()));
  if (!state->ssl) {
    *error = OpenSslErrors("cannot create a TLS session");
    return nullptr;
  }
  SSL* ssl = state->ssl.get();
  if (!SetServerName(ssl, options.server_name, error)) return nullptr;
  BIO* bio = BIO_new(SocketMethod());
  if (!bio) {
    *error = OpenSslErrors("cannot create a BIO");
    return nullptr;
  }
  state->bio_state.fd = fd;
  BIO_set_data(bio, &state->bio_state);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns it
  state->bio_state.read_mode = ReadMode::kWait;
  state->bio_state.deadline =
      SteadyClock::now() +
      std::chrono::milliseconds(options.handshake_timeout_ms);
  int rc = SSL_connect(ssl);
  if (rc != 1) {
    *error =
        HandshakeError(ssl, rc, state->bio_state, options.handshake_timeout_ms);
    return nullptr;
  }
  state->bio_state.read_mode = ReadMode::kNoWait;
  return std::unique_ptr<TlsChannel>(new TlsChannel(std::move(state)));
}

TlsChannel::~TlsChannel() {
  if (getpid() != owner_pid_) return;
  state_->bio_state.nonblocking_write = true;
  SSL_shutdown(state_->ssl.get());
  ERR_clear_error();
}

bool TlsChannel::Write(std::string_view data, std::string* error) {
  ERR_clear_error();
  SSL* ssl = state_->ssl.get();
  while (!data.empty()) {
    size_t written = 0;
    state_->bio_state.last_errno = 0;
    if (SSL_write_ex(ssl, data.data(), data.size(), &written) != 1) {
      int code = SSL_get_error(ssl, 0);
      if (code == SSL_ERROR_SYSCALL && state_->bio_state.last_errno)
        *error =
            fmt::format("send: {}", strerror(state_->bio_state.last_errno));
      else
        *error = "TLS send: " + OpenSslErrors("failed");
      // The server may have said why before it closed (with TLS 1.3 it
      // checks a client certificate after the client's handshake ended):
      // its alert is a better error than the reset that followed.
      std::string alert;
      if (ReadAlert(&alert)) *error = alert;
      return false;
    }
    data.remove_prefix(written);
  }
  return true;
}

bool TlsChannel::ReadAlert(std::string* alert) {
  ERR_clear_error();
  char scratch[4096];
  size_t got = 0;
  for (int records = 0; records < 64; ++records) {
    if (SSL_read_ex(state_->ssl.get(), scratch, sizeof(scratch), &got) == 1)
      continue;  // application data of a connection that failed: dropped
    if (SSL_get_error(state_->ssl.get(), 0) != SSL_ERROR_SSL) break;
    *alert = "TLS: " + OpenSslErrors("failed");
    return true;
  }
  ERR_clear_error();
  return false;
}

TlsChannel::ReadResult TlsChannel::Read(char* buffer, size_t size, size_t* got,
                                        std::string* error) {
  ERR_clear_error();
  SSL* ssl = state_->ssl.get();
  state_->bio_state.last_errno = 0;
  *got = 0;
  if (SSL_read_ex(ssl, buffer, size, got) == 1) return ReadResult::kData;
  switch (SSL_get_error(ssl, 0)) {
    case SSL_ERROR_WANT_READ:
      // Every whole record OpenSSL held is consumed: what remains is at
      // most a partial one, whose rest makes the socket readable again.
      return ReadResult::kWouldBlock;
    case SSL_ERROR_ZERO_RETURN:
      return ReadResult::kClosed;
    case SSL_ERROR_SYSCALL:
      if (state_->bio_state.last_errno == 0 && ERR_peek_error() == 0)
        return ReadResult::kClosed;  // end of stream without close_notify
      if (state_->bio_state.last_errno) {
        *error =
            fmt::format("recv: {}", strerror(state_->bio_state.last_errno));
        ERR_clear_error();
        return ReadResult::kError;
      }
      break;
    case SSL_ERROR_SSL: {
      unsigned long e = ERR_peek_error();
      if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
          ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        return ReadResult::kClosed;
      }
      break;
    }
    default:
      break;
  }
  *error = "TLS: " + OpenSslErrors("read failed");
  return ReadResult::kError;
}

std::string TlsChannel::version() const {
  return SSL_get_version(state_->ssl.get());
}

std::string TlsChannel::cipher() const {
  const char* name = SSL_get_cipher_name(state_->ssl.get());
  return name ? name : "";
}

}  // namespace client
