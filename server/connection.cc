#include "server/connection.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

namespace server {

namespace asio = boost::asio;

Connection::Connection(asio::ip::tcp::socket socket, ConnectionHandler& handler,
                       const ConnectionOptions& options)
    : socket_(std::move(socket)),
      handler_(handler),
      reader_(options.max_message_bytes, options.max_message_memory) {
  boost::system::error_code ec;
  auto endpoint = socket_.remote_endpoint(ec);
  peer_ = ec ? "unknown:0"
             : fmt::format("{}:{}", endpoint.address().to_string(),
                           endpoint.port());
  id = peer_;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // A peer whose host died or whose link went away sends no FIN: keepalive
  // probes find it (docs/operations.md, "Dead connections").
  socket_.set_option(asio::socket_base::keep_alive(true), ec);
  const int fd = socket_.native_handle();
  auto set = [fd](int option, int value) {
    if (value > 0) setsockopt(fd, IPPROTO_TCP, option, &value, sizeof(value));
  };
  set(TCP_KEEPIDLE, options.keepalive_idle_s);
  set(TCP_KEEPINTVL, options.keepalive_interval_s);
  set(TCP_KEEPCNT, options.keepalive_count);
  // Replies nobody acknowledges for as long also mean a dead peer.
  if (options.keepalive_idle_s > 0)
    set(TCP_USER_TIMEOUT,
        1000 * (options.keepalive_idle_s +
                options.keepalive_interval_s * options.keepalive_count));
}

void Connection::Start() { ReadMore(); }

void Connection::ReadMore() {
  auto self = shared_from_this();
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [this, self](const boost::system::error_code& ec, size_t n) {
        if (!open_) return Finish("closed");
        if (ec) {
          return Finish(ec == asio::error::eof ? "peer closed the connection"
                                               : ec.message());
        }
        if (!reader_.Feed(std::string_view(read_buffer_.data(), n))) {
          spdlog::warn("{}: {}: closing", id, reader_.error());
          return Finish(reader_.error());
        }
        // Same storage as the reader's objects: Next() moves, not copies.
        boost::json::object message(reader_.storage());
        while (open_ && reader_.Next(&message))
          handler_.OnMessage(*this, message);
        if (!open_) return Finish("closed");
        ReadMore();
      });
}

void Connection::Send(const boost::json::object& message) {
  if (!open_) return;
  std::string text = boost::json::serialize(message);
  out_bytes_ += text.size();
  out_.push_back({std::move(text), nullptr});
  if (out_bytes_ > kMaxQueuedBytes) {
    Close(fmt::format("peer reads too slowly ({} bytes queued)", out_bytes_));
    return;
  }
  if (!writing_) WriteMore();
}

void Connection::SendStream(std::shared_ptr<OutputStream> stream) {
  if (!open_) return;
  out_.push_back({std::string(), std::move(stream)});
  if (!writing_) WriteMore();
}

void Connection::WriteMore() {
  writing_ = false;
  if (!open_) return;
  out_bytes_ -= current_.size();
  current_.clear();
  // Everything queued while the last write was in flight goes out in one
  // write: a mover's read of 5,000 `done`s queues 5,000 replies, and one
  // send() each cost more than the rest of their handling. A stream gives
  // one piece per write, so that a big reply shares the loop with others.
  while (!out_.empty()) {
    Pending& front = out_.front();
    if (front.stream) {
      if (!current_.empty()) break;
      const bool finished = front.stream->Produce(&current_);
      out_bytes_ += current_.size();
      if (finished) out_.pop_front();
      if (!current_.empty()) break;
      continue;
    }
    if (current_.empty())
      current_ = std::move(front.text);
    else
      current_ += front.text;
    out_.pop_front();
  }
  if (current_.empty()) return;
  writing_ = true;
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(current_),
                    [this, self](const boost::system::error_code& ec, size_t) {
                      if (ec) {
                        writing_ = false;
                        Close(ec.message());
                        return;
                      }
                      WriteMore();
                    });
}

void Connection::Close(const std::string& why) {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  // Report from the loop, never from inside the caller's handler.
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [this, self, why] { Finish(why); });
}

void Connection::Finish(const std::string& why) {
  if (finished_) return;
  finished_ = true;
  if (open_) {
    open_ = false;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  handler_.OnClosed(*this, why);
}

}  // namespace server
