// Session: a blocking connection to a coordinatool server, for the CLI and
// the preload library (plain POSIX sockets: the preload library lives inside
// copytools that fork, so it keeps no threads or event loops of its own).
//
// Thread-safety: none; one user at a time.
#ifndef CLIENT_SESSION_H_
#define CLIENT_SESSION_H_

#include <boost/json.hpp>
#include <deque>
#include <memory>
#include <string>

#include "common/unique_fd.h"
#include "protocol/json_stream.h"

namespace client {

class Session {
 public:
  // Connects to host:port (close-on-exec). False with *error on failure.
  bool Connect(const std::string& host, const std::string& port,
               std::string* error);
  void Close();
  // Largest object accepted from the server, for the next Connect(): the
  // CLI lifts it for status dumps of big queues (written in pieces by the
  // server, one object all the same).
  void set_max_reply_bytes(size_t bytes) { max_reply_bytes_ = bytes; }
  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

  // Writes one object, nothing after its closing brace.
  bool Send(const boost::json::object& message, std::string* error);
  // Waits up to `timeout_ms` (negative: forever) for the next object.
  // False with *error on timeout ("timed out"), end of stream or bad input.
  bool Receive(boost::json::object* out, int timeout_ms, std::string* error);
  // True if a complete object is already buffered.
  bool HasBuffered();
  // Reads what the socket has without blocking and buffers complete
  // objects. False on end of stream or bad input.
  bool Pump(std::string* error);

  // Sends `request` and waits for the reply with the same "command"
  // (replies to other commands received meanwhile are dropped).
  bool Call(const boost::json::object& request, boost::json::object* reply,
            int timeout_ms, std::string* error);

 private:
  common::UniqueFd fd_;
  size_t max_reply_bytes_ = protocol::kDefaultMaxValueBytes;
  std::unique_ptr<protocol::JsonStreamReader> reader_ =
      std::make_unique<protocol::JsonStreamReader>();
  std::deque<boost::json::object> ready_;
};

// The reply's "status" as a positive errno (the original sends negative
// values for lock and queue refusals: docs/protocol.md, differences from the
// original); 0 if absent.
int ReplyStatus(const boost::json::object& reply);

}  // namespace client

#endif  // CLIENT_SESSION_H_
