// The standby's answer (server/standby_reply.h): its exact form, which
// commands get it, and, on a real Connection over loopback, that a client
// reads it as a standby naming the leader (client/failover.h) and then
// finds the connection closed.
#include "server/standby_reply.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/failover.h"
#include "client/session.h"
#include "server/connection.h"
#include "tests/support/wait_for.h"

namespace server {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::ip::tcp;

TEST(StandbyReplyTest, NamesTheLeaderOrSaysThereIsNone) {
  EXPECT_EQ(json::serialize(StandbyReply("ehlo", "cdt2:5123")),
            R"({"command":"ehlo","status":11,)"
            R"("error":"standby: the leader is cdt2:5123",)"
            R"("leader":"cdt2:5123"})");
  EXPECT_EQ(json::serialize(StandbyReply("recv", "")),
            R"({"command":"recv","status":11,)"
            R"("error":"standby: no leader yet"})");
  EXPECT_EQ(kStandbyStatus, EAGAIN);
}

TEST(StandbyReplyTest, EveryCommandButStatus) {
  EXPECT_FALSE(StandbyAnswers(protocol::Command::kStatus));
  for (auto command :
       {protocol::Command::kAuth, protocol::Command::kEhlo,
        protocol::Command::kRecv, protocol::Command::kDone,
        protocol::Command::kQueue, protocol::Command::kLock,
        protocol::Command::kProgress, protocol::Command::kHeartbeat})
    EXPECT_TRUE(StandbyAnswers(command)) << protocol::CommandName(command);
}

// Answers every message as a standby whose leader is `leader`.
class StandbyHandler : public ConnectionHandler {
 public:
  explicit StandbyHandler(std::string leader) : leader_(std::move(leader)) {}
  void OnMessage(Connection& c, json::object& m) override {
    protocol::Command command;
    std::string name, error;
    ASSERT_EQ(protocol::ReadCommand(m, &command, &name, &error),
              protocol::CommandRead::kOk);
    ASSERT_TRUE(StandbyAnswers(command));
    AnswerAsStandby(c, protocol::CommandName(command), leader_);
  }
  void OnClosed(Connection&, const std::string&) override { closed = true; }
  std::atomic<bool> closed{false};

 private:
  const std::string leader_;
};

TEST(StandbyReplyTest, AClientReadsItThenFindsTheConnectionClosed) {
  asio::io_context io;
  tcp::acceptor acceptor(io,
                         tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  StandbyHandler handler("127.0.0.1:7777");
  std::shared_ptr<Connection> connection;
  acceptor.async_accept([&](boost::system::error_code ec, tcp::socket s) {
    ASSERT_FALSE(ec) << ec.message();
    connection = std::make_shared<Connection>(std::move(s), handler,
                                              ConnectionOptions{});
    connection->Start();
  });
  auto guard = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });

  client::Session session;
  std::string error;
  ASSERT_TRUE(session.Connect(
      "127.0.0.1", std::to_string(acceptor.local_endpoint().port()), &error))
      << error;
  // Two messages at once, as a mover sends ehlo then recv: the first is
  // answered, then the connection closes.
  ASSERT_TRUE(session.SendText(R"({"command":"ehlo","id":"m1"})"
                               R"({"command":"recv"})",
                               &error));
  json::object reply;
  ASSERT_TRUE(session.Receive(&reply, 10'000, &error)) << error;
  std::string leader;
  EXPECT_TRUE(client::IsStandbyAnswer(reply, &leader))
      << json::serialize(reply);
  EXPECT_EQ(leader, "127.0.0.1:7777");
  EXPECT_EQ(reply.at("command"), "ehlo");
  // Whatever else came is the same answer; then the end of the stream.
  while (session.Receive(&reply, 10'000, &error))
    EXPECT_TRUE(client::IsStandbyAnswer(reply, &leader));
  EXPECT_EQ(error, "the server closed the connection");

  guard.reset();
  EXPECT_TRUE(testing_support::WaitFor([&] { return handler.closed.load(); },
                                       std::chrono::seconds(10)));
  asio::post(io, [&] {
    connection.reset();
    acceptor.close();
  });
  loop.join();
}

}  // namespace
}  // namespace server
