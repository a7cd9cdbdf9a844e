#include "protocol/json_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <new>

namespace protocol {

namespace {

// new/delete with a running total and a ceiling: allocation beyond it
// throws std::bad_alloc, which Feed() turns into an error.
// `used` is shared with the reader: objects handed out may outlive it.
class CountingResource : public boost::json::memory_resource {
 public:
  CountingResource(size_t limit, std::shared_ptr<size_t> used)
      : limit_(limit), used_(std::move(used)) {}

 private:
  void* do_allocate(size_t n, size_t align) override {
    if (n > limit_ - *used_) throw std::bad_alloc();
    void* p = ::operator new(n, AlignmentFor(align));
    *used_ += n;
    return p;
  }
  void do_deallocate(void* p, size_t n, size_t align) override {
    *used_ -= n;
    ::operator delete(p, AlignmentFor(align));
  }
  // Boost.JSON does not always pass the same alignment to deallocate as to
  // allocate (a value_stack's storage); rounding both up to the default
  // new alignment keeps each pair matched, as sized aligned delete requires.
  static std::align_val_t AlignmentFor(size_t align) {
    return std::align_val_t(
        std::max(align, size_t{__STDCPP_DEFAULT_NEW_ALIGNMENT__}));
  }
  bool do_is_equal(const memory_resource& other) const noexcept override {
    return this == &other;
  }

  const size_t limit_;
  std::shared_ptr<size_t> used_;
};

}  // namespace

JsonStreamReader::JsonStreamReader(size_t max_value_bytes,
                                   size_t max_memory_bytes)
    : max_value_bytes_(max_value_bytes),
      max_memory_bytes_(max_memory_bytes),
      used_(std::make_shared<size_t>(0)),
      storage_(boost::json::make_shared_resource<CountingResource>(
          max_memory_bytes, used_)),
      parser_(storage_) {
  parser_.reset(storage_);
}

size_t JsonStreamReader::memory_bytes() const { return *used_; }

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
    size_t used;
    try {
      used = parser_.write_some(bytes.data(), bytes.size(), ec);
    } catch (const std::bad_alloc&) {
      error_ = fmt::format(
          "JSON value needs more than {} bytes of memory (after {} bytes "
          "of it)",
          max_memory_bytes_, pending_bytes_);
      return false;
    }
    if (ec) {
      error_ = fmt::format("malformed JSON: {}", ec.message());
      return false;
    }
    // The parser also takes the blanks that follow a complete value in the
    // same write; they are not part of it, and whether they came in the same
    // read must not decide whether the value fits.
    size_t value_bytes = used;
    if (parser_.done())
      while (value_bytes > 0 &&
             isspace(static_cast<unsigned char>(bytes[value_bytes - 1])))
        --value_bytes;
    pending_bytes_ += value_bytes;
    bytes.remove_prefix(used);
    if (pending_bytes_ > max_value_bytes_) {
      error_ = fmt::format("JSON value exceeds {} bytes", max_value_bytes_);
      return false;
    }
    if (parser_.done()) {
      boost::json::value value = parser_.release();
      parser_.reset(storage_);
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
