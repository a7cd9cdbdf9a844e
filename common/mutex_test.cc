// Mutex and CondVar with real threads (run under ThreadSanitizer by
// scripts/test): a guarded counter stays exact, a wait ends on a
// notification, a timed wait ends at its deadline.
#include "common/mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace common {
namespace {

using namespace std::chrono_literals;

class Counter {
 public:
  void Add() {
    MutexLock lock(&mu_);
    ++value_;
    cv_.NotifyAll();
  }
  // Waits until the value reaches `target`, or `deadline`; the value then.
  int WaitFor(int target, std::chrono::steady_clock::time_point deadline) {
    MutexLock lock(&mu_);
    while (value_ < target && cv_.WaitUntil(&mu_, deadline)) {
    }
    return value_;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  int value_ GUARDED_BY(mu_) = 0;
};

TEST(MutexTest, GuardsACounterAcrossThreads) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) counter.Add();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.WaitFor(0, std::chrono::steady_clock::now()), 4000);
}

TEST(CondVarTest, WaitEndsOnNotification) {
  Counter counter;
  std::thread adder([&] { counter.Add(); });
  // A generous bound: only a lost notification would reach it.
  EXPECT_EQ(counter.WaitFor(1, std::chrono::steady_clock::now() + 60s), 1);
  adder.join();
}

TEST(CondVarTest, TimedWaitEndsAtItsDeadline) {
  Counter counter;
  const auto deadline = std::chrono::steady_clock::now() + 50ms;
  EXPECT_EQ(counter.WaitFor(1, deadline), 0);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
}

}  // namespace
}  // namespace common
