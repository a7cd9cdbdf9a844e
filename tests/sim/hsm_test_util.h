// Helpers shared by the end-to-end tests: file HSM states through llapi,
// archive copy paths, and requests sent with sim-lfs in batches (lfs sends
// at most 52 items per request).
#ifndef TESTS_SIM_HSM_TEST_UTIL_H_
#define TESTS_SIM_HSM_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "copytool/posix/archive_path.h"
#include "hsm/lustreapi.h"
#include "tests/support/sim_mount.h"

namespace testing_support {

// hus_states of `path`, or 0xFFFFFFFF (and a test failure) on error.
inline uint32_t HsmStates(const std::string& path) {
  hsm_user_state hus{};
  const int rc = llapi_hsm_state_get(path.c_str(), &hus);
  if (rc < 0) {
    ADD_FAILURE() << "llapi_hsm_state_get(" << path << "): " << rc;
    return 0xFFFFFFFF;
  }
  return hus.hus_states;
}

// Where ct-posix (v1 layout) keeps the archive copy of `path`.
inline std::string ArchiveCopyOf(const SimMount& sim, const std::string& path) {
  lu_fid fid{};
  const int rc = llapi_path2fid(path.c_str(), &fid);
  if (rc < 0) {
    ADD_FAILURE() << "llapi_path2fid(" << path << "): " << rc;
    return "";
  }
  return ct::ArchivePath(sim.archive(), fid, ct::ArchiveFormat::kV1);
}

// `sim-lfs <command> FILES...`, 50 files per call.
inline ::testing::AssertionResult LfsInBatches(
    const SimMount& sim, const std::string& command,
    const std::vector<std::string>& files) {
  for (size_t i = 0; i < files.size(); i += 50) {
    std::vector<std::string> args = {command};
    for (size_t j = i; j < files.size() && j < i + 50; ++j) {
      args.push_back(files[j]);
    }
    CommandResult r = sim.Lfs(args);
    if (!r.ok()) {
      return ::testing::AssertionFailure()
             << "sim-lfs " << command << ": " << r.Describe();
    }
  }
  return ::testing::AssertionSuccess();
}

inline bool FileExists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

}  // namespace testing_support

#endif  // TESTS_SIM_HSM_TEST_UTIL_H_
