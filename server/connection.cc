#include "server/connection.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "tls/identity.h"

namespace server {

namespace asio = boost::asio;

namespace {

// The first byte of a TLS record carrying a handshake message (the
// ClientHello), whatever the version.
constexpr unsigned char kTlsHandshakeRecord = 22;
// What a refused plaintext peer may send before it is closed anyway.
constexpr size_t kMaxDrainedBytes = 64 * 1024;

// Why a handshake failed: OpenSSL's reason, and the certificate check's
// when that is what failed ("certificate has expired").
std::string HandshakeError(const boost::system::error_code& ec, SSL* ssl) {
  std::string why = ec.message();
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    why += fmt::format(" ({})", X509_verify_cert_error_string(verify));
  return why;
}

}  // namespace

void ConnectionHandler::OnUnreadable(Connection& connection,
                                     const std::string& why) {
  connection.CloseWhenWritten(why);
}

Connection::Connection(asio::ip::tcp::socket socket, ConnectionHandler& handler,
                       const ConnectionOptions& options,
                       std::shared_ptr<asio::ssl::context> tls)
    : socket_(std::move(socket)),
      tls_context_(std::move(tls)),
      handler_(handler),
      reader_(options.max_message_bytes, options.max_message_memory),
      max_message_bytes_(options.max_message_bytes) {
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

void Connection::Start() {
  if (tls_context_)
    PeekFirstByte();
  else
    Ready();
}

void Connection::Ready() {
  ready_ = true;
  ReadMore();
  if (!writing_ && !out_.empty()) WriteMore();
}

void Connection::PeekFirstByte() {
  auto self = shared_from_this();
  socket_.async_wait(
      asio::socket_base::wait_read,
      [this, self](const boost::system::error_code& ec) {
        if (!open_) return Finish("closed");
        if (ec) return Finish(ec.message());
        unsigned char first = 0;
        const ssize_t n =
            recv(socket_.native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) return Finish("peer closed the connection");
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return PeekFirstByte();
          return Finish(std::strerror(errno));
        }
        if (first != kTlsHandshakeRecord) return RefusePlaintext(first);
        Handshake();
      });
}

void Connection::Handshake() {
  tls_.emplace(socket_, *tls_context_);
  auto self = shared_from_this();
  tls_->async_handshake(
      asio::ssl::stream_base::server,
      [this, self](const boost::system::error_code& ec) {
        if (!open_) return Finish("closed");
        SSL* ssl = tls_->native_handle();
        if (ec) {
          tls_failure_ = "TLS handshake failed: " + HandshakeError(ec, ssl);
          return Finish(tls_failure_);
        }
        // With client certificates optional or required, one that did not
        // verify failed the handshake; checked again all the same.
        X509* cert = SSL_get1_peer_certificate(ssl);
        if (cert != nullptr && SSL_get_verify_result(ssl) == X509_V_OK)
          tls_identities = tls::IdentitiesOf(cert);
        X509_free(cert);
        spdlog::debug("{}: {} {}, {}", peer_, SSL_get_version(ssl),
                      SSL_get_cipher_name(ssl),
                      tls_identities.empty()
                          ? std::string("no client certificate")
                          : fmt::format("identities {}", tls_identities));
        Ready();
      });
}

void Connection::RefusePlaintext(unsigned char first) {
  plaintext_refused_ = true;
  tls_failure_ = fmt::format(
      "plaintext peer on the TLS port (first byte {:#04x}): refused", first);
  // In plain text, so that the peer can read it; without "command", like
  // the refusal past max_connections: a client takes it as the answer to
  // whatever it asked.
  current_ = boost::json::serialize(boost::json::object{
      {"status", EPROTO},
      {"error",
       "this server speaks TLS on this port: connect with TLS (client_tls, "
       "client_tls_ca)"}});
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(current_),
                    [this, self](const boost::system::error_code& ec, size_t) {
                      if (!open_ || ec) return Finish(tls_failure_);
                      boost::system::error_code ignored;
                      socket_.shutdown(asio::ip::tcp::socket::shutdown_send,
                                       ignored);
                      DrainRefused(0);
                    });
}

void Connection::DrainRefused(size_t drained) {
  // What the peer sent is read and dropped until it closes: closing with
  // bytes unread would reset the connection, and the refusal could be lost
  // before the peer read it. Bounded in bytes here, in time by the
  // handshake timeout.
  if (drained > kMaxDrainedBytes) return Finish(tls_failure_);
  auto self = shared_from_this();
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [this, self, drained](const boost::system::error_code& ec, size_t n) {
        if (!open_ || ec) return Finish(tls_failure_);
        DrainRefused(drained + n);
      });
}

void Connection::ReadMore() {
  auto self = shared_from_this();
  auto on_read = [this, self](const boost::system::error_code& ec, size_t n) {
    // Closed meanwhile: Close() reports it, with its reason.
    if (!open_) return;
    if (ec) {
      // A TLS peer that closes without close_notify: the same as EOF
      // (messages are whole JSON objects; a cut one is never handled).
      const bool eof =
          ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      return Finish(eof ? "peer closed the connection" : ec.message());
    }
    // Once the connection is to end, what the peer sends is read (a
    // close with bytes unread would reset the connection and could drop
    // the replies still owed) and dropped.
    if (handling_) Consume(std::string_view(read_buffer_.data(), n));
    if (!open_) return;
    ReadMore();
  };
  WithStream([&](auto& stream) {
    stream.async_read_some(asio::buffer(read_buffer_), std::move(on_read));
  });
}

void Connection::Consume(std::string_view bytes) {
  // The hot commands at the start of what was read, read without a DOM;
  // the rest (from the first other message on) goes to the reader, so
  // order is kept. A hot command cut by the end of the read waits in
  // hot_carry_ for the rest.
  if (!hot_carry_.empty()) {
    const size_t old = hot_carry_.size();
    const size_t added =
        std::min(bytes.size(), protocol::kMaxHotBatchBytes - old);
    hot_carry_.append(bytes.data(), added);
    size_t used = 0;
    switch (protocol::ScanHot(hot_carry_, &hot_, &used, max_message_bytes_)) {
      case protocol::HotScan::kTaken:
        bytes.remove_prefix(used - old);
        hot_carry_.clear();
        handler_.OnHotCommand(*this, hot_);
        if (!open_ || !handling_) return;
        break;
      case protocol::HotScan::kCut:
        if (added == bytes.size()) return;  // still cut: wait for more
        [[fallthrough]];
      case protocol::HotScan::kNotHot: {
        // Not one after all: the reader reads it from its start.
        hot_carry_.resize(old);
        const std::string held = std::move(hot_carry_);
        hot_carry_.clear();
        if (!FeedReader(held)) return;
        break;
      }
    }
  }
  if (handler_.takes_hot_commands(*this) && reader_.between_values()) {
    size_t used = 0;
    for (;;) {
      const protocol::HotScan scan =
          protocol::ScanHot(bytes, &hot_, &used, max_message_bytes_);
      if (scan == protocol::HotScan::kTaken) {
        bytes.remove_prefix(used);
        handler_.OnHotCommand(*this, hot_);
        if (!open_ || !handling_) return;
        continue;
      }
      if (scan == protocol::HotScan::kCut && !bytes.empty() &&
          bytes.size() < protocol::kMaxHotBatchBytes &&
          bytes.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        hot_carry_.assign(bytes.data(), bytes.size());
        return;
      }
      break;
    }
  }
  FeedReader(bytes);
}

bool Connection::FeedReader(std::string_view bytes) {
  const bool fed = reader_.Feed(bytes);
  // The messages completed before any bad bytes are handled first, as
  // the original handles each message before reading the next.
  // Same storage as the reader's objects: Next() moves, not copies.
  boost::json::object message(reader_.storage());
  while (open_ && handling_ && reader_.Next(&message))
    handler_.OnMessage(*this, message);
  if (!open_ || !handling_) return false;
  if (!fed) {
    Unreadable(reader_.error());
    return false;
  }
  return true;
}

void Connection::Unreadable(const std::string& why) {
  spdlog::warn("{}: {}: closing", id, why);
  handling_ = false;
  handler_.OnUnreadable(*this, why);
}

void Connection::CloseWhenWritten(const std::string& why) {
  if (!open_) return;
  handling_ = false;
  close_when_written_ = why;
  // Nothing left to write (or nothing can be written yet): now.
  if (!ready_ || (!writing_ && out_.empty())) Close(why);
}

void Connection::Send(const boost::json::object& message) {
  if (!open_) return;
  SendText(boost::json::serialize(message));
}

void Connection::SendText(std::string_view text) {
  if (!open_) return;
  if (!out_.empty() && !out_.back().stream &&
      out_.back().text.size() + text.size() <= kJoinBytes) {
    out_bytes_ += text.size();
    out_.back().text += text;
    if (out_bytes_ > kMaxQueuedBytes)
      return Close(
          fmt::format("peer reads too slowly ({} bytes queued)", out_bytes_));
    return ScheduleWrite();
  }
  SendText(std::string(text));
}

void Connection::SendText(std::string text) {
  if (!open_) return;
  out_bytes_ += text.size();
  // Small replies join the text queued before them: a mover's batch of
  // `done`s makes one string, not one queue entry (and allocation) each.
  if (!out_.empty() && !out_.back().stream &&
      out_.back().text.size() + text.size() <= kJoinBytes)
    out_.back().text += text;
  else
    out_.push_back({std::move(text), nullptr});
  if (out_bytes_ > kMaxQueuedBytes) {
    Close(fmt::format("peer reads too slowly ({} bytes queued)", out_bytes_));
    return;
  }
  ScheduleWrite();
}

void Connection::ScheduleWrite() {
  // At once, not posted to the end of the turn: a server that stops right
  // after its reply (lock and quit) never runs the turn's end. What queues
  // while this write is in flight leaves in the next one.
  if (!writing_ && ready_) WriteMore();
}

void Connection::SendStream(std::shared_ptr<OutputStream> stream) {
  if (!open_) return;
  out_.push_back({std::string(), std::move(stream)});
  ScheduleWrite();
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
  if (current_.empty()) {
    if (close_when_written_) Close(*close_when_written_);
    return;
  }
  writing_ = true;
  auto self = shared_from_this();
  auto on_written = [this, self](const boost::system::error_code& ec, size_t) {
    if (ec) {
      writing_ = false;
      Close(ec.message());
      return;
    }
    WriteMore();
  };
  WithStream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(current_), std::move(on_written));
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
