// Tunables: the coordinator's settings (docs/lustre.md, tunables) and the
// parsers/formatters of the ones whose text form is not a plain number
// (policy, request masks).
//
// Thread-safety: plain value type and pure functions.
#ifndef SIM_MDT_TUNABLES_H_
#define SIM_MDT_TUNABLES_H_

#include <linux/lustre/lustre_user.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace sim::mdt {

inline constexpr uint32_t kPolicyNbr = 0x1;  // NonBlockingRestore
inline constexpr uint32_t kPolicyNra = 0x2;  // NoRetryAction
inline constexpr uint64_t kDefaultRequestMask = 1ULL << HSMA_RESTORE;

struct Tunables {
  uint64_t max_requests = 3;
  uint32_t loop_period = 10;              // seconds
  uint32_t grace_delay = 60;              // seconds
  int32_t active_request_timeout = 3600;  // seconds
  uint32_t default_archive_id = 1;
  uint32_t remove_archive_on_last_unlink = 0;
  uint32_t policy = kPolicyNra;
  uint64_t user_request_mask = kDefaultRequestMask;
  uint64_t group_request_mask = kDefaultRequestMask;
  uint64_t other_request_mask = kDefaultRequestMask;
  // Simulator only: Lustre's "at most one scan per second".
  uint32_t min_scan_interval_ms = 1000;
  // LU-10968 (docs/upcall.md; an unmerged Lustre patch): requests whose
  // action is in upcall_mask (HSMA_* bits) skip the coordinator and run
  // upcall_path instead. Empty mask: the coordinator takes everything.
  uint64_t upcall_mask = 0;
  std::string upcall_path;
  // Simulator only: an upcall still running after this long is killed and
  // its request fails with ETIMEDOUT (the daemon must not wait for ever).
  uint32_t upcall_timeout_s = 60;
};

// "NonBlockingRestore [NoRetryAction]\n": every policy name, set ones in
// brackets.
std::string FormatPolicy(uint32_t policy);
// Applies a write to the policy file to *policy: tokens NBR/
// NonBlockingRestore and NRA/NoRetryAction; unsigned tokens replace the set,
// +/- ones add or remove. -EINVAL (and *policy unchanged) on an unknown token.
int ParsePolicy(std::string_view text, uint32_t* policy);

// "RESTORE\n", or the action names of the set bits separated by spaces.
std::string FormatRequestMask(uint64_t mask);
// Action names (NOOP ARCHIVE RESTORE REMOVE CANCEL, any case) separated by
// spaces. -EINVAL on an unknown name.
int ParseRequestMask(std::string_view text, uint64_t* mask);

// hsm.upcall_mask: as ParseRequestMask, ARCHIVE and REMOVE only (the
// bypass has no restore); -EINVAL otherwise. FormatUpcallMask: "\n" when
// empty.
int ParseUpcallMask(std::string_view text, uint64_t* mask);
std::string FormatUpcallMask(uint64_t mask);

// Strict unsigned decimal (or 0x hex) parsing of a whole token, as the
// kernel's kstrtoull. Returns false on garbage or overflow.
bool ParseU64(std::string_view text, uint64_t* value);

}  // namespace sim::mdt

#endif  // SIM_MDT_TUNABLES_H_
