// Locator: the restore-locality hook of the original, made generic (see
// docs/restore-locality.md). The original asks its tape store, synchronously,
// which host reads a restore's data fastest. Here the question goes to a
// long-running helper process ("co-process", as Squid's redirector helpers)
// started from a configured command line, one JSON object per line on its
// stdin, answers one per line on its stdout, in any order, matched by id.
//
// A broken helper never blocks or fails a restore: a lookup without an answer
// within the timeout, or pending when the helper dies, or asked while the
// helper is down or too many lookups are in flight, completes with "no
// preference" (nullopt). The helper starts with the Locator; once dead, it
// is restarted by the next lookup, at most once per `restart_backoff`.
// Garbage from the helper (malformed lines, unknown ids, lines over 64 KiB)
// is logged and skipped.
//
// The helper's stdin and stdout are one end of a socketpair, written with
// MSG_NOSIGNAL: a dead helper never raises SIGPIPE here (the server ignores
// SIGPIPE anyway). Its stderr is inherited; it starts with default signal
// dispositions and an empty signal mask.
//
// Thread-safety: none; every call, and every callback, runs on the thread
// running the io_context given at construction.
#ifndef POLICY_LOCATOR_H_
#define POLICY_LOCATOR_H_

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace policy {

struct LocatorOptions {
  // The helper's argv, argv[0] searched in PATH; empty: the hook is off.
  std::vector<std::string> command;
  std::chrono::milliseconds timeout{5000};  // per lookup
  size_t max_in_flight = 10000;             // beyond: "no preference" at once
  // Least time between two starts of the helper.
  std::chrono::milliseconds restart_backoff{1000};
};

struct LocateRequest {
  std::string fid;  // "[0x200000401:0x2a:0x0]"
  uint32_t archive_id = 0;
  std::string data;                 // the item's hsm data, any bytes
  std::vector<std::string> movers;  // ids of the connected movers
  std::string suggested;            // least busy connected mover, or ""
};

// A lookup's answer (docs/restore-locality.md). Empty: no preference
// (timeout, helper down, overload, a malformed answer).
struct Locality {
  std::optional<std::string> mover;  // the preferred mover id
  // The medium (tape) holding the file, and the file's position on it:
  // restores of one medium go to one mover in position order. Empty: none
  // named (the position is then 0).
  std::string medium;
  uint64_t position = 0;
};

class Locator {
 public:
  using Callback = std::function<void(Locality)>;

  Locator(boost::asio::io_context& io, LocatorOptions options);
  // Closes the helper's input, sends it SIGTERM and reaps it (SIGKILL after
  // one second). Pending callbacks are dropped without being called.
  ~Locator();
  Locator(const Locator&) = delete;
  Locator& operator=(const Locator&) = delete;

  bool enabled() const;

  // Calls `done` exactly once, never from inside Locate(), unless the
  // Locator is destroyed first. `done` may call Locate() or destroy the
  // Locator.
  void Locate(const LocateRequest& request, Callback done);

  // Lookups sent to the helper and not completed yet.
  size_t in_flight() const;
  // Failures since the start, for the metrics: lookups answered "no
  // preference" because the helper could not start, died, timed out or was
  // overloaded, and helper lines ignored (malformed, or for an unknown or
  // expired lookup).
  uint64_t errors() const;

 private:
  class Impl;
  // Shared with the asynchronous operations, which may complete after the
  // Locator is gone.
  std::shared_ptr<Impl> impl_;
};

}  // namespace policy

#endif  // POLICY_LOCATOR_H_
