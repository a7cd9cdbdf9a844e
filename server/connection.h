// Connection: one TCP peer of the server (a mover, the CLI, any client).
// Reads back-to-back JSON objects, hands each to its Handler, and writes
// replies without ever blocking the event loop: replies queue in memory and
// a peer that lets more than kMaxQueuedBytes pile up is disconnected, so one
// slow or dead peer cannot stall the server. What a peer makes the server
// hold is bounded: the object being parsed (raw bytes and parsed memory,
// ConnectionOptions) and the replies queued. A reply too large to build at
// once (a full status dump) is an OutputStream: it is produced chunk by
// chunk, each when the previous one left, one chunk per event-loop turn.
//
// With TLS (a context given at construction), the connection first peeks
// at the peer's first byte: a TLS handshake record starts the handshake; a
// plaintext peer gets one JSON error object in plain text and is closed
// (tls_failure() says so, for the server's throttled log). Nothing is read
// as a message or written before the handshake is done; a peer that stops
// in the middle of it is closed like any peer that sends no ehlo in time
// (handshake_timeout_ms, server/liveness.h), by Close().
//
// A peer that sends what ends its connection (bytes that are not JSON, a
// message the server closes on) is not closed at once: the connection
// stops handling what it sends (StopHandling(); what is read from then on
// is dropped), the server queues the close behind the replies it still
// owes for the messages before (they may wait for the store), and
// CloseWhenWritten() closes once those are written. The original answers
// each message before reading the next, so its peers get those replies.
//
// Thread-safety: none; lives on the server's io_context.
#ifndef SERVER_CONNECTION_H_
#define SERVER_CONNECTION_H_

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/authorizer.h"
#include "common/clock.h"
#include "protocol/hot_command.h"
#include "protocol/json_stream.h"
#include "server/scheduler.h"

namespace server {

class Connection;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual void OnMessage(Connection& connection,
                         boost::json::object& message) = 0;
  // A `done` or `progress` read without a DOM (protocol/hot_command.h),
  // to handle exactly as OnMessage would the same command. Only called when
  // takes_hot_commands(connection); otherwise every message goes to
  // OnMessage.
  virtual bool takes_hot_commands(const Connection& connection) const {
    (void)connection;
    return false;
  }
  virtual void OnHotCommand(Connection& connection,
                            const protocol::HotCommand& command) {
    (void)connection;
    (void)command;
  }
  // The peer sent bytes that cannot be read as messages (`why` says what):
  // the messages before them were handled, nothing after them will be.
  // The connection must end once the replies owed to it are written.
  virtual void OnUnreadable(Connection& connection, const std::string& why);
  // Called once, after the socket is closed for any reason.
  virtual void OnClosed(Connection& connection, const std::string& why) = 0;
};

// A reply written in pieces. Produce() appends the next piece (a few
// hundred KiB at most) to *out and returns true once the reply is complete.
class OutputStream {
 public:
  virtual ~OutputStream() = default;
  virtual bool Produce(std::string* out) = 0;
};

struct ConnectionOptions {
  // Largest JSON object accepted from the peer, in bytes of text.
  size_t max_message_bytes = protocol::kDefaultMaxValueBytes;
  // Memory the objects parsed from the peer may use at once.
  size_t max_message_memory = 64u << 20;
  // TCP keepalive: first probe after `keepalive_idle_s` of silence, then
  // every `keepalive_interval_s`, dead after `keepalive_count` unanswered
  // probes (or unacknowledged data for as long). 0: kernel defaults.
  int keepalive_idle_s = 0;
  int keepalive_interval_s = 0;
  int keepalive_count = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State { kInit, kReady, kWaiting };
  static constexpr size_t kMaxQueuedBytes = 64u << 20;
  // Replies queued one after the other join in one text up to this size.
  static constexpr size_t kJoinBytes = 256u << 10;

  // `tls`: the context of a TLS port (the one current when the peer
  // connected, kept for the connection's life); null: plain TCP.
  Connection(boost::asio::ip::tcp::socket socket, ConnectionHandler& handler,
             const ConnectionOptions& options,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

  void Start();
  // Queues one object for sending (compact JSON, nothing after the brace).
  void Send(const boost::json::object& message);
  // Queues text already serialised (one or more whole objects). What is
  // queued while a write is in flight leaves in one write after it.
  void SendText(std::string text);
  void SendText(std::string_view text);
  void SendText(const char* text) { SendText(std::string_view(text)); }
  // Queues a reply produced in pieces, after what is queued already; what
  // is sent later goes after it.
  void SendStream(std::shared_ptr<OutputStream> stream);
  // Closes the socket; OnClosed follows from the event loop. What is
  // queued and not written yet is dropped.
  void Close(const std::string& why);
  // Nothing more the peer sends is handled, from the next message on (the
  // one being handled ends as usual); what it sends is read and dropped.
  void StopHandling() { handling_ = false; }
  // Stops handling and closes once everything queued until now, and
  // anything queued before the close, is written: Close(why) then.
  void CloseWhenWritten(const std::string& why);

  // The peer address as "host:port": the id of an anonymous client.
  const std::string& peer() const { return peer_; }
  bool open() const { return open_; }
  // False once the connection is to end (StopHandling()): open, but
  // neither handling messages nor to be given work.
  bool handling() const { return handling_; }
  // Why the TLS start failed (a plaintext peer, a failed handshake), or "".
  const std::string& tls_failure() const { return tls_failure_; }
  bool plaintext_refused() const { return plaintext_refused_; }

  // Session state, owned by the server.
  State state = State::kInit;
  std::string id;  // client id once identified, else peer()
  // What the peer's verified certificate proves (tls/identity.h), filled
  // after the handshake; empty for plain TCP or no client certificate.
  std::vector<std::string> tls_identities;
  bool identified = false;
  std::vector<uint32_t> archive_ids;
  MoverLimits limits;
  uint64_t waiting_since = 0;   // order of recv, for dispatch passes
  bool sends_progress = false;  // announced progress heartbeats in ehlo
  bool warned_slots = false;    // max_archive vs batch slots, logged once
  bool heartbeats = false;      // announced heartbeats in ehlo
  // Asked in ehlo for no acknowledgement of its `done`s, only refusals
  // (protocol/done_items.h, quiet dones).
  bool quiet_done = false;
  // Liveness (server/liveness.h): when it connected, when it last sent a
  // whole message.
  common::Clock::TimePoint connected_at{};
  common::Clock::TimePoint last_heard{};
  common::Clock::TimePoint asked{};  // last heartbeat sent to it
  // Authentication (auth/, docs/auth.md), when the server has an auth
  // file: what the peer may do, from its certificate and the token it
  // presented (kept as a digest only, to grant again on reload).
  auth::Grant grant;
  bool granted = false;  // grant computed (at the first message)
  std::optional<auth::Digest> token;
  int failed_auths = 0;
  int refusals = 0;  // commands refused for want of a role

 private:
  void ReadMore();
  // Handles what was read: hot commands without a DOM while they come
  // first, the rest through the reader. Bytes the reader refuses end the
  // handling (Unreadable()); the messages before them are handled first.
  void Consume(std::string_view bytes);
  // Feeds the reader and handles the messages it completes; false once
  // the connection handles nothing more.
  bool FeedReader(std::string_view bytes);
  void Unreadable(const std::string& why);
  void WriteMore();
  // Writes now unless a write is in flight (its completion writes what
  // queued meanwhile).
  void ScheduleWrite();
  void Finish(const std::string& why);
  // TLS start: peek at the first byte, then Handshake() or
  // RefusePlaintext(); Ready() once messages may flow.
  void PeekFirstByte();
  void Handshake();
  void RefusePlaintext(unsigned char first);
  void DrainRefused(size_t drained);
  void Ready();
  // Runs `f` with the stream messages go through: TLS or the socket.
  template <typename F>
  void WithStream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(socket_);
  }

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  bool ready_ = false;  // plain, or the handshake done
  bool plaintext_refused_ = false;
  std::string tls_failure_;
  ConnectionHandler& handler_;
  protocol::JsonStreamReader reader_;
  const size_t max_message_bytes_;
  std::array<char, 64 * 1024> read_buffer_;
  // The start of a hot command cut by the end of a read (at most
  // protocol::kMaxHotBatchBytes), read again with what follows: a batch of
  // `done`s is often cut, and the reader's DOM would cost it all it saves.
  std::string hot_carry_;
  protocol::HotCommand hot_;  // reused: its batch's capacity
  // Queued replies, in order: text, or a stream producing text.
  struct Pending {
    std::string text;
    std::shared_ptr<OutputStream> stream;
  };
  std::deque<Pending> out_;
  std::string current_;   // being written
  size_t out_bytes_ = 0;  // queued text and current_
  bool writing_ = false;
  bool open_ = true;
  bool handling_ = true;
  // Set by CloseWhenWritten(): closes once the queue is written.
  std::optional<std::string> close_when_written_;
  bool finished_ = false;
  std::string peer_;
};

}  // namespace server

#endif  // SERVER_CONNECTION_H_
