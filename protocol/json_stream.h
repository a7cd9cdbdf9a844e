// JsonStreamReader: splits a byte stream of JSON objects written back to back
// (the coordinatool wire framing: no separator, no length prefix) into
// complete values. Whitespace between objects is accepted, as the original's
// reader should have.
//
// Every byte comes from a peer that may be hostile: one value larger than
// `max_value_bytes` is an error, as are bytes that are not JSON and values
// that are not objects. After an error the stream cannot be resynchronised;
// the caller closes the connection.
//
// Memory is bounded too: a parsed value costs several times its text (an
// unfinished 30 MiB array of small numbers took 360 MiB), so every value the
// reader builds, finished or not, is allocated from a counting resource
// and the reader fails once more than `max_memory_bytes` are in use. Objects
// handed out by Next() keep that resource (and count against it) until they
// are destroyed; a caller that declares its object with storage() avoids a
// copy on Next().
//
// Thread-safety: none; one reader per connection.
#ifndef PROTOCOL_JSON_STREAM_H_
#define PROTOCOL_JSON_STREAM_H_

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace protocol {

inline constexpr size_t kDefaultMaxValueBytes = 32u << 20;
inline constexpr size_t kUnboundedMemory = SIZE_MAX;

class JsonStreamReader {
 public:
  explicit JsonStreamReader(size_t max_value_bytes = kDefaultMaxValueBytes,
                            size_t max_memory_bytes = kUnboundedMemory);

  // Consumes `bytes`; complete objects become available through Next().
  // Returns false (and sets error()) on malformed input or an oversized value.
  bool Feed(std::string_view bytes);

  // Moves the next complete object to *out; false if none is ready.
  bool Next(boost::json::object* out);

  // True between values: nothing parsed and not handed out yet, so the
  // next bytes start a new value (or blanks before one).
  bool between_values() const { return !in_value_ && ready_.empty(); }
  // Bytes of the value being parsed so far (0 between values).
  size_t pending_bytes() const { return pending_bytes_; }
  const std::string& error() const { return error_; }
  // Bytes of parsed values alive now (parser state, ready objects and
  // objects handed out and not yet destroyed).
  size_t memory_bytes() const;
  // The storage of the objects this reader builds.
  const boost::json::storage_ptr& storage() const { return storage_; }

 private:
  size_t max_value_bytes_;
  size_t max_memory_bytes_;
  std::shared_ptr<size_t> used_;  // shared with the storage
  boost::json::storage_ptr storage_;
  boost::json::stream_parser parser_;
  size_t pending_bytes_ = 0;
  bool in_value_ = false;
  std::deque<boost::json::object> ready_;
  std::string error_;
};

}  // namespace protocol

#endif  // PROTOCOL_JSON_STREAM_H_
