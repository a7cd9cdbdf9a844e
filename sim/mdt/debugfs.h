// The coordinator's read-only debugfs files, in Lustre's exact line formats
// (docs/lustre.md, debugfs text): hsm/active_requests, hsm/agents and
// hsm/actions. Numbers printed with the kernel's %#llx, which prints 0 as
// "0x0".
//
// Thread-safety: reads the coordinator; same thread as its owner.
#ifndef SIM_MDT_DEBUGFS_H_
#define SIM_MDT_DEBUGFS_H_

#include <string>
#include <string_view>

#include "sim/mdt/coordinator.h"

namespace sim::mdt {

std::string FormatActiveRequests(const Coordinator& cdt);
std::string FormatAgents(const Coordinator& cdt);
std::string FormatActions(const Coordinator& cdt);

// At most the first 5 bytes of `data` as uppercase hex (hai_dump_data_field).
std::string DataPrefixHex(std::string_view data);

}  // namespace sim::mdt

#endif  // SIM_MDT_DEBUGFS_H_
