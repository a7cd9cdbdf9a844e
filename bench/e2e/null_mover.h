// NullMovers: movers that complete their work at once, through the real
// protocol (protocol/messages.h), to measure the coordinator and not the
// copies. Each mover is a thread with its own client::Session: `ehlo` with
// an id, then `recv`; for
// every item of a reply it sends `done` (status 0): in the batch form, up
// to protocol::kDoneItemsPerMessage per message, when the server's ehlo
// reply says it takes it (and options allow). The dones and the next
// `recv` go out in one write, and the replies to the dones are counted as
// they arrive, not waited for one by one (the protocol allows it: the server
// handles a connection's messages in order).
//
// With `end_on_mount` set, each item is also begun and ended on that
// simulated Lustre mount (llapi_hsm_action_begin/_end with a copytool handle
// built as the preload library builds one), before its `done`, as a real
// mover does; otherwise Lustre never learns that the item finished.
//
// Dispatch latency of an item: the time (CLOCK_REALTIME) its `recv` reply
// was read, minus its `timestamp` (when the server first saw it).
//
// Thread-safety: Start, Stop and Latencies from one thread; the counters
// from any thread.
#ifndef BENCH_E2E_NULL_MOVER_H_
#define BENCH_E2E_NULL_MOVER_H_

#include <linux/lustre/lustre_user.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/tls.h"
#include "hsm/hal.h"
#include "protocol/item_id.h"

namespace bench {

struct NullMoverOptions {
  std::string host = "127.0.0.1";
  std::string port;
  int64_t max_bytes = hsm::kHalMaxSize;  // preload library's default hal_size
  int64_t max_running = -1;              // per type; negative: unlimited
  std::string end_on_mount;  // non-empty: end each item on this mount
  client::TlsOptions tls;    // enabled: every mover speaks TLS
  // Many dones in one message (protocol::DoneItemsRequest) when the server
  // announces it takes them; false: one message per done, always.
  bool done_items = true;
};

class NullMovers {
 public:
  explicit NullMovers(NullMoverOptions options);
  ~NullMovers();
  NullMovers(const NullMovers&) = delete;
  NullMovers& operator=(const NullMovers&) = delete;

  // Connects `count` movers (ids null-0, null-1...), waits for each ehlo
  // reply, then starts them all. False with *error if one cannot start.
  bool Start(int count, std::string* error);
  // Stops and joins the threads; the connections are closed.
  void Stop();

  // Items whose `done` the server has acknowledged.
  uint64_t completed() const { return completed_.load(); }
  // Items whose begin or end on the mount failed (still reported done).
  uint64_t end_failures() const { return end_failures_.load(); }
  // Waits until completed() >= n. False after `timeout`, or when a mover
  // stopped on an error (see error()).
  bool WaitForCompleted(uint64_t n, std::chrono::milliseconds timeout);
  // The first error a mover stopped on, or "".
  std::string error() const;
  // Every item's dispatch latency in ns. REQUIRES: Stop() was called.
  std::vector<int64_t> Latencies() const;

 private:
  struct Mover;
  void Run(Mover* mover);
  // Appends the dones of `items` to *out in the form the server takes.
  static void AppendDones(const Mover& mover,
                          const std::vector<protocol::ItemId>& items,
                          std::string* out);
  void Fail(const std::string& why);

  const NullMoverOptions options_;
  std::vector<std::unique_ptr<Mover>> movers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> end_failures_{0};
  mutable std::mutex mu_;
  std::string error_;  // GUARDED_BY(mu_)
};

}  // namespace bench

#endif  // BENCH_E2E_NULL_MOVER_H_
