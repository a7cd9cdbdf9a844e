#include "server/status_stream.h"

#include <fmt/format.h>

namespace server {

namespace json = boost::json;

namespace {

// A string no reply field can hold: \u0001 cannot come from a client's
// data without being escaped as such, and the serial number is ours.
std::string Placeholder(size_t i) { return fmt::format("\x01stream:{}\x01", i); }

}  // namespace

json::value StatusStream::AddArray(std::vector<ItemId> ids, Render render) {
  arrays_.push_back({std::move(ids), std::move(render)});
  return json::value(Placeholder(arrays_.size() - 1));
}

void StatusStream::SetObject(const json::object& object) {
  std::string all = json::serialize(object);
  text_.clear();
  size_t from = 0;
  for (size_t i = 0; i < arrays_.size(); ++i) {
    // Serialized, the placeholder is a quoted string with \u0001 escapes.
    const std::string quoted = json::serialize(json::value(Placeholder(i)));
    size_t at = all.find(quoted, from);
    if (at == std::string::npos) {  // not in the object: nothing to write
      text_.push_back("");
      continue;
    }
    arrays_[i].placed = true;
    text_.push_back(all.substr(from, at - from));
    from = at + quoted.size();
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
      array_ = part_ - 1;
      position_ = 0;
      first_ = true;
      in_array_ = true;
      if (!arrays_[array_].placed) {
        in_array_ = false;
        continue;
      }
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
