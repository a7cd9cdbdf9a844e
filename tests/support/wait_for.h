// WaitFor: polls a condition until it holds or a bound expires. Tests wait
// on observable conditions (a state in hsm.actions, a line in a log), never
// on fixed sleeps.
//
// Thread-safety: reentrant.
#ifndef TESTS_SUPPORT_WAIT_FOR_H_
#define TESTS_SUPPORT_WAIT_FOR_H_

#include <chrono>
#include <functional>

namespace testing_support {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

// The default bound of a wait in the end-to-end tests.
inline constexpr std::chrono::seconds kWaitTimeout{60};

// Evaluates `predicate` every `interval` until it returns true (returns
// true) or `timeout` has passed (returns false after a last evaluation).
bool WaitFor(const std::function<bool()>& predicate,
             std::chrono::milliseconds timeout = kWaitTimeout,
             std::chrono::milliseconds interval = 20ms);

}  // namespace testing_support

#endif  // TESTS_SUPPORT_WAIT_FOR_H_
