#include "bench/support/queue_item.h"

namespace bench {

boost::json::object ArchiveQueueItem(int i) {
  boost::json::object fid{
      {"f_seq", 0x200000401}, {"f_oid", i + 1}, {"f_ver", 0}};
  return {{"hai_action", 20},
          {"hai_fid", fid},
          {"hai_dfid", fid},
          {"hai_extent_offset", 0},
          {"hai_extent_length", -1},
          {"hai_cookie", i + 1},
          {"hai_gid", 0},
          {"hai_data", ""},
          {"hal_archive_id", 1}};
}

}  // namespace bench
