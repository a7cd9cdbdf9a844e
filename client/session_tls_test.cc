// Session with TLS on, against a small TLS server in the test (OpenSSL on a
// loopback socket, one connection at a time in its own thread) and
// certificates made by the openssl command (tests/support/test_pki.h). The
// end-to-end tests run it against the real server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "client/session.h"
#include "client/tls_settings.h"
#include "protocol/json_stream.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace client {
namespace {

namespace json = boost::json;
using testing_support::CertAndKey;
using testing_support::TempDir;
using testing_support::TestPki;
using testing_support::WaitFor;
using namespace std::chrono_literals;

bool WriteAll(SSL* ssl, const std::string& text) {
  size_t written = 0;
  return SSL_write_ex(ssl, text.data(), text.size(), &written) == 1 &&
         written == text.size();
}

// Accepts connections one after the other and hands each to the handler
// (with its SSL after a successful handshake, or nullptr when `tls` is
// off). What the handshake saw is kept for the test to read.
class TestServer {
 public:
  struct Options {
    bool tls = true;
    CertAndKey cert;
    std::string client_ca;  // non-empty: asks for a client certificate
    bool require_client_cert = false;
  };
  using Handler = std::function<void(SSL* ssl, int fd)>;

  TestServer(Options options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 8) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = std::to_string(ntohs(addr.sin_port));
    if (options_.tls && !MakeContext()) return;
    thread_ = std::thread([this] { Run(); });
  }
  ~TestServer() {
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    if (thread_.joinable()) thread_.join();
    close(listen_fd_);
    SSL_CTX_free(ctx_);
  }

  const std::string& port() const { return port_; }
  const std::string& setup_error() const { return setup_error_; }
  // The client certificate's CN of the last handshake ("" if none), and
  // why the last handshake failed ("" if it did not).
  std::string peer_cn() {
    std::lock_guard lock(mu_);
    return peer_cn_;
  }
  std::string handshake_error() {
    std::lock_guard lock(mu_);
    return handshake_error_;
  }
  int connections_done() const { return done_.load(); }

 private:
  bool MakeContext() {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx_, options_.cert.cert.c_str()) !=
            1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, options_.cert.key.c_str(),
                                    SSL_FILETYPE_PEM) != 1) {
      setup_error_ = "cannot load the server certificate";
      return false;
    }
    if (!options_.client_ca.empty()) {
      SSL_CTX_load_verify_locations(ctx_, options_.client_ca.c_str(), nullptr);
      SSL_CTX_set_client_CA_list(
          ctx_, SSL_load_client_CA_file(options_.client_ca.c_str()));
      SSL_CTX_set_verify(
          ctx_,
          SSL_VERIFY_PEER |
              (options_.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                            : 0),
          nullptr);
    }
    return true;
  }

  void Run() {
    // The server's writes may hit a closed peer: no SIGPIPE in this thread
    // (it stays pending here); the test's thread keeps the default action,
    // so a client write that raised one would end the test.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      SSL* ssl = nullptr;
      if (options_.tls) {
        ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, fd);
        ERR_clear_error();
        if (SSL_accept(ssl) != 1) {
          char reason[256];
          ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
          std::lock_guard lock(mu_);
          handshake_error_ = reason;
          SSL_free(ssl);
          ssl = nullptr;
          close(fd);
          ++done_;
          continue;
        }
        std::string cn;
        if (X509* peer = SSL_get1_peer_certificate(ssl)) {
          char name[256] = "";
          X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName,
                                    name, sizeof(name));
          cn = name;
          X509_free(peer);
        }
        std::lock_guard lock(mu_);
        peer_cn_ = cn;
        handshake_error_.clear();
      }
      handler_(ssl, fd);
      if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
      }
      close(fd);
      ++done_;
    }
  }

  const Options options_;
  const Handler handler_;
  int listen_fd_ = -1;
  std::string port_;
  std::string setup_error_;
  SSL_CTX* ctx_ = nullptr;
  std::thread thread_;
  std::atomic<int> done_{0};
  std::mutex mu_;
  std::string peer_cn_;
  std::string handshake_error_;
};

// Answers each object with {"command": <its command>, "status": 0, "n":
// <how many so far>, "peer": <client certificate CN>} until the client ends
// the stream (close_notify or end of connection).
void Echo(SSL* ssl, int) {
  protocol::JsonStreamReader reader;
  std::string peer;
  if (X509* cert = SSL_get0_peer_certificate(ssl)) {
    char name[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name,
                              sizeof(name));
    peer = name;
  }
  int64_t n = 0;
  char buffer[16 * 1024];
  for (;;) {
    size_t got = 0;
    if (SSL_read_ex(ssl, buffer, sizeof(buffer), &got) != 1) return;
    if (!reader.Feed(std::string_view(buffer, got))) return;
    json::object in;
    while (reader.Next(&in)) {
      json::object out{{"command", in["command"]},
                       {"status", 0},
                       {"n", ++n},
                       {"peer", peer}};
      if (!WriteAll(ssl, json::serialize(out))) return;
    }
  }
}

class SessionTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()) << pki_.error(); }

  TestServer::Options ServerWith(const CertAndKey& cert) {
    TestServer::Options options;
    options.cert = cert;
    return options;
  }
  TlsOptions Verifying(const std::string& ca) {
    TlsOptions tls;
    tls.enabled = true;
    tls.ca_file = ca;
    return tls;
  }
  // Connects to the server on localhost with `tls`; the error if it fails.
  std::string ConnectError(Session* session, const TestServer& server,
                           TlsOptions tls,
                           const std::string& host = "localhost") {
    session->set_tls(std::move(tls));
    std::string error;
    if (session->Connect(host, server.port(), &error)) return "";
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(session->connected());
    return error.empty() ? "(no error)" : error;
  }
  json::object Ask(Session* session, const std::string& command) {
    json::object reply;
    std::string error;
    EXPECT_TRUE(session->Call(json::object{{"command", command}}, &reply,
                              10'000, &error))
        << error;
    return reply;
  }

  TempDir dir_{"session-tls"};
  TestPki pki_{dir_.path()};
};

TEST_F(SessionTlsTest, TalksToAServerItTrustsByNameOrAddress) {
  TestServer server(ServerWith(pki_.server()), Echo);
  ASSERT_EQ(server.setup_error(), "");
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    Session session;
    ASSERT_EQ(ConnectError(&session, server, Verifying(pki_.ca()), host), "");
    ASSERT_NE(session.tls_channel(), nullptr);
    EXPECT_TRUE(session.tls_channel()->version() == "TLSv1.2" ||
                session.tls_channel()->version() == "TLSv1.3")
        << session.tls_channel()->version();
    json::object reply = Ask(&session, "status");
    EXPECT_EQ(reply["command"], "status");
    EXPECT_EQ(reply["n"], 1);
    // Several objects in one write.
    std::string error;
    ASSERT_TRUE(session.SendText(R"({"command":"a"}{"command":"b"})", &error))
        << error;
    json::object a, b;
    ASSERT_TRUE(session.Receive(&a, 10'000, &error)) << error;
    ASSERT_TRUE(session.Receive(&b, 10'000, &error)) << error;
    EXPECT_EQ(a["command"], "a");
    EXPECT_EQ(b["command"], "b");
    EXPECT_EQ(b["n"], 3);
  }
}

TEST_F(SessionTlsTest, RefusesAServerOfAnotherCa) {
  TestServer server(ServerWith(pki_.other_server()), Echo);
  Session session;
  std::string error = ConnectError(&session, server, Verifying(pki_.ca()));
  EXPECT_NE(error.find("the server's certificate is refused: unable to get "
                       "local issuer certificate"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("localhost:" + server.port()), std::string::npos)
      << error;
}

TEST_F(SessionTlsTest, RefusesAnExpiredServerCertificate) {
  TestServer server(ServerWith(pki_.expired_server()), Echo);
  Session session;
  std::string error = ConnectError(&session, server, Verifying(pki_.ca()));
  EXPECT_NE(error.find("certificate has expired"), std::string::npos) << error;
}

TEST_F(SessionTlsTest, RefusesACertificateWithoutTheServerName) {
  TestServer server(ServerWith(pki_.server()), Echo);
  Session session;
  TlsOptions tls = Verifying(pki_.ca());
  tls.server_name = "coordinatool.example";
  std::string error = ConnectError(&session, server, tls);
  EXPECT_NE(error.find("hostname mismatch"), std::string::npos) << error;
  tls.server_name = "127.0.0.2";
  error = ConnectError(&session, server, tls);
  EXPECT_NE(error.find("IP address mismatch"), std::string::npos) << error;
  // The same certificate, under a name it carries.
  tls.server_name = "localhost";
  EXPECT_EQ(ConnectError(&session, server, tls, "127.0.0.1"), "");
}

TEST_F(SessionTlsTest, MissingOrUnusableFilesAreNamed) {
  TestServer server(ServerWith(pki_.server()), Echo);
  Session session;
  TlsOptions tls = Verifying(dir_.Join("nowhere.pem"));
  EXPECT_NE(ConnectError(&session, server, tls)
                .find("client_tls_ca " + dir_.Join("nowhere.pem") +
                      ": No such file or directory"),
            std::string::npos);
  tls = Verifying(pki_.ca());
  tls.cert_file = pki_.client().cert;
  tls.key_file = pki_.other_client().key;
  EXPECT_NE(ConnectError(&session, server, tls).find("does not match"),
            std::string::npos);
  tls.cert_file.clear();
  EXPECT_NE(ConnectError(&session, server, tls)
                .find("client_tls_key is set without client_tls_cert"),
            std::string::npos);
}

TEST_F(SessionTlsTest, ShowsItsCertificateToAServerThatAsks) {
  TestServer::Options options = ServerWith(pki_.server());
  options.client_ca = pki_.ca();
  options.require_client_cert = true;
  TestServer server(options, Echo);
  ASSERT_EQ(server.setup_error(), "");
  {
    Session session;
    TlsOptions tls = Verifying(pki_.ca());
    tls.cert_file = pki_.client().cert;
    tls.key_file = pki_.client().key;
    ASSERT_EQ(ConnectError(&session, server, tls), "");
    EXPECT_EQ(Ask(&session, "status")["peer"], TestPki::kClientName);
  }
  // Without one, or with one of another CA: the server refuses, and the
  // session says so (with TLS 1.3, at the first read after the handshake).
  for (const CertAndKey* cert :
       {static_cast<const CertAndKey*>(nullptr), &pki_.other_client()}) {
    SCOPED_TRACE(cert ? "other CA" : "no certificate");
    Session session;
    TlsOptions tls = Verifying(pki_.ca());
    if (cert) {
      tls.cert_file = cert->cert;
      tls.key_file = cert->key;
    }
    std::string error = ConnectError(&session, server, tls);
    if (error.empty()) {
      json::object reply;
      EXPECT_FALSE(session.Call(json::object{{"command", "status"}}, &reply,
                                10'000, &error));
    }
    EXPECT_NE(error.find(cert ? "unknown ca" : "certificate required"),
              std::string::npos)
        << error;
    EXPECT_NE(server.handshake_error(), "");
  }
}

TEST_F(SessionTlsTest, SaysWhenTheServerDoesNotSpeakTls) {
  // A plaintext server that answers the hello with a JSON error, and one
  // that just closes.
  TestServer::Options plain;
  plain.tls = false;
  for (bool answers : {true, false}) {
    SCOPED_TRACE(answers ? "answers" : "closes");
    TestServer server(plain, [answers](SSL*, int fd) {
      char buffer[4096];
      if (recv(fd, buffer, sizeof(buffer), 0) <= 0) return;
      std::string reply =
          R"({"command":"error","status":71,"error":"not JSON"})"
          "\n";
      if (answers) send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    });
    Session session;
    std::string error = ConnectError(&session, server, Verifying(pki_.ca()));
    EXPECT_NE(error.find("is TLS on at the server?"), std::string::npos)
        << error;
  }
}

TEST_F(SessionTlsTest, AServerSilentInTheHandshakeTimesOut) {
  TestServer::Options plain;
  plain.tls = false;
  // Reads the hello and everything after, answers nothing, until the client
  // goes away.
  TestServer server(plain, [](SSL*, int fd) {
    char buffer[4096];
    while (recv(fd, buffer, sizeof(buffer), 0) > 0) {
    }
  });
  Session session;
  TlsOptions tls = Verifying(pki_.ca());
  tls.handshake_timeout_ms = 200;
  std::string error = ConnectError(&session, server, tls);
  EXPECT_NE(error.find("no answer from the server in 200 ms"),
            std::string::npos)
      << error;
  // The connection is closed: the server sees the end of it.
  EXPECT_TRUE(WaitFor([&] { return server.connections_done() == 1; }, 10s));
}

// Many records in one burst (a reply of several hundred KiB, then small
// ones): each arrives whole, and once Receive returned the last one, nothing
// is left inside OpenSSL: the descriptor polls empty and nothing is
// buffered (a copytool polling the descriptor would otherwise sleep on
// work already received).
TEST_F(SessionTlsTest, DrainsWhatOpenSslHolds) {
  constexpr int kSmall = 50;
  const std::string big(300 * 1024, 'x');
  TestServer server(ServerWith(pki_.server()), [&](SSL* ssl, int) {
    char buffer[256];
    size_t got = 0;
    if (SSL_read_ex(ssl, buffer, sizeof(buffer), &got) != 1) return;
    std::string burst =
        json::serialize(json::object{{"command", "big"}, {"data", big}});
    for (int i = 0; i < kSmall; ++i)
      burst += json::serialize(json::object{{"command", "small"}, {"i", i}});
    if (!WriteAll(ssl, burst)) return;
    // One record each, too.
    for (int i = kSmall; i < 2 * kSmall; ++i)
      if (!WriteAll(ssl, json::serialize(
                             json::object{{"command", "small"}, {"i", i}})))
        return;
    while (SSL_read_ex(ssl, buffer, sizeof(buffer), &got) == 1) {
    }
  });
  Session session;
  ASSERT_EQ(ConnectError(&session, server, Verifying(pki_.ca())), "");
  std::string error;
  ASSERT_TRUE(session.Send(json::object{{"command", "go"}}, &error));
  json::object m;
  ASSERT_TRUE(session.Receive(&m, 10'000, &error)) << error;
  EXPECT_EQ(m["data"].as_string().size(), big.size());
  for (int i = 0; i < 2 * kSmall; ++i) {
    ASSERT_TRUE(session.Receive(&m, 10'000, &error)) << i << ": " << error;
    EXPECT_EQ(m["i"], i);
  }
  EXPECT_FALSE(session.HasBuffered());
  pollfd pfd{session.fd(), POLLIN, 0};
  EXPECT_EQ(poll(&pfd, 1, 0), 0);
}

TEST_F(SessionTlsTest, WritingToAClosedServerIsAnErrorNotASignal) {
  // The server ends each connection at once after the handshake.
  TestServer server(ServerWith(pki_.server()), [](SSL*, int) {});
  Session session;
  ASSERT_EQ(ConnectError(&session, server, Verifying(pki_.ca())), "");
  ASSERT_TRUE(WaitFor([&] { return server.connections_done() == 1; }, 10s));
  // The first writes may still be taken by the kernel; then the peer's
  // reset makes them fail (EPIPE: with SIGPIPE, had the send not asked
  // for none, this test process would die).
  const std::string chunk(64 * 1024, ' ');
  std::string error;
  bool failed = false;
  for (int i = 0; i < 100 && !failed; ++i)
    failed = !session.SendText(chunk, &error);
  EXPECT_TRUE(failed);
  EXPECT_FALSE(error.empty());
}

TEST_F(SessionTlsTest, AForkedChildLeavesTheParentsSessionAlone) {
  TestServer server(ServerWith(pki_.server()), Echo);
  Session session;
  ASSERT_EQ(ConnectError(&session, server, Verifying(pki_.ca())), "");
  EXPECT_EQ(Ask(&session, "status")["n"], 1);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // As a copytool's child that ends: no close_notify on the parent's
    // connection.
    session.Close();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(Ask(&session, "status")["n"], 2);
}

TEST(TlsSettingsTest, OnWithTheKeyOrACaAndNamedByHostByDefault) {
  config::ClientSettings settings;
  settings.hosts = {"cdt1.example", "cdt2.example"};
  EXPECT_FALSE(TlsFromSettings(settings).enabled);
  settings.client_tls_ca = "/etc/ca.pem";
  TlsOptions tls = TlsFromSettings(settings);
  EXPECT_TRUE(tls.enabled);
  EXPECT_EQ(tls.ca_file, "/etc/ca.pem");
  // Empty: Session::Connect checks each server against its own host name.
  EXPECT_EQ(tls.server_name, "");
  settings.client_tls_ca.clear();
  settings.client_tls = true;
  settings.client_tls_server_name = "coordinatool";
  settings.client_tls_cert = "/c.pem";
  settings.client_tls_key = "/c.key";
  tls = TlsFromSettings(settings);
  EXPECT_TRUE(tls.enabled);
  EXPECT_EQ(tls.server_name, "coordinatool");
  EXPECT_EQ(tls.cert_file, "/c.pem");
  EXPECT_EQ(tls.key_file, "/c.key");
}

}  // namespace
}  // namespace client
