// The web dashboard's files (http/dashboard/: HTML, JavaScript, CSS),
// compiled into the binary at build time (http/dashboard/embed.cmake): the
// server serves them without reading files or reaching any network.
//
// Thread-safety: constant data.
#ifndef HTTP_ASSETS_H_
#define HTTP_ASSETS_H_

#include <string_view>

namespace http {

struct Asset {
  std::string_view name;  // "index.html", "dashboard.js"...
  std::string_view content_type;
  std::string_view body;
};

// The asset named `name`, or null.
const Asset* FindAsset(std::string_view name);

}  // namespace http

#endif  // HTTP_ASSETS_H_
