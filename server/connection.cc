#include "server/connection.h"

#include <fmt/format.h>

namespace server {

namespace asio = boost::asio;

Connection::Connection(asio::ip::tcp::socket socket, ConnectionHandler& handler,
                       size_t max_message_bytes)
    : socket_(std::move(socket)),
      handler_(handler),
      reader_(max_message_bytes) {
  boost::system::error_code ec;
  auto endpoint = socket_.remote_endpoint(ec);
  peer_ = ec ? "unknown:0"
             : fmt::format("{}:{}", endpoint.address().to_string(),
                           endpoint.port());
  id = peer_;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
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
          return Finish(reader_.error());
        }
        boost::json::object message;
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
  out_.push_back(std::move(text));
  if (out_bytes_ > kMaxQueuedBytes) {
    Close(fmt::format("peer reads too slowly ({} bytes queued)", out_bytes_));
    return;
  }
  if (!writing_) WriteMore();
}

void Connection::WriteMore() {
  if (out_.empty() || !open_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  // Everything queued while the last write was in flight goes out in one
  // write: a mover's read of 5,000 `done`s queues 5,000 replies, and one
  // send() each cost more than the rest of their handling.
  if (out_.size() > 1) {
    std::string all;
    all.reserve(out_bytes_);
    for (const std::string& text : out_) all += text;
    out_.clear();
    out_.push_back(std::move(all));
  }
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [this, self](const boost::system::error_code& ec, size_t) {
                      if (ec) {
                        writing_ = false;
                        Close(ec.message());
                        return;
                      }
                      out_bytes_ -= out_.front().size();
                      out_.pop_front();
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
