// Connection: one TCP peer of the server (a mover, the CLI, any client).
// Reads back-to-back JSON objects, hands each to its Handler, and writes
// replies without ever blocking the event loop: replies queue in memory and
// a peer that lets more than kMaxQueuedBytes pile up is disconnected, so one
// slow or dead peer cannot stall the server.
//
// Thread-safety: none; lives on the server's io_context.
#ifndef SERVER_CONNECTION_H_
#define SERVER_CONNECTION_H_

#include <array>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "protocol/json_stream.h"
#include "server/scheduler.h"

namespace server {

class Connection;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual void OnMessage(Connection& connection,
                         boost::json::object& message) = 0;
  // Called once, after the socket is closed for any reason.
  virtual void OnClosed(Connection& connection, const std::string& why) = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State { kInit, kReady, kWaiting };
  static constexpr size_t kMaxQueuedBytes = 64u << 20;

  Connection(boost::asio::ip::tcp::socket socket, ConnectionHandler& handler,
             size_t max_message_bytes);

  void Start();
  // Queues one object for sending (compact JSON, nothing after the brace).
  void Send(const boost::json::object& message);
  // Closes the socket; OnClosed follows from the event loop.
  void Close(const std::string& why);

  // The peer address as "host:port": the id of an anonymous client.
  const std::string& peer() const { return peer_; }
  bool open() const { return open_; }

  // Session state, owned by the server.
  State state = State::kInit;
  std::string id;  // client id once identified, else peer()
  bool identified = false;
  std::vector<uint32_t> archive_ids;
  MoverLimits limits;
  uint64_t waiting_since = 0;   // order of recv, for dispatch passes
  bool sends_progress = false;  // announced progress heartbeats in ehlo
  bool warned_slots = false;    // max_archive vs batch slots, logged once
  bool stalled = false;  // had work taken back: no dispatch until progress

 private:
  void ReadMore();
  void WriteMore();
  void Finish(const std::string& why);

  boost::asio::ip::tcp::socket socket_;
  ConnectionHandler& handler_;
  protocol::JsonStreamReader reader_;
  std::array<char, 64 * 1024> read_buffer_;
  std::deque<std::string> out_;
  size_t out_bytes_ = 0;
  bool writing_ = false;
  bool open_ = true;
  bool finished_ = false;
  std::string peer_;
};

}  // namespace server

#endif  // SERVER_CONNECTION_H_
