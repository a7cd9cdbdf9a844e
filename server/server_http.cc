// Server: the HTTP listener (http_port, docs/monitoring.md). The listener
// itself is the http/ component; here is only its wiring: the routes the
// server registers, where it listens (the main port's exposure) with which
// TLS material, and who may read (the auth file's monitor or admin role).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/version.h"
#include "hsm/fid.h"
#include "http/assets.h"
#include "http/http_auth.h"
#include "metrics/exposition.h"
#include "server/server.h"

namespace server {

namespace {

http::HttpResponse AssetResponse(const http::Asset* asset) {
  if (!asset) return http::TextResponse(404);
  http::HttpResponse response;
  response.content_type = std::string(asset->content_type);
  response.body = std::string(asset->body);
  response.headers.emplace_back("Cache-Control", "no-cache");
  return response;
}

}  // namespace

void Server::RegisterHttpRoutes() {
  http_routes_.Add("/metrics", [this](const http::HttpRequest&) {
    http::HttpResponse response;
    response.content_type = std::string(metrics::kContentType);
    response.body = MetricsText();
    return response;
  });
  http_routes_.Add("/api/dashboard", [this](const http::HttpRequest&) {
    http::HttpResponse response;
    response.content_type = "application/json";
    response.body = boost::json::serialize(
        DashboardJson(DashboardViewOf(), backlog_history_, restore_waits_));
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  });
  http_routes_.Add("/", [](const http::HttpRequest&) {
    return AssetResponse(http::FindAsset("index.html"));
  });
  http_routes_.AddPrefix("/assets/", [](const http::HttpRequest& request) {
    return AssetResponse(
        http::FindAsset(std::string_view(request.path).substr(8)));
  });
}

DashboardView Server::DashboardViewOf() const {
  DashboardView view;
  const StatusView status = StatusViewOf();
  view.version = common::kVersion;
  view.unix_s = clock_.UnixSeconds();
  view.locked = status.locked;
  view.store = status.store;
  view.store_writable = status.store_writable;
  const SchedulerCounters& counters = scheduler_.counters();
  for (size_t i = 0; i < kItemTypeCount; ++i) {
    view.waiting[i] = counters.pending[i];
    view.running[i] = counters.running[i];
    view.done[i] = counters.done[i];
  }
  for (const MoverStatusView& mover : status.movers) {
    DashboardMover m{mover.id, mover.state, mover.draining, {}, mover.done};
    for (ItemType type : kDispatchOrder)
      m.running[static_cast<size_t>(type)] = scheduler_.Running(mover.id, type);
    view.movers.push_back(std::move(m));
  }
  const int64_t now_ns = clock_.UnixNanos();
  for (ItemType type : kDispatchOrder)
    for (const Item* item : scheduler_.OldestWaiting(type, kDashboardOldest))
      view.oldest[static_cast<size_t>(type)].push_back(
          {hsm::FormatFid(item->hai.hai_fid),
           item->timestamp_ns > 0
               ? (now_ns - item->timestamp_ns) / 1'000'000'000
               : 0,
           item->archive_id});
  return view;
}

void Server::SampleBacklog() {
  if (stopped_ || !backlog_timer_) return;
  const SchedulerCounters& counters = scheduler_.counters();
  TypeCounts waiting, running;
  for (size_t i = 0; i < kItemTypeCount; ++i) {
    waiting[i] = counters.pending[i];
    running[i] = counters.running[i];
  }
  backlog_history_.MaybeSample(clock_.Now(), clock_.UnixSeconds(), waiting,
                               running);
  // Its own timer: a sample decides nothing about items or movers, and
  // the core's one deadline stays theirs.
  backlog_timer_->expires_after(backlog_history_.next_due() - clock_.Now());
  backlog_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) SampleBacklog();
  });
}

void Server::NoteDispatched(ItemType type, int64_t arrival_ns, int64_t now_ns) {
  if (type != ItemType::kRestore || arrival_ns <= 0) return;
  restore_waits_.Record(std::chrono::nanoseconds(now_ns - arrival_ns));
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
  backlog_timer_.emplace(io_);
  SampleBacklog();
  return true;
}

}  // namespace server
