// Server: the HTTP listener (http_port, docs/monitoring.md). The listener
// itself is the http/ component; here is only its wiring: the routes the
// server registers, where it listens (the main port's exposure) with which
// TLS material, and who may read (the auth file's monitor or admin role).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/version.h"
#include "http/http_auth.h"
#include "server/server.h"

namespace server {

namespace {

// A Prometheus label value: backslash, double quote and newline escaped.
std::string LabelValue(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

}  // namespace

std::string Server::MetricsText() {
  return fmt::format(
      "# HELP coordinatool_build_info The version of the running server.\n"
      "# TYPE coordinatool_build_info gauge\n"
      "coordinatool_build_info{{version=\"{}\"}} 1\n",
      LabelValue(common::kVersion));
}

void Server::RegisterHttpRoutes() {
  http_routes_.Add("/metrics", [this](const http::HttpRequest&) {
    http::HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = MetricsText();
    return response;
  });
}

bool Server::StartHttp(const std::string& host, std::string* error) {
  const config::ServerSettings& s = options_.settings;
  if (s.http_port == "0") return true;
  RegisterHttpRoutes();
  http::HttpServerOptions options;
  options.tls = [this] { return tls_ ? tls_->context() : nullptr; };
  options.authorize = [this](const std::vector<std::string>& identities,
                             std::string_view authorization) {
    return http::CheckAccess(authorizer_ ? &*authorizer_ : nullptr, identities,
                             authorization);
  };
  http_ = std::make_unique<http::HttpServer>(io_, clock_, http_routes_,
                                             std::move(options));
  if (!http_->Listen(host, s.http_port, error)) {
    *error = "http_port: " + *error;
    return false;
  }
  spdlog::info("HTTP on {}:{} ({}{})", host, http_->port(),
               tls_ ? "TLS" : "plain",
               authorizer_ ? ", monitor or admin role needed" : "");
  http_->Start();
  return true;
}

}  // namespace server
