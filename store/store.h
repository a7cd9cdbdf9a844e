// Store: where the server keeps what it must not forget across a crash or a
// restart: every request it holds (as the item JSON of docs/protocol.md) and
// which mover runs which request (docs/redis.md). The server changes its memory
// first, tells the store, and acts on the change (a reply to a mover, to a
// client, to Lustre) only from a Sync() callback, once the change is
// durable. Implementations batch: many changes, one durable write.
//
// Records are keyed by RequestKey() of the item identity, the original's
// Redis field name, whatever the implementation.
//
// Handles: Put() and Load() give each request a Handle, which the caller
// keeps with the request and gives back with every later change of it
// (Assign, Unassign, Forget, another Put): a store that indexes its records
// in memory (the journal) then finds the request's entry without keeping
// its key. A store that needs none (Redis, none) gives kNoHandle. A caller
// that has no handle for a request (a new one) passes kNoHandle. The
// handle of a forgotten request may be given to a later one.
//
// Thread-safety: every call is made on the server's event loop thread, and
// every callback runs there (posted, or directly from Sync() when nothing is
// outstanding, see Sync()).
#ifndef STORE_STORE_H_
#define STORE_STORE_H_

#include <linux/lustre/lustre_user.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace store {

using Handle = uint32_t;
inline constexpr Handle kNoHandle = ~Handle{0};

// The 48 lowercase hex digits of the original's Redis fields (docs/redis.md):
// cookie on 16, FID sequence on 16, oid on 8, version on 8.
std::string RequestKey(uint64_t cookie, const lu_fid& dfid);
// RequestKey() in the object itself: no heap block for the key of each
// change the server makes (a Put, Assign and Forget per request).
class RequestKeyText {
 public:
  RequestKeyText(uint64_t cookie, const lu_fid& dfid);
  operator std::string_view() const { return {digits_, sizeof(digits_)}; }

 private:
  char digits_[48];
};
// key == RequestKey(cookie, dfid), without building the string (recovery
// checks a million stored keys).
bool IsRequestKey(std::string_view key, uint64_t cookie, const lu_fid& dfid);

// What Load() finds, in two passes: every request, then every assignment.
class LoadVisitor {
 public:
  virtual ~LoadVisitor() = default;
  // How many OnRequest() calls follow, from a store that knows before it
  // visits them (at most once, first): lets the visitor size what it fills
  // once rather than grow it a million times.
  virtual void ExpectRequests(size_t count) { (void)count; }
  // True if the visitor's owner gives back, with every later change of a
  // request, the handle OnRequest() gave (the server does): a store may
  // then drop what it kept to find requests by key.
  virtual bool KeepsHandles() const { return false; }
  // `handle`: what later changes of the request give back (kNoHandle from
  // a store that needs none).
  virtual void OnRequest(std::string_view key, std::string_view json,
                         Handle handle) = 0;
  virtual void OnAssignment(std::string_view key, std::string_view mover,
                            Handle handle) = 0;
};

// Writes a value by appending it to a buffer it is given, without touching
// what the buffer held before: lets a store put the value straight where
// it keeps it (the journal's batch) instead of taking a copy of a string
// built for it. A reference to a callable: cheap to pass, never stored.
class ValueWriter {
 public:
  template <class F>
  ValueWriter(const F& f)  // NOLINT(google-explicit-constructor)
      : target_(&f), call_([](const void* target, std::string* out) {
          (*static_cast<const F*>(target))(out);
        }) {}
  void operator()(std::string* out) const { call_(target_, out); }

 private:
  const void* target_;
  void (*call_)(const void*, std::string*);
};

class Store {
 public:
  // `durable` is false when the changes before the Sync() could not be made
  // durable now (the store is unreachable); they stay queued and are
  // retried, but the caller decides whether to act without them.
  using SyncCallback = std::function<void(bool durable)>;
  // Called on transitions: false when changes can no longer be made durable,
  // true when they can again.
  using HealthCallback = std::function<void(bool writable)>;

  virtual ~Store() = default;

  // A short description for logs ("journal /var/lib/...", "redis host:port").
  virtual std::string Describe() const = 0;
  // False for the memory-only store: the server then skips encoding what
  // it would write.
  virtual bool persistent() const { return true; }

  // Visits the stored state. Only before the first change. False with
  // *error if the store cannot be read.
  virtual bool Load(LoadVisitor& visitor, std::string* error) = 0;

  // Changes. Each is ordered after the previous ones. `handle`: the
  // request's, from Put() or Load(), or kNoHandle (see above).
  // Put returns the request's handle (`handle` itself when it had one).
  virtual Handle Put(std::string_view key, std::string_view json,
                     Handle handle = kNoHandle) = 0;
  // Put(key, what `write` appends, handle): for a store that can take the
  // value in place. The default builds the string and calls Put().
  virtual Handle PutWritten(std::string_view key, const ValueWriter& write,
                            Handle handle = kNoHandle);
  virtual void Assign(std::string_view key, std::string_view mover,
                      Handle handle = kNoHandle) = 0;
  virtual void Unassign(std::string_view key, Handle handle = kNoHandle) = 0;
  // Removes the request and its assignment. The handle is free afterwards.
  virtual void Forget(std::string_view key, Handle handle = kNoHandle) = 0;

  // Calls `done` once every change made before this call is durable (or has
  // failed to become so). Callbacks run in the order of their Sync() calls.
  // When nothing is outstanding `done` runs before Sync() returns: call it
  // last in a handler.
  virtual void Sync(SyncCallback done) = 0;

  // False while changes cannot be made durable.
  virtual bool writable() const = 0;
  // True once a write was refused because another server took the lead
  // (high availability, store/redis_fence.h): the store is unwritable for
  // good.
  virtual bool fenced() const { return false; }
  virtual void SetHealthCallback(HealthCallback callback) = 0;

  // Makes every change durable if the store can within `timeout_ms`, then
  // stops. No callback runs afterwards. Idempotent.
  virtual void Close(int timeout_ms) = 0;
};

}  // namespace store

#endif  // STORE_STORE_H_
