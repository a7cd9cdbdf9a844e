// UpcallCookies: the cookies of upcalled items (docs/upcall.md), with the
// top bit set (protocol/upcall.h) so that they never equal a Lustre cookie.
// The low bits count up from the Unix time in nanoseconds at the first
// `upcall` of this run, and never go back within a run: a restarted server
// starts past every cookie the previous run gave (its store keeps those
// items), unless the clock went back by more than the time between the two
// runs' upcalls, which is why the server also skips a cookie it still holds.
//
// Pure: time is the caller's. Thread-safety: none; the server's loop.
#ifndef SERVER_UPCALL_COOKIES_H_
#define SERVER_UPCALL_COOKIES_H_

#include <algorithm>
#include <cstdint>

namespace server {

class UpcallCookies {
 public:
  // The first of `count` consecutive cookies (without the top bit: see
  // protocol::UpcallItems), past every one given before.
  uint64_t Take(uint64_t count, int64_t now_unix_ns) {
    uint64_t first = std::max(
        next_, static_cast<uint64_t>(std::max<int64_t>(now_unix_ns, 1)));
    next_ = first + count;
    return first;
  }

 private:
  uint64_t next_ = 1;
};

}  // namespace server

#endif  // SERVER_UPCALL_COOKIES_H_
