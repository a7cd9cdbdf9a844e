// Benchmark helper: files on a simulated mount, with their FIDs.
#ifndef BENCH_SUPPORT_SIM_FILES_H_
#define BENCH_SUPPORT_SIM_FILES_H_

#include <linux/lustre/lustre_user.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// Creates `n` empty files under `mount` (1,000 per directory) and returns
// their FIDs, or an empty vector on error.
std::vector<lu_fid> CreateFiles(const std::string& mount, int64_t n);

}  // namespace bench

#endif  // BENCH_SUPPORT_SIM_FILES_H_
