#include "tests/support/wait_for.h"

#include <thread>

namespace testing_support {

bool WaitFor(const std::function<bool()>& predicate,
             std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return predicate();
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace testing_support
