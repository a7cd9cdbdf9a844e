// Issue 12, TLS on the server's port (real server, movers, sockets and
// certificates made by the openssl command): the wrong CA either way,
// expired certificates, a plaintext client, a client that stops in the
// middle of the handshake, a certificate rotated on SIGHUP; in each case a
// mover connected meanwhile keeps working. Movers (ct-posix under the
// preload library) reach the server through a TlsRelay, each of their
// connections one TLS session with a client certificate.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/server/raw_peer.h"
#include "tests/server/tls_peer.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace fs = std::filesystem;

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    ASSERT_TRUE(sim_.StartDaemon());
    // The files the server reads, copied so that a test can rotate them.
    fs::copy_file(pki_.server().cert, cert_);
    fs::copy_file(pki_.server().key, key_);
  }

  // A TLS server verifying client certificates against the CA.
  ::testing::AssertionResult StartTlsServer(
      std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"-v", "--tls-cert", cert_,    "--tls-key",
                                     key_, "--tls-ca",   pki_.ca()};
    args.insert(args.end(), more.begin(), more.end());
    return cdt_.StartServer(args);
  }

  // The good client's options: the CA, the mover's certificate.
  TlsClientOptions Good() const {
    return {pki_.ca(), pki_.client().cert, pki_.client().key};
  }

  // A relay for the movers and the test's status calls, and one mover.
  void StartMoverThroughRelay() {
    relay_ = std::make_unique<TlsRelay>(cdt_.port(), Good());
    cdt_.set_client_port(relay_->port());
    ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  }

  std::string NewFile(const std::string& name) {
    std::string path = sim_.Path(name);
    EXPECT_TRUE(WriteTestFile(path, 10000, ++files_).has_value());
    return path;
  }

  // The mover still works: one more archive completes, and the mover never
  // had to reconnect.
  void ExpectServiceContinues() {
    std::string path = NewFile("after" + std::to_string(files_));
    ASSERT_TRUE(sim_.Lfs({"hsm_archive", path}).ok());
    EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
        << cdt_.Logs();
    EXPECT_TRUE(cdt_.ServerLogLines("mover m1 disconnected").empty())
        << cdt_.Logs();
  }

  // A probe's handshake with the server, from the client's side.
  std::string HandshakeWith(const TlsClientOptions& options) {
    TlsProbe probe(options);
    return probe.Connect(cdt_.port());
  }

  TempDir pki_dir_{"tls-pki"};
  TestPki pki_{pki_dir_.path()};
  std::string cert_ = pki_dir_.Join("live.pem");
  std::string key_ = pki_dir_.Join("live.key");
  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
  std::unique_ptr<TlsRelay> relay_;
  int files_ = 0;
};

TEST_F(TlsServerTest, MoversWorkThroughTlsWithClientCertificates) {
  ASSERT_TRUE(StartTlsServer({"--tls-client-cert", "required"}));
  StartMoverThroughRelay();
  ExpectServiceContinues();
  EXPECT_GE(relay_->handshakes(), 2);  // the mover and the status calls
  EXPECT_EQ(relay_->failures(), 0);
  EXPECT_FALSE(cdt_.ServerLogLines("TLS on: certificate .*client "
                                   "certificates required")
                   .empty())
      << cdt_.Logs();
}

TEST_F(TlsServerTest, WrongCaEitherWayIsRefused) {
  ASSERT_TRUE(StartTlsServer({"--tls-client-cert", "required"}));
  StartMoverThroughRelay();
  // A client certificate from another CA: the server refuses it.
  TlsClientOptions other_client = Good();
  other_client.cert = pki_.other_client().cert;
  other_client.key = pki_.other_client().key;
  TlsProbe probe(other_client);
  const std::string why = probe.Connect(cdt_.port());
  // TLS 1.3: the client may finish its side before the server's verdict,
  // which then ends the connection before any reply.
  if (why.empty()) {
    EXPECT_EQ(probe.Call(R"({"command":"status"})"), "");
  }
  EXPECT_TRUE(WaitFor([&] {
    return !cdt_.ServerLogLines(
                    "TLS handshake failed: .*certificate verify "
                    "failed.*unable to get local issuer")
                .empty();
  })) << cdt_.Logs();
  // A client trusting another CA: it refuses the server.
  TlsClientOptions other_ca = Good();
  other_ca.ca = pki_.other_ca();
  EXPECT_NE(HandshakeWith(other_ca).find("certificate verify failed"),
            std::string::npos);
  ExpectServiceContinues();
}

TEST_F(TlsServerTest, ExpiredClientCertificateIsRefused) {
  ASSERT_TRUE(StartTlsServer());  // client certificates optional
  StartMoverThroughRelay();
  TlsClientOptions expired = Good();
  expired.cert = pki_.expired_client().cert;
  expired.key = pki_.expired_client().key;
  TlsProbe probe(expired);
  if (probe.Connect(cdt_.port()).empty()) {
    EXPECT_EQ(probe.Call(R"({"command":"status"})"), "");
  }
  EXPECT_TRUE(WaitFor([&] {
    return !cdt_.ServerLogLines(
                    "TLS handshake failed: .*certificate has "
                    "expired")
                .empty();
  })) << cdt_.Logs();
  ExpectServiceContinues();
}

TEST_F(TlsServerTest, ExpiredServerCertificateIsRefusedAtStartAndReload) {
  fs::copy_file(pki_.expired_server().cert, cert_,
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki_.expired_server().key, key_,
                fs::copy_options::overwrite_existing);
  EXPECT_FALSE(StartTlsServer());
  EXPECT_FALSE(cdt_.ServerLogLines("tls_cert .* expired on").empty())
      << cdt_.Logs();
  // A good one to start with; the expired one rotated in is refused, and
  // the server keeps serving with the good one.
  fs::copy_file(pki_.server().cert, cert_,
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki_.server().key, key_, fs::copy_options::overwrite_existing);
  ASSERT_TRUE(StartTlsServer());
  StartMoverThroughRelay();
  fs::copy_file(pki_.expired_server().cert, cert_,
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki_.expired_server().key, key_,
                fs::copy_options::overwrite_existing);
  ASSERT_EQ(cdt_.server().Signal(SIGHUP), 0);
  EXPECT_TRUE(WaitFor([&] {
    return !cdt_.ServerLogLines(
                    "TLS reload failed, keeping certificate .*"
                    "CN=localhost.*expired on")
                .empty();
  })) << cdt_.Logs();
  // New connections still get the good certificate.
  EXPECT_EQ(HandshakeWith(Good()), "");
  ExpectServiceContinues();
}

TEST_F(TlsServerTest, PlaintextClientIsRefusedCleanlyAndLoggedOnce) {
  ASSERT_TRUE(StartTlsServer());
  StartMoverThroughRelay();
  for (int i = 0; i < 5; ++i) {
    common::UniqueFd fd = ConnectTo(cdt_.port());
    ASSERT_TRUE(SendAll(fd.get(), R"({"command":"lock","locked":2})"));
    const std::string reply = ReadObject(fd.get());
    EXPECT_NE(reply.find("\"status\":71"), std::string::npos) << reply;
    EXPECT_NE(reply.find("speaks TLS"), std::string::npos) << reply;
    EXPECT_TRUE(ClosedAfterDraining(fd.get()));
  }
  // coordinatool-client in plain TCP gets the refusal as its answer.
  SpawnOptions plain_env;
  plain_env.env = {{"COORDINATOOL_CONF", "/dev/null"}};
  const CommandResult plain =
      RunCommand({CoordinatoolClientBinary(), "-H", "127.0.0.1", "-p",
                  std::to_string(cdt_.port())},
                 std::chrono::seconds(30), plain_env);
  EXPECT_FALSE(plain.ok());
  EXPECT_NE((plain.out + plain.err).find("speaks TLS"), std::string::npos)
      << plain.Describe();
  // Six refusals, one warning (throttled: at most one a minute).
  EXPECT_EQ(cdt_.ServerLogLines("warn.*plaintext peer on the TLS port").size(),
            1u)
      << cdt_.Logs();
  EXPECT_EQ(cdt_.ServerLogLines("locked|lock").size(), 0u) << cdt_.Logs();
  ExpectServiceContinues();
}

TEST_F(TlsServerTest, ClientStoppingInTheHandshakeIsClosed) {
  ASSERT_TRUE(StartTlsServer({"--handshake-timeout", "1500"}));
  StartMoverThroughRelay();
  // A TLS record header announcing a 512-byte ClientHello, and 4 bytes of
  // it; then nothing.
  common::UniqueFd stalled = ConnectTo(cdt_.port());
  ASSERT_TRUE(SendAll(stalled.get(), std::string("\x16\x03\x01\x02\x00"
                                                 "\x01\x00\x01\xfc",
                                                 9)));
  // Meanwhile the mover works.
  ExpectServiceContinues();
  EXPECT_TRUE(ClosedWithNothingMore(stalled.get()));
  EXPECT_FALSE(cdt_.ServerLogLines("no ehlo within 1500 ms").empty())
      << cdt_.Logs();
  ExpectServiceContinues();
}

TEST_F(TlsServerTest, RotatedCertificateIsUsedByNewConnections) {
  ASSERT_TRUE(StartTlsServer());
  StartMoverThroughRelay();
  {
    TlsProbe before(Good());
    ASSERT_EQ(before.Connect(cdt_.port()), "");
    EXPECT_NE(before.PeerSubject().find("CN=localhost"), std::string::npos);
  }
  const CertAndKey rotated = pki_.Issue(
      "rotated", {"rotated.test", {"DNS:localhost", "IP:127.0.0.1"}});
  ASSERT_FALSE(rotated.cert.empty());
  // Key first, then the certificate: a reload in between would be refused
  // (they do not match) and keep the old pair.
  fs::copy_file(rotated.key, key_, fs::copy_options::overwrite_existing);
  fs::copy_file(rotated.cert, cert_, fs::copy_options::overwrite_existing);
  ASSERT_EQ(cdt_.server().Signal(SIGHUP), 0);
  ASSERT_TRUE(WaitFor([&] {
    return !cdt_.ServerLogLines("TLS reloaded: .*CN=rotated.test").empty();
  })) << cdt_.Logs();
  TlsProbe after(Good());
  ASSERT_EQ(after.Connect(cdt_.port()), "");
  EXPECT_NE(after.PeerSubject().find("CN=rotated.test"), std::string::npos);
  EXPECT_NE(
      after.Call(R"({"command":"status"})").find("\"command\":\"status\""),
      std::string::npos);
  // The mover's connection, from before, goes on with the old one.
  ExpectServiceContinues();
  EXPECT_TRUE(cdt_.server().Running());
}

// SIGHUP used to end the daemon (its default action).
TEST_F(TlsServerTest, SighupDoesNotStopAPlainServer) {
  ASSERT_TRUE(cdt_.StartServer());
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  ASSERT_EQ(cdt_.server().Signal(SIGHUP), 0);
  EXPECT_TRUE(WaitFor([&] {
    return !cdt_.ServerLogLines("reload asked").empty();
  })) << cdt_.Logs();
  EXPECT_TRUE(cdt_.server().Running());
  ExpectServiceContinues();
}

}  // namespace
}  // namespace testing_support
