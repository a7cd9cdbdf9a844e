// The server's TLS material (real certificates made by the openssl command)
// and handshakes between real sockets on loopback.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cstdio>
#include <filesystem>

#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tls/identity.h"
#include "tls/server_tls.h"

namespace tls {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using testing_support::CertAndKey;
using testing_support::TestPki;

X509* ReadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return cert;
}

class ServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()) << pki_.error(); }

  ServerTlsFiles Files(const CertAndKey& server, std::string ca = "",
                       std::string mode = "") {
    return {server.cert, server.key, std::move(ca), std::move(mode)};
  }

  // One handshake between a server with `server_tls` and a client with
  // `client` (configured by the caller), on loopback. Returns the server's
  // error ("" on success) and sets *identities to what the server saw.
  std::string Handshake(ServerTls& server_tls, ssl::context& client,
                        std::vector<std::string>* identities = nullptr) {
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    ssl::stream<tcp::socket> server_side(io, *server_tls.context());
    ssl::stream<tcp::socket> client_side(io, client);
    std::string server_error = "not run";
    acceptor.async_accept(
        server_side.next_layer(), [&](const boost::system::error_code& ec) {
          if (ec) return;
          server_side.async_handshake(ssl::stream_base::server,
                                      [&](const boost::system::error_code& hs) {
                                        server_error = hs ? hs.message() : "";
                                        if (hs || identities == nullptr) return;
                                        X509* peer = SSL_get1_peer_certificate(
                                            server_side.native_handle());
                                        *identities = IdentitiesOf(peer);
                                        X509_free(peer);
                                      });
        });
    client_side.next_layer().async_connect(
        acceptor.local_endpoint(), [&](const boost::system::error_code& ec) {
          if (ec) return;
          client_side.async_handshake(ssl::stream_base::client,
                                      [&](const boost::system::error_code& hs) {
                                        // A refused client closes, so the
                                        // server's read ends.
                                        if (hs)
                                          client_side.next_layer().close();
                                      });
        });
    io.run_for(std::chrono::seconds(20));
    return server_error;
  }

  // A client verifying the server against the CA, with `cert` if given.
  std::unique_ptr<ssl::context> Client(const CertAndKey* cert = nullptr) {
    auto c = std::make_unique<ssl::context>(ssl::context::tls_client);
    c->load_verify_file(pki_.ca());
    c->set_verify_mode(ssl::verify_peer);
    if (cert != nullptr) {
      c->use_certificate_chain_file(cert->cert);
      c->use_private_key_file(cert->key, ssl::context::pem);
    }
    return c;
  }

  testing_support::TempDir dir_{"tls-test"};
  TestPki pki_{dir_.path()};
};

TEST_F(ServerTlsTest, LoadsAndDescribesTheCertificate) {
  std::string error;
  auto tls = ServerTls::Load(Files(pki_.server()), &error);
  ASSERT_NE(tls, nullptr) << error;
  EXPECT_NE(tls->context(), nullptr);
  EXPECT_EQ(tls->client_cert_mode(), ClientCertMode::kNone);
  EXPECT_NE(tls->description().find("CN=localhost"), std::string::npos)
      << tls->description();
  // With a CA, client certificates are optional unless said otherwise.
  tls = ServerTls::Load(Files(pki_.server(), pki_.ca()), &error);
  ASSERT_NE(tls, nullptr) << error;
  EXPECT_EQ(tls->client_cert_mode(), ClientCertMode::kOptional);
  tls = ServerTls::Load(Files(pki_.server(), pki_.ca(), "required"), &error);
  ASSERT_NE(tls, nullptr) << error;
  EXPECT_EQ(tls->client_cert_mode(), ClientCertMode::kRequired);
}

TEST_F(ServerTlsTest, BadMaterialIsRefusedWithTheReason) {
  struct Case {
    ServerTlsFiles files;
    const char* expected;
  };
  const Case cases[] = {
      {{pki_.server().cert, pki_.client().key, "", ""}, "does not match"},
      {Files(pki_.expired_server()), "expired on"},
      {{dir_.Join("missing.pem"), pki_.server().key, "", ""}, "missing.pem"},
      {Files(pki_.server(), "", "required"), "needs tls_ca"},
      {Files(pki_.server(), pki_.ca(), "sometimes"), "not one of"},
      {Files(pki_.server(), dir_.Join("no-ca.pem")), "tls_ca"},
      {{pki_.server().cert, pki_.ca(), "", ""}, "tls_key"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_EQ(ServerTls::Load(c.files, &error), nullptr) << c.expected;
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "expected '" << c.expected << "' in: " << error;
  }
}

TEST_F(ServerTlsTest, ReloadTakesNewFilesAndKeepsTheOldContextOnFailure) {
  const std::string cert = dir_.Join("live.pem"), key = dir_.Join("live.key");
  namespace fs = std::filesystem;
  fs::copy_file(pki_.server().cert, cert);
  fs::copy_file(pki_.server().key, key);
  std::string error;
  auto tls = ServerTls::Load({cert, key, "", ""}, &error);
  ASSERT_NE(tls, nullptr) << error;
  auto first = tls->context();

  // A rotated certificate: a new context, the old one still usable by the
  // connections that hold it.
  const CertAndKey rotated =
      pki_.Issue("rotated", {"rotated.test", {"DNS:localhost"}});
  ASSERT_FALSE(rotated.cert.empty());
  fs::copy_file(rotated.cert, cert, fs::copy_options::overwrite_existing);
  fs::copy_file(rotated.key, key, fs::copy_options::overwrite_existing);
  ASSERT_TRUE(tls->Reload(&error)) << error;
  EXPECT_NE(tls->context(), first);
  EXPECT_NE(tls->description().find("rotated.test"), std::string::npos);
  auto second = tls->context();

  // Half a rotation (the new key not there yet): refused, nothing changes.
  fs::copy_file(pki_.server().cert, cert, fs::copy_options::overwrite_existing);
  EXPECT_FALSE(tls->Reload(&error));
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;
  EXPECT_EQ(tls->context(), second);
  EXPECT_NE(tls->description().find("rotated.test"), std::string::npos);
}

TEST_F(ServerTlsTest, IdentitiesOfACertificate) {
  X509* cert = ReadCert(pki_.client().cert);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(IdentitiesOf(cert),
            (std::vector<std::string>{
                "CN=mover-1", "subject=CN=mover-1,O=coordinatool tests",
                "DNS:mover-1.test", "email:mover-1@example.org",
                "URI:spiffe://coordinatool.test/mover-1"}));
  X509_free(cert);
  cert = ReadCert(pki_.server().cert);
  ASSERT_NE(cert, nullptr);
  const auto server = IdentitiesOf(cert);
  EXPECT_NE(std::find(server.begin(), server.end(), "IP:127.0.0.1"),
            server.end());
  X509_free(cert);
  EXPECT_TRUE(IdentitiesOf(nullptr).empty());
}

TEST_F(ServerTlsTest, EscapesWhatCouldForgeALogLine) {
  EXPECT_EQ(EscapeIdentity("mover-1"), "mover-1");
  EXPECT_EQ(EscapeIdentity("a\nb\\c\x7f\xc3\xa9"),
            "a\\x0ab\\\\c\\x7f\\xc3\\xa9");
  // A common name with a newline, in a real certificate.
  const CertAndKey forged =
      pki_.Issue("forged", {"evil\\0Aok", {"DNS:x.test"}});
  ASSERT_FALSE(forged.cert.empty());
  X509* cert = ReadCert(forged.cert);
  ASSERT_NE(cert, nullptr);
  for (const std::string& id : IdentitiesOf(cert))
    EXPECT_EQ(id.find('\n'), std::string::npos) << id;
  X509_free(cert);
}

TEST_F(ServerTlsTest, HandshakeGivesTheClientIdentities) {
  std::string error;
  auto tls = ServerTls::Load(Files(pki_.server(), pki_.ca()), &error);
  ASSERT_NE(tls, nullptr) << error;
  std::vector<std::string> identities;
  auto client = Client(&pki_.client());
  EXPECT_EQ(Handshake(*tls, *client, &identities), "");
  EXPECT_EQ(identities.size(), 5u);
  EXPECT_EQ(identities.empty() ? "" : identities[0], "CN=mover-1");
  // Optional: a client without a certificate comes in, with no identity.
  identities = {"unchanged"};
  client = Client();
  EXPECT_EQ(Handshake(*tls, *client, &identities), "");
  EXPECT_TRUE(identities.empty());
}

TEST_F(ServerTlsTest, HandshakeRefusals) {
  std::string error;
  auto required =
      ServerTls::Load(Files(pki_.server(), pki_.ca(), "required"), &error);
  ASSERT_NE(required, nullptr) << error;
  auto optional = ServerTls::Load(Files(pki_.server(), pki_.ca()), &error);
  ASSERT_NE(optional, nullptr) << error;
  // Required and none sent.
  EXPECT_NE(Handshake(*required, *Client()), "");
  // Signed by another CA, or expired: refused even when optional.
  EXPECT_NE(Handshake(*optional, *Client(&pki_.other_client())), "");
  EXPECT_NE(Handshake(*optional, *Client(&pki_.expired_client())), "");
  // Below TLS 1.2.
  auto old = Client();
  SSL_CTX_set_min_proto_version(old->native_handle(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old->native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_security_level(old->native_handle(), 0);
  EXPECT_NE(Handshake(*optional, *old), "");
  // And the same server accepts a good one.
  EXPECT_EQ(Handshake(*required, *Client(&pki_.client())), "");
}

}  // namespace
}  // namespace tls
