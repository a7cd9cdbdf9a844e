#include "sim/mdt/debugfs.h"

#include <fmt/format.h>
#include <linux/lustre/lustre_idl.h>

#include "hsm/hal.h"

namespace sim::mdt {

namespace {

// The kernel's %#llx.
std::string KHex(uint64_t v) { return fmt::format("{:#x}", v); }

}  // namespace

std::string DataPrefixHex(std::string_view data) {
  std::string out;
  for (size_t i = 0; i < data.size() && i < 5; ++i)
    out += fmt::format("{:02X}", static_cast<unsigned char>(data[i]));
  return out;
}

std::string FormatActiveRequests(const Coordinator& cdt) {
  std::string out;
  cdt.ForEachActive([&](const ActiveRequest& a, const Record& rec) {
    const hsm_action_item& hai = rec.hai;
    out += fmt::format(
        "fid={} dfid={} compound/cookie=0x0/{} action={} archive#={} "
        "flags={} extent={}-{} gid={} data=[{}] canceled={} uuid={} "
        "done={}\n",
        hsm::FormatFidKernel(hai.hai_fid), hsm::FormatFidKernel(hai.hai_dfid),
        KHex(hai.hai_cookie), ActionName(hai.hai_action), rec.archive_id,
        KHex(rec.flags), KHex(hai.hai_extent.offset),
        KHex(hai.hai_extent.length), KHex(hai.hai_gid), DataPrefixHex(rec.data),
        a.canceled ? 1 : 0, a.agent_uuid, a.done.Total());
  });
  return out;
}

std::string FormatAgents(const Coordinator& cdt) {
  std::string out;
  for (const Agent& a : cdt.agents()) {
    std::string archives = a.archives.empty() ? "ANY" : "";
    for (size_t i = 0; i < a.archives.size(); ++i)
      archives += fmt::format("{}{}", i ? "," : "", a.archives[i]);
    out += fmt::format(
        "uuid={} archive_id={} requests=[current:{} ok:{} errors:{}]\n", a.uuid,
        archives, a.current, a.ok, a.errors);
  }
  return out;
}

std::string FormatActions(const Coordinator& cdt) {
  std::string out;
  for (const auto& [idx, rec] : cdt.log().records()) {
    const hsm_action_item& hai = rec.hai;
    out += fmt::format(
        "lrh=[type={:X} len={} idx=1/{}] fid={} dfid={} "
        "compound/cookie=0x0/{} action={} archive#={} flags={} "
        "extent={}-{} gid={} datalen={} status={} data=[{}]\n",
        HSM_AGENT_REC, 136 + hsm::Align8(rec.data.size()), idx,
        hsm::FormatFidKernel(hai.hai_fid), hsm::FormatFidKernel(hai.hai_dfid),
        KHex(hai.hai_cookie), ActionName(hai.hai_action), rec.archive_id,
        KHex(rec.flags), KHex(hai.hai_extent.offset),
        KHex(hai.hai_extent.length), KHex(hai.hai_gid), rec.data.size(),
        StatusName(rec.status), DataPrefixHex(rec.data));
  }
  return out;
}

}  // namespace sim::mdt
