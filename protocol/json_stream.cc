#include "protocol/json_stream.h"

#include <fmt/format.h>

#include <cctype>

namespace protocol {

JsonStreamReader::JsonStreamReader(size_t max_value_bytes)
    : max_value_bytes_(max_value_bytes) {}

bool JsonStreamReader::Feed(std::string_view bytes) {
  if (!error_.empty()) return false;
  while (!bytes.empty()) {
    if (!in_value_) {
      // Skip blanks between values; the parser would take them as the start
      // of a value that never completes.
      size_t skip = 0;
      while (skip < bytes.size() &&
             isspace(static_cast<unsigned char>(bytes[skip])))
        ++skip;
      bytes.remove_prefix(skip);
      if (bytes.empty()) break;
      if (bytes.front() != '{') {
        error_ = fmt::format("expected a JSON object, got byte 0x{:02x}",
                             static_cast<unsigned char>(bytes.front()));
        return false;
      }
      in_value_ = true;
      pending_bytes_ = 0;
    }
    boost::system::error_code ec;
    size_t used = parser_.write_some(bytes.data(), bytes.size(), ec);
    if (ec) {
      error_ = fmt::format("malformed JSON: {}", ec.message());
      return false;
    }
    pending_bytes_ += used;
    bytes.remove_prefix(used);
    if (pending_bytes_ > max_value_bytes_) {
      error_ = fmt::format("JSON value exceeds {} bytes", max_value_bytes_);
      return false;
    }
    if (parser_.done()) {
      boost::json::value value = parser_.release();
      parser_.reset();
      in_value_ = false;
      pending_bytes_ = 0;
      ready_.push_back(std::move(value.as_object()));
    }
  }
  return true;
}

bool JsonStreamReader::Next(boost::json::object* out) {
  if (ready_.empty()) return false;
  *out = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

}  // namespace protocol
