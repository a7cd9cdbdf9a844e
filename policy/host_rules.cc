#include "policy/host_rules.h"

#include <algorithm>

#include "policy/tag.h"

namespace policy {

HostRules::HostRules(std::vector<config::HostAffinityRule> affinity,
                     std::vector<config::ConsistentHashRule> hashing) {
  for (auto& rule : affinity)
    rules_.push_back({rule.line, false, rule.tag, 0, std::move(rule.hosts)});
  for (auto& rule : hashing)
    rules_.push_back(
        {rule.line, true, rule.tag, rule.count, std::move(rule.hosts)});
  std::stable_sort(
      rules_.begin(), rules_.end(),
      [](const Rule& a, const Rule& b) { return a.line > b.line; });
}

std::optional<HostChoice> HostRules::Choose(
    std::string_view data,
    const std::function<MoverPresence(const std::string&)>& presence,
    const std::function<size_t(size_t n)>& random) const {
  for (const Rule& rule : rules_) {
    if (rule.hosts.empty() || data.find(rule.tag) == std::string_view::npos)
      continue;
    if (rule.hashing) {
      auto value = TagValue(data, rule.tag);
      // The tag occurs but carries no value: this rule yields nothing and
      // placement goes on without affinity, as in the original.
      if (!value) return std::nullopt;
      HostChoice choice;
      std::string folded(*value);
      if (rule.count > 0) {
        folded = std::to_string(Djb2(*value) % rule.count);
        choice.rewritten_data = ReplaceTagValue(data, rule.tag, folded);
      }
      choice.host = rule.hosts[Djb2(folded) % rule.hosts.size()];
      return choice;
    }
    size_t n = rule.hosts.size();
    size_t start = random(n) % n;
    for (MoverPresence wanted :
         {MoverPresence::kConnected, MoverPresence::kDisconnected}) {
      for (size_t i = 0; i < n; ++i) {
        const std::string& host = rule.hosts[(start + i) % n];
        if (presence(host) == wanted) return HostChoice{host, std::nullopt};
      }
    }
    return HostChoice{rule.hosts[start], std::nullopt};
  }
  return std::nullopt;
}

}  // namespace policy
