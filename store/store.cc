#include "store/store.h"

#include <fmt/format.h>

namespace store {

std::string RequestKey(uint64_t cookie, const lu_fid& dfid) {
  return fmt::format("{:016x}{:016x}{:08x}{:08x}", cookie, uint64_t{dfid.f_seq},
                     uint32_t{dfid.f_oid}, uint32_t{dfid.f_ver});
}

}  // namespace store
