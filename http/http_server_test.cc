// The HTTP listener with real sockets: routes, keep-alive, the bounds
// (head size, request timeout, connection cap), malformed requests, TLS
// with client certificate identities, authentication.
#include "http/http_server.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "auth/auth_file.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"
#include "tls/server_tls.h"

namespace http {
namespace {

namespace asio = boost::asio;
using testing_support::HttpGet;
using testing_support::HttpRequestOptions;
using testing_support::RawHttp;

constexpr const char* kMonitorSecret = "monitor-secret-0123456789";
constexpr const char* kMoverSecret = "mover-secret-0123456789ab";

// The listener on an event loop of its own thread; the test's thread is
// the client.
class Loop {
 public:
  Loop(HttpServerOptions options) {
    router_.Add("/metrics", [](const HttpRequest&) {
      HttpResponse response;
      response.content_type = "text/plain; version=0.0.4";
      response.body = "up 1\n";
      return response;
    });
    router_.Add("/who", [](const HttpRequest& request) {
      HttpResponse response;
      response.body = request.identity;
      return response;
    });
    server_ =
        std::make_unique<HttpServer>(io_, clock_, router_, std::move(options));
    std::string error;
    EXPECT_TRUE(server_->Listen("127.0.0.1", "0", &error)) << error;
    server_->Start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Loop();
  int port() const { return server_->port(); }
  // Runs `f` on the loop's thread and returns its result.
  template <typename F>
  auto Call(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }
  uint64_t refused(Refusal kind) {
    return Call([&] { return server_->refused(kind); });
  }
  size_t open() {
    return Call([&] { return server_->open(); });
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{
      io_.get_executor()};
  common::SteadyClock clock_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

Loop::~Loop() {
  Call([this] {
    server_->Stop();
    return 0;
  });
  guard_.reset();
  thread_.join();
}

TEST(HttpServerTest, ServesRoutes404And405) {
  Loop loop({});
  auto ok = HttpGet(loop.port(), "/metrics");
  ASSERT_EQ(ok.status, 200) << ok.error;
  EXPECT_EQ(ok.body, "up 1\n");
  EXPECT_EQ(ok.header("content-type"), "text/plain; version=0.0.4");
  EXPECT_EQ(HttpGet(loop.port(), "/nothing").status, 404);
  HttpRequestOptions post;
  post.method = "POST";
  auto refused = HttpGet(loop.port(), "/metrics", post);
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(refused.header("allow"), "GET");
}

TEST(HttpServerTest, KeepAliveServesSeveralRequests) {
  Loop loop({});
  std::string out = RawHttp(loop.port(),
                            "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /metrics HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n");
  size_t first = out.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 200", first + 1), std::string::npos) << out;
}

TEST(HttpServerTest, OversizedHeadIs431AndClosed) {
  Loop loop({});
  std::string big =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') +
      "\r\n\r\n";
  std::string out = RawHttp(loop.port(), big);
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
  EXPECT_EQ(out.find("timeout"), std::string::npos);
  EXPECT_EQ(loop.refused(Refusal::kTooLarge), 1u);
  // Just below the bound is served.
  std::string fits =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close"
      "\r\nX-Big: " +
      std::string(7000, 'a') + "\r\n\r\n";
  EXPECT_EQ(RawHttp(loop.port(), fits).rfind("HTTP/1.1 200", 0), 0u);
}

TEST(HttpServerTest, ABodyIsRefused) {
  Loop loop({});
  std::string out = RawHttp(loop.port(),
                            "GET /metrics HTTP/1.1\r\nHost: x\r\n"
                            "Content-Length: 5\r\n\r\nhello");
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
}

TEST(HttpServerTest, GarbageAndNonAsciiAre400) {
  Loop loop({});
  for (const std::string& bytes :
       {std::string("\xff\xfe\xfd garbage\r\n\r\n"),
        std::string("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("GET metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n"),
        std::string("\r\n\r\n\r\nhello world\r\n\r\n")}) {
    std::string out = RawHttp(loop.port(), bytes);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << bytes << " -> " << out;
  }
  // Still serving.
  EXPECT_EQ(HttpGet(loop.port(), "/metrics").status, 200);
}

TEST(HttpServerTest, APeerStoppingMidRequestIsClosedAndOthersServed) {
  HttpServerOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  Loop loop(options);
  // Half a request, then silence: closed after the timeout, and meanwhile
  // others are served.
  auto slow = std::async(std::launch::async, [&] {
    return RawHttp(loop.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-",
                   std::chrono::seconds(30));
  });
  EXPECT_EQ(HttpGet(loop.port(), "/metrics").status, 200);
  std::string out = slow.get();
  EXPECT_EQ(out, "") << "closed without a response, not by our timeout";
  EXPECT_EQ(loop.refused(Refusal::kTimeout), 1u);
  EXPECT_EQ(loop.open(), 0u);
}

TEST(HttpServerTest, ConnectionsPastTheCapGet503) {
  HttpServerOptions options;
  options.max_connections = 2;
  Loop loop(options);
  // Two idle connections hold the cap.
  asio::io_context io;
  asio::ip::tcp::socket a(io), b(io);
  a.connect({asio::ip::make_address("127.0.0.1"),
             static_cast<uint16_t>(loop.port())});
  b.connect({asio::ip::make_address("127.0.0.1"),
             static_cast<uint16_t>(loop.port())});
  ASSERT_TRUE(testing_support::WaitFor([&] { return loop.open() == 2; }));
  std::string out =
      RawHttp(loop.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << out;
  EXPECT_EQ(loop.refused(Refusal::kConnections), 1u);
  a.close();
  b.close();
  ASSERT_TRUE(testing_support::WaitFor([&] { return loop.open() == 0; }));
  EXPECT_EQ(HttpGet(loop.port(), "/metrics").status, 200);
}

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    std::string error;
    tls_ = tls::ServerTls::Load(
        {pki_.server().cert, pki_.server().key, pki_.ca(), "optional"}, &error);
    ASSERT_TRUE(tls_) << error;
    std::vector<auth::AuthRule> rules;
    const std::string text = std::string("monitor token prom ") +
                             kMonitorSecret + "\nmover token movers " +
                             kMoverSecret + " *\nmonitor cert CN=grafana\n" +
                             "mover cert CN=mover-1 mover-1\n";
    ASSERT_TRUE(auth::ParseAuthFile(text, "auth", &rules, &error)) << error;
    authorizer_.emplace(std::move(rules));
  }
  HttpServerOptions Options() {
    HttpServerOptions options;
    options.tls = [this] { return tls_->context(); };
    options.authorize = [this](const std::vector<std::string>& identities,
                               std::string_view authorization) {
      return CheckAccess(&*authorizer_, identities, authorization);
    };
    return options;
  }
  HttpRequestOptions Tls() {
    HttpRequestOptions options;
    options.tls = true;
    options.tls_files.ca = pki_.ca();
    return options;
  }

  testing_support::TempDir dir_;
  testing_support::TestPki pki_{dir_.path()};
  std::unique_ptr<tls::ServerTls> tls_;
  std::optional<auth::Authorizer> authorizer_;
};

TEST_F(HttpTlsTest, TokensAndRoles) {
  Loop loop(Options());
  HttpRequestOptions none = Tls();
  auto refused = HttpGet(loop.port(), "/metrics", none);
  EXPECT_EQ(refused.status, 401) << refused.error;
  EXPECT_NE(refused.header("www-authenticate"), "");
  HttpRequestOptions bearer = Tls();
  bearer.headers = {{"Authorization", std::string("Bearer ") + kMonitorSecret}};
  auto ok = HttpGet(loop.port(), "/who", bearer);
  EXPECT_EQ(ok.status, 200) << ok.error;
  EXPECT_EQ(ok.body, "token prom");
  HttpRequestOptions wrong = Tls();
  wrong.headers = {{"Authorization", "Bearer not-the-token-0123456789"}};
  EXPECT_EQ(HttpGet(loop.port(), "/metrics", wrong).status, 401);
  HttpRequestOptions mover = Tls();
  mover.headers = {{"Authorization", std::string("Bearer ") + kMoverSecret}};
  EXPECT_EQ(HttpGet(loop.port(), "/metrics", mover).status, 403);
  EXPECT_EQ(loop.refused(Refusal::kAuth), 3u);
}

TEST_F(HttpTlsTest, ClientCertificateRoles) {
  Loop loop(Options());
  std::string error;
  auto grafana = pki_.Issue("grafana", {"grafana", {"DNS:grafana.test"}},
                            testing_support::Issuer::kCa, &error);
  ASSERT_FALSE(grafana.cert.empty()) << error;
  HttpRequestOptions cert = Tls();
  cert.tls_files.cert = grafana.cert;
  cert.tls_files.key = grafana.key;
  auto ok = HttpGet(loop.port(), "/who", cert);
  EXPECT_EQ(ok.status, 200) << ok.error;
  EXPECT_NE(ok.body.find("grafana"), std::string::npos) << ok.body;
  // mover-1's certificate: known, without the monitor role.
  HttpRequestOptions mover = Tls();
  mover.tls_files.cert = pki_.client().cert;
  mover.tls_files.key = pki_.client().key;
  EXPECT_EQ(HttpGet(loop.port(), "/metrics", mover).status, 403);
}

TEST_F(HttpTlsTest, PlaintextOnTheTlsPortIsRefused) {
  Loop loop(Options());
  std::string out = RawHttp(loop.port(), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(out.find("200"), std::string::npos) << out;
  EXPECT_EQ(out.find("timeout"), std::string::npos) << out;
  EXPECT_TRUE(testing_support::WaitFor(
      [&] { return loop.refused(Refusal::kTls) == 1; }));
}

}  // namespace
}  // namespace http
