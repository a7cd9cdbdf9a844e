// The HTTP listener (http_port, docs/monitoring.md) of a real server on the
// simulator: its routes, TLS and the auth file's roles, malformed and
// oversized requests, and a slow HTTP peer that changes nothing for movers.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <string>
#include <vector>

#include "protocol/byte_string.h"
#include "tests/server/coordinatool_setup.h"
#include "tests/support/http_client.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

// The token CoordinatoolSetup::EnableAuth gives the admin and the movers.
constexpr const char* kAdminToken = "setup-admin-token-0123456789";
constexpr const char* kMoversToken = "setup-movers-token-0123456789";

HttpRequestOptions Bearer(const std::string& token) {
  HttpRequestOptions options;
  options.headers = {{"Authorization", "Bearer " + token}};
  return options;
}

class HttpListenerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }

  SimMount sim_;
  CoordinatoolSetup cdt_{sim_};
};

TEST_F(HttpListenerTest, OffByDefault) {
  ASSERT_TRUE(cdt_.StartServer());
  EXPECT_EQ(cdt_.http_port(), 0);
  EXPECT_TRUE(cdt_.ServerLogLines("HTTP on").empty());
}

TEST_F(HttpListenerTest, ServesMetricsAnd404And405) {
  cdt_.EnableHttp();
  ASSERT_TRUE(cdt_.StartServer());
  EXPECT_FALSE(cdt_.ServerLogLines(
                       "HTTP on 127.0.0.1:" + std::to_string(cdt_.http_port()) +
                       " \\(plain\\)")
                   .empty());
  HttpResult metrics = HttpGet(cdt_.http_port(), "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_EQ(
      metrics.header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(metrics.body.find("coordinatool_build_info{version=\""),
            std::string::npos)
      << metrics.body;
  EXPECT_EQ(HttpGet(cdt_.http_port(), "/nothing").status, 404);
  HttpRequestOptions post;
  post.method = "POST";
  EXPECT_EQ(HttpGet(cdt_.http_port(), "/metrics", post).status, 405);
  // The main port still speaks its protocol.
  EXPECT_FALSE(cdt_.Status().empty());
}

TEST_F(HttpListenerTest, TlsAndRoles) {
  TempDir pki_dir;
  TestPki pki(pki_dir.path());
  ASSERT_TRUE(pki.ok()) << pki.error();
  SetupTls setup_tls;
  setup_tls.server_cert = pki.server().cert;
  setup_tls.server_key = pki.server().key;
  setup_tls.ca = pki.ca();
  cdt_.set_tls(setup_tls);
  cdt_.EnableAuth();
  cdt_.EnableHttp();
  ASSERT_TRUE(cdt_.StartServer());
  auto tls = [&](HttpRequestOptions options) {
    options.tls = true;
    options.tls_files.ca = pki.ca();
    return options;
  };
  HttpResult none = HttpGet(cdt_.http_port(), "/metrics", tls({}));
  EXPECT_EQ(none.status, 401) << none.error;
  EXPECT_NE(none.header("www-authenticate"), "");
  HttpResult admin =
      HttpGet(cdt_.http_port(), "/metrics", tls(Bearer(kAdminToken)));
  EXPECT_EQ(admin.status, 200) << admin.error;
  HttpRequestOptions basic;
  basic.headers = {{"Authorization",
                    "Basic " + protocol::Base64Encode(
                                   std::string("prometheus:") + kAdminToken)}};
  EXPECT_EQ(HttpGet(cdt_.http_port(), "/metrics", tls(basic)).status, 200);
  EXPECT_EQ(HttpGet(cdt_.http_port(), "/metrics",
                    tls(Bearer("wrong-token-0123456789abcdef")))
                .status,
            401);
  // The movers' token: known, without the monitor or admin role.
  HttpResult mover =
      HttpGet(cdt_.http_port(), "/metrics", tls(Bearer(kMoversToken)));
  EXPECT_EQ(mover.status, 403);
  EXPECT_NE(mover.body.find("token movers"), std::string::npos) << mover.body;
  // Plain HTTP on the TLS port gets nothing.
  HttpResult plain = HttpGet(cdt_.http_port(), "/metrics", Bearer(kAdminToken));
  EXPECT_EQ(plain.status, 0);
  // Four refusals for want of a role, one warning (then one a minute).
  EXPECT_EQ(
      cdt_.ServerLogLines("requests without the monitor or admin role so far")
          .size(),
      1u)
      << cdt_.Logs();
}

TEST_F(HttpListenerTest, MalformedAndOversizedRequestsAreRefused) {
  cdt_.EnableHttp();
  ASSERT_TRUE(cdt_.StartServer());
  EXPECT_EQ(RawHttp(cdt_.http_port(), "\x16\x03\x01\xff garbage\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0u);
  EXPECT_EQ(
      RawHttp(cdt_.http_port(), "GET /m\xe9trics HTTP/1.1\r\nHost: x\r\n\r\n")
          .rfind("HTTP/1.1 400", 0),
      0u);
  EXPECT_EQ(RawHttp(cdt_.http_port(), "GET /metrics HTTP/1.1\r\nX-A: " +
                                          std::string(20000, 'x') + "\r\n\r\n")
                .rfind("HTTP/1.1 431", 0),
            0u);
  // Logged: a warning for the first of each kind.
  EXPECT_EQ(cdt_.ServerLogLines("malformed requests so far").size(), 1u);
  EXPECT_EQ(cdt_.ServerLogLines("oversized requests so far").size(), 1u);
  EXPECT_EQ(HttpGet(cdt_.http_port(), "/metrics").status, 200);
}

TEST_F(HttpListenerTest, SlowHttpPeersDoNotStopMovers) {
  cdt_.EnableHttp();
  ASSERT_TRUE(cdt_.StartServer());
  ASSERT_NE(cdt_.StartMover("m1"), nullptr);
  // HTTP peers that stop in the middle of a request, and hold every
  // connection the listener serves.
  boost::asio::io_context io;
  std::vector<boost::asio::ip::tcp::socket> stalled;
  for (int i = 0; i < 70; ++i) {
    stalled.emplace_back(io);
    boost::system::error_code ec;
    stalled.back().connect({boost::asio::ip::make_address("127.0.0.1"),
                            static_cast<uint16_t>(cdt_.http_port())},
                           ec);
    ASSERT_FALSE(ec) << ec.message();
    const std::string half = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    boost::asio::write(stalled.back(), boost::asio::buffer(half), ec);
  }
  std::vector<std::string> paths = sim_.ArchiveNewFiles("slow", 3, "");
  for (const std::string& path : paths)
    EXPECT_TRUE(sim_.WaitForStatus(FidOf(path), "ARCHIVE", "SUCCEED"))
        << cdt_.Logs();
  // Past the cap (64), refused; logged once.
  EXPECT_EQ(cdt_.ServerLogLines("connections past the cap so far").size(), 1u)
      << cdt_.Logs();
}

}  // namespace
}  // namespace testing_support
