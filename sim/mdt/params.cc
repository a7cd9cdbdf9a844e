#include "sim/mdt/params.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <cerrno>
#include <climits>
#include <cstdint>

#include "sim/mdt/debugfs.h"

namespace sim::mdt {

namespace {

std::string_view Trim(std::string_view v) {
  while (!v.empty() &&
         (v.back() == '\n' || v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  return v;
}

// kstrtou* followed by the "> 0" rule most HSM tunables have.
int ParseBounded(std::string_view text, uint64_t max, bool positive,
                 uint64_t* out) {
  text = Trim(text);
  if (!text.empty() && text[0] == '-') return -EINVAL;
  uint64_t v;
  if (!ParseU64(text, &v)) {
    // Distinguish overflow from garbage as the kernel does.
    bool digits = !text.empty() && text.find_first_not_of("0123456789") ==
                                       std::string_view::npos;
    return digits ? -ERANGE : -EINVAL;
  }
  if (v > max) return -ERANGE;
  if (positive && v == 0) return -EINVAL;
  *out = v;
  return 0;
}

int ParseBool(std::string_view text, uint32_t* out) {
  text = Trim(text);
  if (text == "1" || text == "y" || text == "Y" || text == "on" ||
      text == "yes") {
    *out = 1;
    return 0;
  }
  if (text == "0" || text == "n" || text == "N" || text == "off" ||
      text == "no") {
    *out = 0;
    return 0;
  }
  return -EINVAL;
}

}  // namespace

ParamTable::ParamTable(Coordinator* cdt) : cdt_(cdt) {
  Tunables* t = &cdt->tunables();
  auto u32 = [cdt](uint32_t* field, bool positive) {
    return [field, positive, cdt](std::string_view v) {
      uint64_t x;
      int rc = ParseBounded(v, UINT32_MAX, positive, &x);
      if (rc == 0) {
        *field = static_cast<uint32_t>(x);
        cdt->Wake();
      }
      return rc;
    };
  };
  auto show = [](auto* field) {
    return [field] { return fmt::format("{}\n", *field); };
  };
  Add(
      "hsm_control", [cdt] { return std::string(cdt->StateName()) + "\n"; },
      [cdt](std::string_view v) {
        return cdt->Control(
            v.substr(0, v.size() - (!v.empty() && v.back() == '\n')));
      });
  Add("hsm.max_requests", show(&t->max_requests), [t, cdt](std::string_view v) {
    uint64_t x;
    int rc = ParseBounded(v, UINT64_MAX, true, &x);
    if (rc == 0) {
      t->max_requests = x;
      cdt->Wake();
    }
    return rc;
  });
  Add("hsm.loop_period", show(&t->loop_period), u32(&t->loop_period, true));
  Add("hsm.grace_delay", show(&t->grace_delay), u32(&t->grace_delay, true));
  Add("hsm.active_request_timeout", show(&t->active_request_timeout),
      [t](std::string_view v) {
        uint64_t x;
        int rc = ParseBounded(v, INT32_MAX, true, &x);
        if (rc == 0) t->active_request_timeout = static_cast<int32_t>(x);
        return rc;
      });
  Add("hsm.default_archive_id", show(&t->default_archive_id),
      u32(&t->default_archive_id, true));
  Add("hsm.remove_archive_on_last_unlink",
      show(&t->remove_archive_on_last_unlink), [t](std::string_view v) {
        return ParseBool(v, &t->remove_archive_on_last_unlink);
      });
  Add("hsm.archive_count",
      [cdt] { return fmt::format("{}\n", cdt->ActiveCount(HSMA_ARCHIVE)); });
  Add("hsm.restore_count",
      [cdt] { return fmt::format("{}\n", cdt->ActiveCount(HSMA_RESTORE)); });
  Add("hsm.remove_count",
      [cdt] { return fmt::format("{}\n", cdt->ActiveCount(HSMA_REMOVE)); });
  Add(
      "hsm.policy", [t] { return FormatPolicy(t->policy); },
      [t](std::string_view v) { return ParsePolicy(v, &t->policy); });
  Add(
      "hsm.user_request_mask",
      [t] { return FormatRequestMask(t->user_request_mask); },
      [t](std::string_view v) {
        return ParseRequestMask(v, &t->user_request_mask);
      });
  Add(
      "hsm.group_request_mask",
      [t] { return FormatRequestMask(t->group_request_mask); },
      [t](std::string_view v) {
        return ParseRequestMask(v, &t->group_request_mask);
      });
  Add(
      "hsm.other_request_mask",
      [t] { return FormatRequestMask(t->other_request_mask); },
      [t](std::string_view v) {
        return ParseRequestMask(v, &t->other_request_mask);
      });
  Add("hsm.min_scan_interval_ms", show(&t->min_scan_interval_ms),
      u32(&t->min_scan_interval_ms, false));
  // LU-10968 (docs/upcall.md). Not reset by hsm_control: they belong to
  // the MDT, not to the coordinator.
  Add(
      "hsm.upcall_mask", [t] { return FormatUpcallMask(t->upcall_mask); },
      [t](std::string_view v) { return ParseUpcallMask(v, &t->upcall_mask); });
  Add(
      "hsm.upcall_path", [t] { return t->upcall_path + "\n"; },
      [t](std::string_view v) {
        v = Trim(v);
        // A full path, as the MDT runs it without a search path; empty
        // clears it.
        if (!v.empty() && v.front() != '/') return -EINVAL;
        if (v.size() >= 4096) return -ERANGE;
        t->upcall_path = std::string(v);
        return 0;
      });
  Add("hsm.sim_upcall_timeout_s", show(&t->upcall_timeout_s),
      u32(&t->upcall_timeout_s, true));
  Add("hsm.agents", [cdt] { return FormatAgents(*cdt); });
  Add("hsm.actions", [cdt] { return FormatActions(*cdt); });
  Add("hsm.active_requests", [cdt] { return FormatActiveRequests(*cdt); });
}

void ParamTable::Add(std::string suffix, std::function<std::string()> get,
                     std::function<int(std::string_view)> set) {
  params_.push_back(
      Param{fmt::format("mdt.{}-MDT0000.{}", cdt_->fsname(), suffix),
            std::move(get), std::move(set)});
}

std::vector<std::string> ParamTable::Names() const {
  std::vector<std::string> names;
  for (const Param& p : params_) names.push_back(p.name);
  return names;
}

const ParamTable::Param* ParamTable::Match(std::string_view pattern) const {
  std::string pat(pattern);
  for (const Param& p : params_)
    if (p.name == pat || fnmatch(pat.c_str(), p.name.c_str(), 0) == 0)
      return &p;
  return nullptr;
}

int ParamTable::Get(std::string_view name, std::string* value) const {
  const Param* p = Match(name);
  if (!p) return -ENOENT;
  *value = p->get();
  return 0;
}

int ParamTable::Set(std::string_view name, std::string_view value) {
  const Param* p = Match(name);
  if (!p) return -ENOENT;
  if (!p->set) return -EACCES;
  return p->set(value);
}

}  // namespace sim::mdt
