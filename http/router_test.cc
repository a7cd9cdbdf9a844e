// The route table: exact paths, prefixes, 404, 405; request targets.
#include "http/router.h"

#include <gtest/gtest.h>

namespace http {
namespace {

HttpHandler Says(std::string text) {
  return [text](const HttpRequest& request) {
    HttpResponse response;
    response.body = text + " " + request.path + "?" + request.query;
    return response;
  };
}

HttpRequest Get(std::string path, std::string method = "GET") {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

TEST(RouterTest, ExactPathsAndLongestPrefix) {
  Router router;
  router.Add("/", Says("root"));
  router.Add("/metrics", Says("metrics"));
  router.AddPrefix("/assets/", Says("assets"));
  router.AddPrefix("/assets/img/", Says("img"));
  EXPECT_EQ(router.Route(Get("/")).body, "root /?");
  EXPECT_EQ(router.Route(Get("/metrics")).body, "metrics /metrics?");
  EXPECT_EQ(router.Route(Get("/assets/app.js")).body, "assets /assets/app.js?");
  EXPECT_EQ(router.Route(Get("/assets/img/a.png")).body,
            "img /assets/img/a.png?");
}

TEST(RouterTest, UnknownPathIs404) {
  Router router;
  router.Add("/metrics", Says("metrics"));
  EXPECT_EQ(router.Route(Get("/metric")).status, 404);
  EXPECT_EQ(router.Route(Get("/metrics/")).status, 404);
  EXPECT_EQ(router.Route(Get("/")).status, 404);
  EXPECT_EQ(router.Route(Get("/nothing", "POST")).status, 404);
}

TEST(RouterTest, NonGetIs405WithAllow) {
  Router router;
  router.Add("/metrics", Says("metrics"));
  for (const char* method : {"POST", "PUT", "DELETE", "HEAD", "OPTIONS"}) {
    HttpResponse response = router.Route(Get("/metrics", method));
    EXPECT_EQ(response.status, 405) << method;
    ASSERT_EQ(response.headers.size(), 1u);
    EXPECT_EQ(response.headers[0].first, "Allow");
    EXPECT_EQ(response.headers[0].second, "GET");
  }
}

TEST(RouterTest, SplitTarget) {
  std::string path, query;
  EXPECT_TRUE(SplitTarget("/api/dashboard?x=1&y", &path, &query));
  EXPECT_EQ(path, "/api/dashboard");
  EXPECT_EQ(query, "x=1&y");
  EXPECT_TRUE(SplitTarget("/", &path, &query));
  EXPECT_EQ(path, "/");
  EXPECT_EQ(query, "");
  EXPECT_FALSE(SplitTarget("", &path, &query));
  EXPECT_FALSE(SplitTarget("*", &path, &query));
  EXPECT_FALSE(SplitTarget("http://host/metrics", &path, &query));
  EXPECT_FALSE(SplitTarget("/caf\xc3\xa9", &path, &query));
  EXPECT_FALSE(SplitTarget("/\xff\xfe", &path, &query));
  EXPECT_FALSE(SplitTarget(std::string_view("/a\0b", 4), &path, &query));
  EXPECT_FALSE(SplitTarget("/a\x7f", &path, &query));
}

}  // namespace
}  // namespace http
