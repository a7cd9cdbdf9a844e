#include "server/standby_reply.h"

#include <memory>
#include <string>

#include "server/connection.h"

namespace server {

namespace json = boost::json;

json::object StandbyReply(std::string_view command, std::string_view leader) {
  json::object reply;
  reply["command"] = command;
  reply["status"] = kStandbyStatus;
  if (leader.empty()) {
    reply["error"] = "standby: no leader yet";
  } else {
    reply["error"] = "standby: the leader is " + std::string(leader);
    reply["leader"] = leader;
  }
  return reply;
}

bool StandbyAnswers(protocol::Command command) {
  return command != protocol::Command::kStatus;
}

namespace {

// The answer as a reply in pieces (server/connection.h, OutputStream): the
// connection asks for the next piece only once the previous one has left,
// so the second call comes after the answer was written, and closes.
class AnswerThenClose : public OutputStream {
 public:
  AnswerThenClose(std::weak_ptr<Connection> connection, std::string answer)
      : connection_(std::move(connection)), answer_(std::move(answer)) {}

  bool Produce(std::string* out) override {
    if (!answer_.empty()) {
      *out += answer_;
      answer_.clear();
      return false;
    }
    if (auto connection = connection_.lock())
      connection->Close("standby: answered, the peer goes to the leader");
    return true;
  }

 private:
  std::weak_ptr<Connection> connection_;
  std::string answer_;
};

}  // namespace

void AnswerAsStandby(Connection& connection, std::string_view command,
                     std::string_view leader) {
  connection.SendStream(std::make_shared<AnswerThenClose>(
      connection.weak_from_this(),
      json::serialize(StandbyReply(command, leader))));
}

}  // namespace server
