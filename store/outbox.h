// Outbox: what the server sends that acknowledges or hands out a change
// (a `queue` reply counting new requests, a `recv` reply with items, the
// answer to Lustre for a dequeued cancel) leaves only once the store has
// made that change durable. When the store cannot persist, such a message
// is held, in order, and sent once a later write and its sync succeeded
// (OnWritable()), however long that takes; the store keeps the changes
// queued meanwhile. A message that acknowledges nothing (a status, an
// error reply) leaves as soon as the store answers, durable or not, unless
// an earlier message of its channel (its connection) is held: order within
// a channel is kept.
//
// Relies on the Store contract: a Sync() callback says "not durable" only
// while the store is unwritable, and the health callback says writable
// again before any later Sync() callback says durable.
//
// Thread-safety: as Store (the event loop only).
#ifndef STORE_OUTBOX_H_
#define STORE_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <map>

#include "store/store.h"

namespace store {

class Outbox {
 public:
  explicit Outbox(Store& store) : store_(store) {}

  // Runs `send` once every change made to the store before this call is
  // durable, or, with `needs_durable` false, once the store has answered.
  // `channel` identifies the peer (nullptr: one of its own).
  void Send(const void* channel, bool needs_durable,
            std::function<void()> send);
  // To call when the store becomes writable again.
  void OnWritable();
  size_t held() const { return held_.size(); }

 private:
  struct Message {
    const void* channel;
    bool needs_durable;
    std::function<void()> send;
  };
  void Submit(uint64_t seq, Message message);
  bool HeldOn(const void* channel) const;

  Store& store_;
  uint64_t next_ = 0;
  std::map<uint64_t, Message> held_;  // by order of Send()
};

}  // namespace store

#endif  // STORE_OUTBOX_H_
