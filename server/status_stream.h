// StatusStream: the `status` reply written in pieces, so that a dump of a
// million queued items neither exceeds a connection's output cap nor
// stalls the event loop while it is built.
//
// The reply is one JSON object, as always (the wire does not change; a
// small dump is byte for byte what a single write would send): its small
// fields are serialized at once; each item array that may be long
// (AddArray) is a snapshot of item identities, rendered a slice at a time
// as the peer reads. An item that changed state after the snapshot (done,
// sent, cancelled) is left out of that array when its turn comes, so every
// listed entry is true when written, and the dump of an item list is
// neither complete nor atomic, as with any moving queue.
//
// Thread-safety: none; produced on the server's event loop.
#ifndef SERVER_STATUS_STREAM_H_
#define SERVER_STATUS_STREAM_H_

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "server/connection.h"
#include "server/item.h"

namespace server {

class StatusStream : public OutputStream {
 public:
  StatusStream();
  // Appends the entry of `id` to *out (as JSON), or returns false if it
  // no longer belongs to the array.
  using Render = std::function<bool(const ItemId& id, boost::json::object*)>;

  // Returns a placeholder to put in the object where the array goes.
  boost::json::value AddArray(std::vector<ItemId> ids, Render render);
  // The object holding the placeholders; call once, after AddArray().
  void SetObject(const boost::json::object& object);

  bool Produce(std::string* out) override;

  // Entries rendered per Produce() call, at most.
  static constexpr size_t kSlice = 2048;

 private:
  struct Array {
    std::vector<ItemId> ids;
    Render render;
  };
  std::string Placeholder(size_t i) const;

  const uint64_t token_;
  std::vector<Array> arrays_;
  // The serialized object split at the placeholders: text_[0], array
  // order_[0], text_[1], ...
  std::vector<std::string> text_;
  std::vector<size_t> order_;  // order_[i]: the array after text_[i]
  size_t part_ = 0;            // text_ index next to write
  size_t array_ = 0;           // arrays_ index being written, when in_array_
  size_t position_ = 0;        // next id of that array
  bool in_array_ = false;
  bool first_ = true;  // no entry written yet in the current array
};

}  // namespace server

#endif  // SERVER_STATUS_STREAM_H_
