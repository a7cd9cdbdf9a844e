// Test helper shared by the store tests: a LoadVisitor that records what a
// store's Load() reports, keyed as stored.
#ifndef STORE_TEST_STATE_H_
#define STORE_TEST_STATE_H_

#include <linux/lustre/lustre_user.h>

#include <map>
#include <string>
#include <string_view>

#include "store/store.h"

namespace store {

inline lu_fid Fid(uint32_t oid) { return {0x200000401, oid, 0}; }

struct State : LoadVisitor {
  std::map<std::string, std::string> requests, assigned;
  void OnRequest(std::string_view key, std::string_view json) override {
    requests[std::string(key)] = json;
  }
  void OnAssignment(std::string_view key, std::string_view mover) override {
    assigned[std::string(key)] = mover;
  }
};

}  // namespace store

#endif  // STORE_TEST_STATE_H_
