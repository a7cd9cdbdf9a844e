// NullStore: no durability at all (`store none`, `--no-store`): the server
// keeps its state in memory only, as the original without Redis. Every
// Sync() completes at once. For benchmarks and throw-away setups.
//
// Thread-safety: as Store.
#ifndef STORE_NULL_STORE_H_
#define STORE_NULL_STORE_H_

#include "store/store.h"

namespace store {

class NullStore : public Store {
 public:
  std::string Describe() const override { return "no store (memory only)"; }
  bool persistent() const override { return false; }
  bool Load(LoadVisitor&, std::string*) override { return true; }
  Handle Put(std::string_view, std::string_view, Handle = kNoHandle) override {
    return kNoHandle;
  }
  void Assign(std::string_view, std::string_view, Handle = kNoHandle) override {
  }
  void Unassign(std::string_view, Handle = kNoHandle) override {}
  void Forget(std::string_view, Handle = kNoHandle) override {}
  void Sync(SyncCallback done) override { done(true); }
  bool writable() const override { return true; }
  void SetHealthCallback(HealthCallback) override {}
  void Close(int) override {}
};

}  // namespace store

#endif  // STORE_NULL_STORE_H_
