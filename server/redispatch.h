// Redispatch: what the server must learn from Lustre before it hands an
// item out a second time, and what to do with the answer (issue 10).
//
// An item once handed to a mover may have ended at Lustre without the server
// hearing of it: the mover died after llapi_hsm_action_end, or the server was
// down when its `done` came. Replaying it is harmless for a copy whose begin
// asks Lustre (an unknown cookie fails the copy start), but a REMOVE's begin
// asks Lustre nothing: a replay deletes the archive copy of a file that may
// have been archived again since. So every item placed again after it ran
// (grace expiry, stale take-back, a mover not re-announcing it, recovery) is
// held here until a check on its file says Lustre still has that action
// live; then it is handed out again. Otherwise it is forgotten, never
// replayed.
//
// A re-dispatch can also fail on the new mover while Lustre keeps the
// request. Such an item is retried later (bounded attempts, exponential
// backoff); the server ends it at Lustre with HP_FLAG_RETRY before each
// retry, and as failed after the last one. A restore whose copy reported
// progress is bound to that copy's volatile file: Lustre refuses the end
// of any other copy and keeps the binding when it sends the request again,
// so no retry can succeed; the server ends such a restore as failed at
// once (kRetryLater is read so for restores), and a reader waiting for it
// is answered.
//
// Socket-free and Lustre-free: the server runs the checks (Due, then
// OnCheck with the answer) and acts on the verdicts. Time comes from the
// injected clock.
//
// Thread-safety: none; the server's event loop owns it.
#ifndef SERVER_REDISPATCH_H_
#define SERVER_REDISPATCH_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "hsm/lustreapi.h"
#include "server/item.h"

namespace server {

// What a check of one file says about one held item.
enum class RequestAtLustre {
  kLive,     // Lustre has this action waiting or running on the file
  kEnded,    // no such action on the file any more: Lustre ended it
  kUnknown,  // the check failed: ask again later
  // A restore Lustre runs with copied bytes recorded: a copy reported
  // progress, which bound the request to that copy's volatile file, and
  // Lustre refuses the end of any other copy. Handing it out cannot work;
  // it must be ended at Lustre first (with HP_FLAG_RETRY).
  kBound,
};

// Reads llapi_hsm_current_action's answer (`rc` its return) for an item of
// Lustre action `hsma_action` (HSMA_*). A file that no longer exists
// (-ENOENT) counts as live: a removed file cannot have been archived again,
// and the mover's begin finds out for copies (Lustre removes on last unlink
// with such REMOVEs).
RequestAtLustre JudgeCurrentAction(uint32_t hsma_action, int rc,
                                   const hsm_current_action& hca);

struct RedispatchOptions {
  // Failed re-dispatches before the request is ended at Lustre as failed.
  uint32_t max_attempts = 5;
  // Backoff after the first failure (of a check or a re-dispatch), doubled
  // each time up to `max_backoff`.
  std::chrono::milliseconds first_backoff{1000};
  std::chrono::milliseconds max_backoff{60'000};
};

struct RedispatchCounters {
  uint64_t checks = 0;        // answers received
  uint64_t handed_out = 0;    // live: placed again
  uint64_t forgotten = 0;     // ended at Lustre: never replayed
  uint64_t check_errors = 0;  // unknown answers (retried)
  uint64_t failed = 0;        // re-dispatches that failed on a mover
  uint64_t ended_failed = 0;  // given up: ended at Lustre as failed
};

class Redispatch {
 public:
  enum class Verdict {
    kHandOut,     // Lustre still has it: place it again
    kForget,      // Lustre ended it: forget it, never replay it
    kWait,        // keep it held; asked again at NextDue()
    kRetryLater,  // failed re-dispatch: end it at Lustre with
                  // HP_FLAG_RETRY, keep it held until NextDue()
    kEndFailed,   // out of attempts: end it at Lustre as failed, forget it
  };

  Redispatch(const common::Clock& clock, RedispatchOptions options = {});

  // `id` is to be handed out again: hold it until a check answers. Keeps
  // its failed attempts if it was already held.
  void Hold(const ItemId& id);
  bool held(const ItemId& id) const;
  size_t size() const { return held_; }  // items held

  // Up to `max` held items whose check is due now, oldest due first; they
  // are not returned again before an answer (OnCheck) or Release.
  std::vector<ItemId> Due(size_t max);
  // The earliest time a held item is due and not being checked.
  std::optional<common::Clock::TimePoint> NextDue() const;

  // The answer of a check of `id` (held and returned by Due).
  // kBound counts as a failed re-dispatch (see OnFailedRedispatch).
  Verdict OnCheck(const ItemId& id, RequestAtLustre answer);

  // A mover could not run `id` while Lustre keeps it (its begin failed, or
  // Lustre refused its end). kRetryLater or kEndFailed.
  Verdict OnFailedRedispatch(const ItemId& id);

  // Failed re-dispatches of `id` so far (0 if none or unknown).
  uint32_t attempts(const ItemId& id) const;

  // `id` ended (done, cancel, forgotten): its failed attempts, kept across
  // hand-outs until now, are dropped.
  void Forget(const ItemId& id);

  const RedispatchCounters& counters() const { return counters_; }
  // Visits items with failed re-dispatches (status).
  template <class F>
  void ForEachRetrying(F visit) const {
    for (const auto& [id, e] : entries_)
      if (e.attempts > 0) visit(id, e.attempts);
  }

 private:
  struct Entry {
    bool held = false;      // waiting for a check (false: handed out)
    bool checking = false;  // returned by Due, no answer yet
    uint32_t attempts = 0;  // failed re-dispatches
    uint32_t errors = 0;    // unknown answers in a row
    common::Clock::TimePoint due{};
  };
  std::chrono::nanoseconds Backoff(uint32_t n) const;

  const common::Clock& clock_;
  const RedispatchOptions options_;
  // Held items, and items handed out again that failed before (attempts).
  std::unordered_map<ItemId, Entry, ItemIdHash> entries_;
  size_t held_ = 0;
  RedispatchCounters counters_;
};

}  // namespace server

#endif  // SERVER_REDISPATCH_H_
