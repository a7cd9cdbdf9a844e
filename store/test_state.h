// Test helpers shared by the store tests: a LoadVisitor that records what a
// store's Load() reports, keyed as stored; temporary directories.
#ifndef STORE_TEST_STATE_H_
#define STORE_TEST_STATE_H_

#include <ftw.h>
#include <linux/lustre/lustre_user.h>
#include <stdlib.h>

#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include "store/store.h"

namespace store {

inline lu_fid Fid(uint32_t oid) { return {0x200000401, oid, 0}; }

struct State : LoadVisitor {
  std::map<std::string, std::string> requests, assigned;
  void OnRequest(std::string_view key, std::string_view json, Handle) override {
    requests[std::string(key)] = json;
  }
  void OnAssignment(std::string_view key, std::string_view mover,
                    Handle) override {
    assigned[std::string(key)] = mover;
  }
};

// A fresh directory /tmp/PREFIX.XXXXXX, or "" if it cannot be created.
inline std::string MakeTempDir(const std::string& prefix) {
  std::string path = "/tmp/" + prefix + ".XXXXXX";
  return mkdtemp(path.data()) ? path : "";
}

// Removes `dir` and everything in it.
inline void RemoveTree(const std::string& dir) {
  nftw(
      dir.c_str(),
      [](const char* path, const struct stat*, int, FTW*) {
        return remove(path);
      },
      16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace store

#endif  // STORE_TEST_STATE_H_
