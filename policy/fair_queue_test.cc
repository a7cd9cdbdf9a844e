#include "policy/fair_queue.h"

#include <gtest/gtest.h>

#include <map>

namespace policy {
namespace {

uint32_t Weights(const std::string& owner) {
  static const std::map<std::string, uint32_t> weights = {
      {"alice", 1}, {"bob", 2}, {"carol", 3}};
  auto it = weights.find(owner);
  return it == weights.end() ? 1 : it->second;
}

TEST(FairQueueTest, ThreeUsersOfUnequalWeightShareInProportion) {
  FairQueue<int> q(Weights);
  for (int i = 0; i < 1000; ++i) {
    q.Push("alice", i);
    q.Push("bob", i);
    q.Push("carol", i);
  }
  std::map<std::string, int> served;
  for (int i = 0; i < 600; ++i) {
    std::string owner = *q.NextOwner();
    ASSERT_TRUE(q.Pop().has_value());
    ++served[owner];
  }
  EXPECT_EQ(served["alice"], 100);
  EXPECT_EQ(served["bob"], 200);
  EXPECT_EQ(served["carol"], 300);
}

TEST(FairQueueTest, FifoWithinAnOwner) {
  FairQueue<int> q(Weights);
  q.Push("alice", 1);
  q.Push("alice", 2);
  q.Push("alice", 3);
  EXPECT_EQ(q.Pop(), 1);
  EXPECT_EQ(q.Pop(), 2);
  EXPECT_EQ(q.Pop(), 3);
  EXPECT_FALSE(q.Pop());
}

TEST(FairQueueTest, BulkRecallDoesNotStarveALateSmallRequest) {
  FairQueue<int> q(Weights);
  for (int i = 0; i < 10000; ++i) q.Push("bulk", i);
  for (int i = 0; i < 50; ++i) q.Pop();
  q.Push("alice", -1);
  // alice is served within two pops, not after 9,950 bulk items.
  bool seen = false;
  for (int i = 0; i < 2 && !seen; ++i) seen = q.Pop() == -1;
  EXPECT_TRUE(seen);
}

TEST(FairQueueTest, IdleOwnersEarnNoBurst) {
  FairQueue<int> q(Weights);
  for (int i = 0; i < 100; ++i) q.Push("bob", i);
  for (int i = 0; i < 100; ++i) q.Pop();
  for (int i = 0; i < 100; ++i) {
    q.Push("alice", i);
    q.Push("carol", i);
  }
  std::map<std::string, int> served;
  for (int i = 0; i < 40; ++i) {
    ++served[*q.NextOwner()];
    q.Pop();
  }
  EXPECT_EQ(served["alice"], 10);
  EXPECT_EQ(served["carol"], 30);
}

TEST(FairQueueTest, RemoveTakesOneItemOut) {
  FairQueue<int> q(Weights);
  q.Push("alice", 1);
  q.Push("alice", 2);
  EXPECT_TRUE(q.Remove("alice", [](int v) { return v == 1; }));
  EXPECT_FALSE(q.Remove("alice", [](int v) { return v == 1; }));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_TRUE(q.Remove("alice", [](int v) { return v == 2; }));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.NextOwner(), nullptr);
  q.Push("alice", 3);
  EXPECT_EQ(q.Pop(), 3);
}

}  // namespace
}  // namespace policy
