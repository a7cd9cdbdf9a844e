#include "bench/support/sim_files.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdio>

#include "hsm/lustreapi.h"

namespace bench {

std::vector<lu_fid> CreateFiles(const std::string& mount, int64_t n) {
  std::vector<lu_fid> fids;
  for (int64_t i = 0; i < n; ++i) {
    const std::string dir = fmt::format("{}/d{}", mount, i / 1000);
    if (i % 1000 == 0) mkdir(dir.c_str(), 0755);
    const std::string path = fmt::format("{}/f{}", dir, i);
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return {};
    std::fclose(f);
    lu_fid fid{};
    if (llapi_path2fid(path.c_str(), &fid) < 0) return {};
    fids.push_back(fid);
  }
  return fids;
}

}  // namespace bench
