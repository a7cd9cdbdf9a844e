// Host affinity for archives (docs/policies.md, host affinity and consistent
// hashing): the rules `archive_on_hosts TAG HOST...` and
// `archive_on_hosts_ch TAG COUNT HOST...` choose the mover of an archive from
// its hsm data.
//
// Rules are consulted from the last configured to the first; a rule matches
// when its TAG occurs anywhere in the data. An affinity rule tries its hosts
// circularly from a random start, connected movers first, then disconnected
// ones still within their grace time, else names the randomly drawn host
// (the server then parks the item on a placeholder for it). A consistent
// hash rule picks HOST[djb2(value) % hosts] from the tag's value, after
// optionally folding the value to djb2(value) % COUNT and rewriting it in
// the data.
//
// Thread-safety: HostRules is immutable after construction; Choose() takes
// its randomness from the caller.
#ifndef POLICY_HOST_RULES_H_
#define POLICY_HOST_RULES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.h"

namespace policy {

enum class MoverPresence { kConnected, kDisconnected, kUnknown };

struct HostChoice {
  std::string host;
  // Set when a consistent-hash rule rewrote the tag's value.
  std::optional<std::string> rewritten_data;
};

class HostRules {
 public:
  HostRules(std::vector<config::HostAffinityRule> affinity,
            std::vector<config::ConsistentHashRule> hashing);

  bool empty() const { return rules_.empty(); }

  // The mover an archive with `data` must go to, or nullopt when no rule
  // applies (normal placement then). `presence` says whether a mover id is
  // connected; `random` returns a number in [0, n).
  std::optional<HostChoice> Choose(
      std::string_view data,
      const std::function<MoverPresence(const std::string&)>& presence,
      const std::function<size_t(size_t n)>& random) const;

 private:
  struct Rule {
    int line;  // configuration order
    bool hashing;
    std::string tag;
    uint32_t count;
    std::vector<std::string> hosts;
  };
  std::vector<Rule> rules_;  // last configured first
};

}  // namespace policy

#endif  // POLICY_HOST_RULES_H_
