#include "server/status_stream.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <random>

namespace server {

namespace json = boost::json;

namespace {

uint64_t NewToken() {
  static std::mt19937_64 generator = [] {
    uint64_t seed = static_cast<uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    try {
      seed ^= uint64_t{std::random_device{}()} << 32;
    } catch (const std::exception&) {
      // Out of descriptors: the clock alone.
    }
    return std::mt19937_64(seed);
  }();
  return generator();
}

}  // namespace

StatusStream::StatusStream() : token_(NewToken()) {}

std::string StatusStream::Placeholder(size_t i) const {
  // Unguessable: a mover id or a batch hint (peers' strings, also in the
  // object) cannot pass for one.
  return fmt::format("\x01stream:{:016x}:{}\x01", token_, i);
}

json::value StatusStream::AddArray(std::vector<ItemId> ids, Render render) {
  arrays_.push_back({std::move(ids), std::move(render)});
  return json::value(Placeholder(arrays_.size() - 1));
}

void StatusStream::SetObject(const json::object& object) {
  // Split at each placeholder, in the order they come in the text (not
  // the order they were made: objects may reorder their keys).
  const std::string all = json::serialize(object);
  const std::string marker = fmt::format("\"\\u0001stream:{:016x}:", token_);
  const std::string end_marker = "\\u0001\"";
  text_.clear();
  order_.clear();
  size_t from = 0;
  for (size_t at = all.find(marker); at != std::string::npos;
       at = all.find(marker, from)) {
    const size_t digits = at + marker.size();
    const size_t end = all.find(end_marker, digits);
    size_t index = 0;
    auto [ptr, ec] =
        std::from_chars(all.data() + digits, all.data() + end, index);
    if (end == std::string::npos || ec != std::errc() ||
        ptr != all.data() + end || index >= arrays_.size())
      break;  // cannot happen: the token is ours
    text_.push_back(all.substr(from, at - from));
    order_.push_back(index);
    from = end + end_marker.size();
  }
  text_.push_back(all.substr(from));
}

bool StatusStream::Produce(std::string* out) {
  size_t rendered = 0;
  json::object entry;
  for (;;) {
    if (!in_array_) {
      if (part_ >= text_.size()) return true;
      *out += text_[part_];
      if (++part_ == text_.size()) return true;
      array_ = order_[part_ - 1];
      position_ = 0;
      first_ = true;
      in_array_ = true;
      *out += '[';
    }
    Array& array = arrays_[array_];
    while (position_ < array.ids.size()) {
      if (rendered == kSlice) return false;
      entry.clear();
      ++rendered;
      if (!array.render(array.ids[position_++], &entry)) continue;
      if (!first_) *out += ',';
      first_ = false;
      *out += json::serialize(entry);
    }
    *out += ']';
    in_array_ = false;
    array.ids = {};  // release the snapshot
  }
}

}  // namespace server
