#include "http/router.h"

#include <algorithm>

namespace http {

std::string_view ReasonOf(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
  }
  return "Unknown";
}

HttpResponse TextResponse(int status, std::string_view detail) {
  HttpResponse response;
  response.status = status;
  response.body = std::string(ReasonOf(status));
  if (!detail.empty()) {
    response.body += ": ";
    response.body += detail;
  }
  response.body += '\n';
  return response;
}

void Router::Add(std::string path, HttpHandler handler) {
  routes_.push_back({std::move(path), false, std::move(handler)});
}

void Router::AddPrefix(std::string prefix, HttpHandler handler) {
  routes_.push_back({std::move(prefix), true, std::move(handler)});
}

const Router::Entry* Router::Find(std::string_view path) const {
  const Entry* best = nullptr;
  for (const Entry& entry : routes_) {
    if (!entry.prefix) {
      if (entry.path == path) return &entry;
      continue;
    }
    if (path.starts_with(entry.path) &&
        (!best || entry.path.size() > best->path.size()))
      best = &entry;
  }
  return best;
}

HttpResponse Router::Route(const HttpRequest& request) const {
  const Entry* entry = Find(request.path);
  if (!entry) return TextResponse(404, request.path);
  if (request.method != "GET") {
    HttpResponse response = TextResponse(405, request.method);
    response.headers.emplace_back("Allow", "GET");
    return response;
  }
  return entry->handler(request);
}

bool SplitTarget(std::string_view target, std::string* path,
                 std::string* query) {
  if (target.empty() || target.front() != '/') return false;
  if (!std::all_of(target.begin(), target.end(),
                   [](char ch) { return ch > 0x20 && ch < 0x7f; }))
    return false;
  const size_t mark = target.find('?');
  *path = std::string(target.substr(0, mark));
  *query = mark == std::string_view::npos
               ? std::string()
               : std::string(target.substr(mark + 1));
  return true;
}

}  // namespace http
