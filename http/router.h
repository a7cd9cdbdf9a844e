// Router: the HTTP listener's table of routes (docs/monitoring.md). The
// server registers a handler per path (an exact path, or a prefix such as
// "/assets/"); a request for any other path is 404 and any method but GET
// is 405 with an Allow header.
// Handlers run on the event loop: each must do bounded work (O(series) or
// O(a few items), never O(queued items)).
//
// Thread-safety: none; the event loop's thread.
#ifndef HTTP_ROUTER_H_
#define HTTP_ROUTER_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace http {

struct HttpRequest {
  std::string method;  // "GET"
  std::string path;    // the target without its query
  std::string query;   // after '?', without it; "" when none
  // Who asked, for handlers that log: "token NAME", "cert SUBJECT" or ""
  // (no authentication configured).
  std::string identity;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra headers (name, value), e.g. Allow, WWW-Authenticate,
  // Cache-Control.
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// A response with `status`, a plain-text body of its reason and `detail`.
HttpResponse TextResponse(int status, std::string_view detail = {});
// "OK", "Not Found"... for the statuses the listener uses.
std::string_view ReasonOf(int status);

class Router {
 public:
  // `path` exactly.
  void Add(std::string path, HttpHandler handler);
  // Every path starting with `prefix` (longest prefix wins over shorter
  // ones; an exact path wins over every prefix).
  void AddPrefix(std::string prefix, HttpHandler handler);
  HttpResponse Route(const HttpRequest& request) const;

 private:
  struct Entry {
    std::string path;
    bool prefix = false;
    HttpHandler handler;
  };
  const Entry* Find(std::string_view path) const;
  std::vector<Entry> routes_;
};

// Splits a request target ("/api/x?a=1") into path and query; false if the
// target is not an origin-form path of printable ASCII (bytes outside
// 0x21..0x7e, a target not starting with '/': 400).
bool SplitTarget(std::string_view target, std::string* path,
                 std::string* query);

}  // namespace http

#endif  // HTTP_ROUTER_H_
