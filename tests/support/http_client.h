// HttpGet: one blocking HTTP/1.1 request from a test to 127.0.0.1:`port`
// (plain, or TLS verifying the server against a CA, with an optional client
// certificate), and RawHttp: raw bytes to the port and what comes back, for
// requests no client would send.
//
// Thread-compatible: each call has its own io_context.
#ifndef TESTS_SUPPORT_HTTP_CLIENT_H_
#define TESTS_SUPPORT_HTTP_CLIENT_H_

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace testing_support {

struct HttpTls {
  std::string ca;         // verifies the server (name "localhost")
  std::string cert, key;  // client certificate; empty: none
};

struct HttpRequestOptions {
  std::string method = "GET";
  // Extra headers, e.g. {"Authorization", "Bearer ..."}.
  std::vector<std::pair<std::string, std::string>> headers;
  bool tls = false;
  HttpTls tls_files;
  std::chrono::seconds timeout{30};
};

struct HttpResult {
  int status = 0;  // 0: no response (error says why)
  std::string error;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

HttpResult HttpGet(int port, const std::string& target,
                   const HttpRequestOptions& options = {});

// Sends `bytes` on a plain connection and returns everything read until the
// server closes (or `timeout`: then "timeout" is appended).
std::string RawHttp(int port, const std::string& bytes,
                    std::chrono::seconds timeout = std::chrono::seconds(30));

}  // namespace testing_support

#endif  // TESTS_SUPPORT_HTTP_CLIENT_H_
