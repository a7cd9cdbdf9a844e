// CopyTracker: which process has which copy actions running (begun with
// COPY_START and not yet ended), and the most it ever had at once, per
// action type. Simulator-only observability: with coordinatool, every mover
// is a separate process calling action begin/end on the simulator, so this
// is how a test checks per-mover limits from the simulator's side. Read as
// hsm.sim_copy_peaks, one line per process:
//   pid=<pid> archive=<running>/<peak> restore=<running>/<peak>
// (removes have no COPY_START in Lustre, so they are not seen here).
//
// Thread-safety: none; the daemon's event loop owns it.
#ifndef SIM_MDT_COPY_TRACKER_H_
#define SIM_MDT_COPY_TRACKER_H_

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

namespace sim::mdt {

class CopyTracker {
 public:
  void Started(uint32_t pid, uint64_t cookie, uint32_t action);
  void Ended(uint64_t cookie);
  std::string Format() const;

 private:
  struct Counts {
    uint32_t running = 0;
    uint32_t peak = 0;
  };
  struct Process {
    Counts archive;
    Counts restore;
  };
  struct Copy {
    uint32_t pid;
    uint32_t action;
  };
  Counts* CountsOf(uint32_t pid, uint32_t action);

  std::map<uint32_t, Process> processes_;
  std::unordered_map<uint64_t, Copy> copies_;
};

}  // namespace sim::mdt

#endif  // SIM_MDT_COPY_TRACKER_H_
