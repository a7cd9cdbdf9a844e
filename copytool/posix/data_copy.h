// The copy loop shared by archive and restore: chunked pread/pwrite of a byte
// range, progress reports to the coordinator, and an optional rate limit
// (docs/lustre.md, lhsmtool_posix).
//
// Thread-safety: CopyData may run in many threads at once, each with its own
// sink.
#ifndef COPYTOOL_POSIX_DATA_COPY_H_
#define COPYTOOL_POSIX_DATA_COPY_H_

#include <linux/lustre/lustre_user.h>

#include <chrono>
#include <cstdint>

#include "copytool/posix/stop_flag.h"

namespace ct {

// Where progress goes; the copytool's sink calls llapi_hsm_action_progress.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // Reports `extent` as copied. A negative errno (e.g. -ECANCELED once the
  // request was canceled) stops the copy with that code.
  virtual int Report(const hsm_extent& extent, uint64_t total) = 0;
  // True when a report is wanted before the update interval is up.
  virtual bool ReportRequested() = 0;
};

struct CopySettings {
  uint64_t chunk_size = 1 << 20;
  uint64_t bandwidth = 0;  // bytes per second, 0 = unlimited
  std::chrono::duration<double> update_interval{30.0};
};

// Copies bytes [offset, offset + length) of `src` to the same offsets of
// `dst`, stopping early at the end of `src`. Reports (offset, 0) first, then
// the bytes copied since the last report every update interval. Returns 0,
// the sink's error, -EINTR when `stop` is set, or the -errno of a failed
// read or write. *copied gets the bytes written.
int CopyData(int src, int dst, uint64_t offset, uint64_t length,
             const CopySettings& settings, ProgressSink* sink, StopFlag* stop,
             uint64_t* copied);

}  // namespace ct

#endif  // COPYTOOL_POSIX_DATA_COPY_H_
