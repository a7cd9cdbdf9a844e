// TimedStore: a Store that measures how long its syncs take, around the
// server's real store (journal, Redis or none).
//
// Measured: from a Sync() that follows changes (Put, Assign, Unassign,
// Forget since the previous Sync) to its callback saying durable: the
// time a reply that acknowledges those changes waits for the store, queue
// of the store's thread included. A Sync() with no change of its own
// answers with the earlier syncs and is not measured (it would count their
// time twice); one that answers not durable (the store is down) is not
// either: that state is coordinatool_store_writable.
//
// Time comes from the injected clock. Thread-safety: as Store (the event
// loop only; the inner store calls back there).
#ifndef SERVER_TIMED_STORE_H_
#define SERVER_TIMED_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "store/store.h"

namespace server {

class TimedStore final : public store::Store {
 public:
  // `observe` gets each measured sync's duration in seconds.
  TimedStore(std::unique_ptr<store::Store> inner, const common::Clock& clock,
             std::function<void(double)> observe)
      : inner_(std::move(inner)), clock_(clock), observe_(std::move(observe)) {}

  std::string Describe() const override { return inner_->Describe(); }
  bool persistent() const override { return inner_->persistent(); }
  bool Load(store::LoadVisitor& visitor, std::string* error) override {
    return inner_->Load(visitor, error);
  }
  store::Handle Put(std::string_view key, std::string_view json,
                    store::Handle handle = store::kNoHandle) override {
    changed_ = true;
    return inner_->Put(key, json, handle);
  }
  store::Handle PutWritten(std::string_view key,
                           const store::ValueWriter& write,
                           store::Handle handle = store::kNoHandle) override {
    changed_ = true;
    return inner_->PutWritten(key, write, handle);
  }
  void Assign(std::string_view key, std::string_view mover,
              store::Handle handle = store::kNoHandle) override {
    changed_ = true;
    inner_->Assign(key, mover, handle);
  }
  void Unassign(std::string_view key,
                store::Handle handle = store::kNoHandle) override {
    changed_ = true;
    inner_->Unassign(key, handle);
  }
  void Forget(std::string_view key,
              store::Handle handle = store::kNoHandle) override {
    changed_ = true;
    inner_->Forget(key, handle);
  }
  void Sync(SyncCallback done) override;
  bool writable() const override { return inner_->writable(); }
  bool fenced() const override { return inner_->fenced(); }
  void SetHealthCallback(HealthCallback callback) override {
    inner_->SetHealthCallback(std::move(callback));
  }
  void Close(int timeout_ms) override { inner_->Close(timeout_ms); }

  store::Store& inner() { return *inner_; }

 private:
  std::unique_ptr<store::Store> inner_;
  const common::Clock& clock_;
  std::function<void(double)> observe_;
  bool changed_ = false;  // a change since the last Sync()
};

}  // namespace server

#endif  // SERVER_TIMED_STORE_H_
