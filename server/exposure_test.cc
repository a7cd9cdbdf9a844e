#include "server/exposure.h"

#include <gtest/gtest.h>

#include <string>

namespace server {
namespace {

ExposureInput Input(std::string host, std::string address) {
  ExposureInput in;
  in.host = std::move(host);
  in.address = std::move(address);
  return in;
}

TEST(ExposureTest, LoopbackAddresses) {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  for (const char* a : {"0.0.0.0", "::", "10.0.0.1", "::ffff:10.0.0.1",
                        "localhost", "", "coordinatool"})
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
}

// The default: nothing protects the port, the host is not loopback.
TEST(ExposureTest, NothingSecureListensOnLoopbackOnlyAndSaysWhy) {
  Exposure e = DecideExposure(Input("coordinatool", "10.0.0.5"));
  EXPECT_TRUE(e.confined);
  EXPECT_EQ(e.listen_host, "127.0.0.1");
  ASSERT_EQ(e.lines.size(), 1u);
  EXPECT_TRUE(e.lines[0].warning);
  EXPECT_EQ(e.lines[0].text,
            "not listening on coordinatool (10.0.0.5), not a loopback "
            "address: with no TLS and no authentication, anyone who reaches "
            "the port can stop the server, read every queue (FIDs, cookies, "
            "hsm data), take or end movers' work and queue removals. "
            "Listening on 127.0.0.1 only. Configure TLS (tls_cert, tls_key) "
            "and authentication (auth_file, or tls_client_cert required), "
            "see docs/security.md, or set allow_insecure to listen on "
            "coordinatool anyway");
  EXPECT_EQ(DecideExposure(Input("::", "::")).listen_host, "::1");
  EXPECT_EQ(DecideExposure(Input("0.0.0.0", "0.0.0.0")).listen_host,
            "127.0.0.1");
}

// Half the protection is not enough: tokens in clear, or TLS for anyone.
TEST(ExposureTest, TlsWithoutAuthenticationOrAuthenticationWithoutTls) {
  ExposureInput tls_only = Input("0.0.0.0", "0.0.0.0");
  tls_only.tls = true;
  Exposure e = DecideExposure(tls_only);
  EXPECT_TRUE(e.confined);
  EXPECT_NE(e.lines[0].text.find("with no authentication of its peers"),
            std::string::npos)
      << e.lines[0].text;
  ExposureInput auth_only = Input("0.0.0.0", "0.0.0.0");
  auth_only.auth = true;
  e = DecideExposure(auth_only);
  EXPECT_TRUE(e.confined);
  EXPECT_NE(e.lines[0].text.find("with no TLS, tokens, FIDs and hsm data "
                                 "cross the network in clear"),
            std::string::npos)
      << e.lines[0].text;
  // Optional client certificates authenticate nobody.
  tls_only.client_certs_required = false;
  EXPECT_TRUE(DecideExposure(tls_only).confined);
}

TEST(ExposureTest, AllowInsecureListensWhereAskedWithAWarning) {
  ExposureInput in = Input("0.0.0.0", "0.0.0.0");
  in.allow_insecure = true;
  Exposure e = DecideExposure(in);
  EXPECT_FALSE(e.confined);
  EXPECT_EQ(e.listen_host, "0.0.0.0");
  ASSERT_EQ(e.lines.size(), 1u);
  EXPECT_TRUE(e.lines[0].warning);
  EXPECT_TRUE(e.lines[0].text.starts_with(
      "INSECURE: listening on 0.0.0.0 with no TLS and no authentication "
      "(allow_insecure): anyone who reaches the port can stop the server"))
      << e.lines[0].text;
}

TEST(ExposureTest, TlsAndAuthenticationListenWhereAsked) {
  for (auto [auth, certs] : {std::pair{true, false}, std::pair{false, true},
                             std::pair{true, true}}) {
    ExposureInput in = Input("mds1", "10.0.0.5");
    in.tls = true;
    in.auth = auth;
    in.client_certs_required = certs;
    Exposure e = DecideExposure(in);
    EXPECT_FALSE(e.confined);
    EXPECT_EQ(e.listen_host, "mds1");
    ASSERT_EQ(e.lines.size(), 1u);
    EXPECT_FALSE(e.lines[0].warning);
    EXPECT_TRUE(
        e.lines[0].text.starts_with("TLS on mds1 (10.0.0.5), peers "
                                    "authenticated by"))
        << e.lines[0].text;
  }
}

TEST(ExposureTest, LoopbackNeedsNothingAndSaysSo) {
  Exposure e = DecideExposure(Input("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(e.confined);
  EXPECT_EQ(e.listen_host, "127.0.0.1");
  ASSERT_EQ(e.lines.size(), 1u);
  EXPECT_FALSE(e.lines[0].warning);
  EXPECT_EQ(e.lines[0].text,
            "listening on loopback 127.0.0.1 with no TLS and no "
            "authentication: only users of this host reach the port");
  EXPECT_EQ(DecideExposure(Input("localhost", "::1")).listen_host, "localhost");
}

}  // namespace
}  // namespace server
