// The order servers are tried in (client/failover.h): the list in order,
// a standby's named leader next, rounds bounded, a lost server last; and
// the standby's answer as the protocol defines it.
#include "client/failover.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

namespace client {
namespace {

namespace json = boost::json;

ServerAddress A{"a", "1"}, B{"b", "1"}, C{"c", "1"}, L{"leader", "9"};

TEST(StandbyAnswerTest, RecognisedByStatusAndWords) {
  std::string leader;
  EXPECT_TRUE(IsStandbyAnswer(
      json::parse(R"({"command":"ehlo","status":11,"error":"standby: the )"
                  R"(leader is b:5123","leader":"b:5123"})")
          .as_object(),
      &leader));
  EXPECT_EQ(leader, "b:5123");
  // Leader unknown: no field.
  EXPECT_TRUE(IsStandbyAnswer(
      json::parse(R"({"command":"auth","status":11,"error":"standby"})")
          .as_object(),
      &leader));
  EXPECT_EQ(leader, "");
  // Any other refusal is not one, EAGAIN included.
  EXPECT_FALSE(IsStandbyAnswer(
      json::parse(R"({"command":"ehlo","status":11,"error":"busy"})")
          .as_object(),
      &leader));
  EXPECT_FALSE(IsStandbyAnswer(
      json::parse(R"({"command":"ehlo","status":22,"error":"standby"})")
          .as_object(),
      &leader));
  EXPECT_FALSE(IsStandbyAnswer(json::parse(R"({"command":"ehlo"})").as_object(),
                               &leader));
}

TEST(ServerListTest, OneServerIsOneAttemptPerRound) {
  ServerList list({A});
  EXPECT_EQ(list.Current(), A);
  EXPECT_FALSE(list.Failed());
  EXPECT_EQ(list.Current(), A);
  EXPECT_FALSE(list.Failed());
  list.Connected();
  list.Lost();
  EXPECT_EQ(list.Current(), A);
}

TEST(ServerListTest, TriesEachInOrderThenTheRoundIsOver) {
  ServerList list({A, B, C});
  std::vector<std::string> tried;
  do tried.push_back(list.Current().host);
  while (list.Failed());
  EXPECT_EQ(tried, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(list.standby_seen());
  // The next round starts at the first again.
  EXPECT_EQ(list.Current(), A);
}

TEST(ServerListTest, ALostServerComesLastInTheNextRound) {
  ServerList list({A, B, C});
  ASSERT_TRUE(list.Failed());  // a down
  list.Connected();            // on b
  EXPECT_EQ(list.Current(), B);
  list.Lost();
  std::vector<std::string> tried;
  do tried.push_back(list.Current().host);
  while (list.Failed());
  EXPECT_EQ(tried, (std::vector<std::string>{"c", "a", "b"}));
}

TEST(ServerListTest, FollowsTheNamedLeaderThenGoesOn) {
  ServerList list({A, B});
  EXPECT_TRUE(list.Standby(L));  // a is a standby naming a leader
  EXPECT_EQ(list.Current(), L);
  EXPECT_TRUE(list.Failed());  // the leader is not there (yet)
  EXPECT_EQ(list.Current(), B);
  EXPECT_FALSE(list.Standby(std::nullopt));  // b too, no leader known
  EXPECT_TRUE(list.standby_seen());
  EXPECT_EQ(list.Current(), A);
}

TEST(ServerListTest, ALeaderFromTheListIsThatServer) {
  ServerList list({A, B, C});
  EXPECT_TRUE(list.Standby(C));  // a names c
  EXPECT_EQ(list.Current(), C);
  list.Connected();
  list.Lost();  // c lost: a comes next, then b, then c
  EXPECT_EQ(list.Current(), A);
}

TEST(ServerListTest, StandbysNamingEachOtherCannotLoop) {
  ServerList list({A, B});
  // a names b, b names a, a names b...: at most one redirect per server in
  // a round, then the round is over.
  int attempts = 0;
  for (bool more = true; more; ++attempts) {
    const ServerAddress& now = list.Current();
    more = list.Standby(now == A ? B : A);
    ASSERT_LT(attempts, 10);
  }
  EXPECT_LE(attempts, 4);
  EXPECT_TRUE(list.standby_seen());
}

TEST(ServerListTest, AStandbyNamingItselfIsNotFollowed) {
  ServerList list({A, B});
  EXPECT_TRUE(list.Standby(A));
  EXPECT_EQ(list.Current(), B);
}

TEST(ServerListTest, LostWithAHintTriesTheLeaderFirst) {
  ServerList list({A, B});
  list.Connected();  // on a
  list.Lost(L);      // a stepped down naming L
  EXPECT_EQ(list.Current(), L);
  EXPECT_TRUE(list.Failed());
  EXPECT_EQ(list.Current(), B);
}

TEST(RoundDelayTest, AStandbySeenCapsTheWait) {
  common::ManualClock clock;
  // 25600 % (ceiling + 1): the ceiling itself once it is 25.6 s.
  Backoff backoff(clock, {}, [] { return uint64_t{25600}; });
  ServerList list({A});
  for (int i = 0; i < 8; ++i) backoff.NextDelay();  // ceiling 25.6 s
  EXPECT_FALSE(list.Failed());
  EXPECT_EQ(RoundDelay(backoff, list), std::chrono::milliseconds(25600));
  EXPECT_FALSE(list.Standby(std::nullopt));
  EXPECT_EQ(RoundDelay(backoff, list), kStandbyRetryCap);
}

// TryRound over scripted servers: who answers what.
TEST(TryRoundTest, FollowsTheLeaderAndNamesEveryFailure) {
  ServerList list({A, B});
  std::vector<std::string> tried;
  std::map<std::string, Attempt> answers = {
      {"a", {Attempt::Result::kFailed, "a:1: connection refused", ""}},
      {"b", {Attempt::Result::kStandby, "", "leader:9"}},
      {"leader", {Attempt::Result::kConnected, "", ""}}};
  std::string error;
  EXPECT_EQ(TryRound(
                list,
                [&](const ServerAddress& to) {
                  tried.push_back(to.host);
                  return answers[to.host];
                },
                &error),
            Attempt::Result::kConnected);
  EXPECT_EQ(tried, (std::vector<std::string>{"a", "b", "leader"}));
  EXPECT_EQ(list.Current(), L);

  answers["leader"] = {Attempt::Result::kFailed, "leader:9: refused", ""};
  list = ServerList({A, B});
  EXPECT_EQ(TryRound(
                list, [&](const ServerAddress& to) { return answers[to.host]; },
                &error),
            Attempt::Result::kFailed);
  EXPECT_EQ(error,
            "a:1: connection refused; b:1: standby, the leader is leader:9; "
            "leader:9: refused");
}

TEST(TryRoundTest, ARefusalEndsTheRound) {
  ServerList list({A, B});
  std::string error;
  int attempts = 0;
  EXPECT_EQ(TryRound(
                list,
                [&](const ServerAddress&) {
                  ++attempts;
                  return Attempt{Attempt::Result::kRefused, "auth refused", ""};
                },
                &error),
            Attempt::Result::kRefused);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(error, "auth refused");
}

}  // namespace
}  // namespace client
