#include "server/listener.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <vector>

#include "common/clock.h"

namespace server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

TEST(MaxConnectionsTest, ASettingIsTakenAsItIs) {
  EXPECT_EQ(MaxConnectionsFor(7), 7u);
}

TEST(MaxConnectionsTest, ZeroLeavesAReserveBelowTheDescriptorLimit) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  size_t cap = MaxConnectionsFor(0);
  EXPECT_GE(cap, 8u);
  rlim_t fds = limit.rlim_cur == RLIM_INFINITY
                   ? rlim_t{1} << 20
                   : std::min<rlim_t>(limit.rlim_cur, rlim_t{1} << 20);
  if (fds > 128) {
    EXPECT_EQ(cap, fds - 64);
  }
}

// Real loopback sockets: the first peer is handed over, the second, past
// the cap, reads a refusal naming the cap and is never handed over.
TEST(ListenerTest, PastTheCapAPeerReadsARefusal) {
  asio::io_context io;
  common::ManualClock clock;
  std::vector<tcp::socket> accepted;
  Listener listener(
      io, clock, 1, [&] { return accepted.size(); },
      [&](tcp::socket s) { accepted.push_back(std::move(s)); });
  std::string error;
  ASSERT_TRUE(listener.Listen("127.0.0.1", "0", &error)) << error;
  ASSERT_NE(listener.port(), 0);
  listener.Start();
  tcp::endpoint at(asio::ip::make_address("127.0.0.1"), listener.port());

  tcp::socket first(io);
  first.connect(at);
  for (int i = 0; i < 1000 && accepted.empty(); ++i)
    io.run_one_for(std::chrono::milliseconds(10));
  ASSERT_EQ(accepted.size(), 1u);

  tcp::socket second(io);
  second.connect(at);
  std::string text;
  std::array<char, 512> buffer;
  second.non_blocking(true);
  for (int i = 0; i < 1000 && text.find('}') == std::string::npos; ++i) {
    io.run_one_for(std::chrono::milliseconds(10));
    boost::system::error_code ec;
    size_t n = second.read_some(asio::buffer(buffer), ec);
    if (!ec) text.append(buffer.data(), n);
  }
  boost::json::object reply = boost::json::parse(text).as_object();
  EXPECT_EQ(reply.at("status").as_int64(), EAGAIN);
  EXPECT_NE(
      std::string(reply.at("error").as_string()).find("max_connections 1"),
      std::string::npos)
      << text;
  EXPECT_EQ(reply.if_contains("command"), nullptr);
  EXPECT_EQ(accepted.size(), 1u);
  listener.Stop();
}

TEST(ListenerTest, AnAddressThatCannotBeBoundIsAnError) {
  asio::io_context io;
  common::ManualClock clock;
  Listener listener(
      io, clock, 1, [] { return size_t{0}; }, [](tcp::socket) {});
  std::string error;
  EXPECT_FALSE(listener.Listen("192.0.2.1", "0", &error));
  EXPECT_NE(error.find("cannot listen on 192.0.2.1:0"), std::string::npos)
      << error;
}

}  // namespace
}  // namespace server
