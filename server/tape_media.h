// TapeMedia: recalls in tape order (docs/policies.md, recalls in tape order).
//
// Restores whose locality answer named a medium (a tape) and a position on
// it wait here, grouped by medium, each medium's restores ordered by
// position. A mover holds at most `media_per_mover` media at a time (one per
// drive) and a medium is held by one mover at a time, for a slice with the
// rules of archive batch slots: the slice ends `idle` after the last restore
// of the medium was sent or joined it while none waits, or `max` after the
// mover took it (0: no maximum); it never ends while restores of the medium
// wait and `max` has not passed. Within a held medium restores go in
// ascending position from the head (the position of the last one sent),
// wrapping to the lowest once past the highest: one sweep down the tape,
// and the stragglers that arrived behind the head on the next. A medium
// never runs more than ceil(max_restore / media_per_mover) restores, so one
// tape cannot take a mover's other drives. A held medium with nothing
// waiting nor running yields its slot to a medium waiting for one: a drive
// keeps a tape for restores to come only while no other tape waits.
//
// A free slot takes first the medium whose oldest blocking restore (a
// process waits on it: HSM_REQ_BLOCKING) waited longest, then the medium
// whose oldest restore waited longest: indexes of the unheld media by those
// arrivals, no scan. Every operation costs O(log n) in the restores and
// media waiting (plus the media a mover holds, and the unheld media of
// archive ids the mover does not take, skipped on the way).
//
// Pure logic: restores are named by the caller's 64-bit ids, which must grow
// with arrival (the Scheduler's arrival numbers); time is the caller's
// `now_ns`. Thread-safety: none.
#ifndef SERVER_TAPE_MEDIA_H_
#define SERVER_TAPE_MEDIA_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace server {

struct TapeMediaOptions {
  std::chrono::nanoseconds idle{0};  // REQUIRES: > 0
  std::chrono::nanoseconds max{0};   // 0: no maximum
  uint32_t media_per_mover = 1;      // REQUIRES: > 0
};

// One restore waiting for its medium.
struct TapeRestore {
  uint64_t id = 0;        // grows with arrival
  uint64_t position = 0;  // on its medium
  uint32_t archive_id = 0;
  uint64_t hal_flags = 0;
  bool blocking = false;  // a process waits on it
};

// A medium a mover holds, as status reports it.
struct HeldMediumView {
  std::string medium;
  size_t waiting = 0;    // its restores waiting
  uint32_t running = 0;  // sent from it and not ended
  uint64_t head = 0;     // position of the last restore sent
  int64_t idle_deadline_ns = 0;
  int64_t max_deadline_ns = 0;  // 0: none
};

class TapeMedia {
 public:
  // Whether the mover may take a restore of that archive id and flags now
  // (its archive ids, the archive id and flags its reply is bound to).
  using Accepts = std::function<bool(uint32_t archive_id, uint64_t flags)>;

  explicit TapeMedia(TapeMediaOptions options);
  // New slice times (a reload): used by slices taken and idle deadlines
  // renewed from now on.
  void SetTimes(std::chrono::nanoseconds idle, std::chrono::nanoseconds max);
  const TapeMediaOptions& options() const { return options_; }

  // A restore waits for `medium`. A restore joining a held medium renews
  // its idle deadline. REQUIRES: medium not empty; `restore.id` not waiting.
  void Add(const std::string& medium, const TapeRestore& restore,
           int64_t now_ns);
  // A waiting restore left (cancelled, sent by someone else, moved):
  // forgotten here. False if it was not waiting.
  bool Remove(uint64_t id);

  // The next restore for `mover` (its id), or nullopt: from the media it
  // holds, the next in position order of the first that has one within its
  // cap; else, with a slot free, a medium it takes now. Media whose slice
  // is over are freed on the way. `max_restore`: the mover's limit
  // (UINT32_MAX: none). Changes only which media are held: the caller then
  // sends the restore (Sent) or not.
  std::optional<uint64_t> Next(const std::string& mover, uint32_t max_restore,
                               const Accepts& accepts, int64_t now_ns);
  // Restore `id`, returned by Next(mover), was sent to `mover`: the head of
  // its medium moves to its position, its idle deadline is renewed.
  void Sent(const std::string& mover, uint64_t id, int64_t now_ns);
  // A restore sent from a medium stopped running (done, failed, requeued,
  // its mover gone). No-op for an id not sent from here.
  void Ended(uint64_t id);
  // Frees every medium `mover` holds (gone or drained): other movers may
  // take them at once; what runs from them ends as it is.
  void Release(const std::string& mover);

  // The earliest slice deadline after `now_ns`, or nullopt.
  std::optional<int64_t> NextDeadline(int64_t now_ns) const;
  // The media `mover` holds whose slice is not over at `now_ns`.
  std::vector<HeldMediumView> Held(const std::string& mover,
                                   int64_t now_ns) const;
  // Who holds `medium` (slice possibly over, not freed yet), if anyone.
  std::optional<std::string> HolderOf(const std::string& medium) const;
  // Media with restores waiting that nobody holds.
  size_t unheld_waiting_media() const { return by_oldest_.size(); }
  // Of those, the ones with a blocking restore waiting.
  size_t unheld_blocking_media() const { return by_blocking_.size(); }
  size_t waiting() const { return waiting_.size(); }
  size_t media() const { return media_.size(); }

 private:
  struct Medium {
    std::string name;
    std::set<std::pair<uint64_t, uint64_t>> by_position;  // (position, id)
    std::set<uint64_t> by_arrival;                        // ids
    std::set<uint64_t> blocking;                          // ids
    uint32_t archive_id = 0;  // of the restore that created it
    std::string holder;       // empty: free
    int64_t idle_deadline = 0;
    int64_t max_deadline = 0;  // 0: none
    uint64_t head = 0;
    uint32_t running = 0;
  };
  struct Waiting {
    Medium* medium;
    TapeRestore restore;
  };

  bool Reserved(const Medium& medium, int64_t now) const;
  void Free(Medium& medium);
  // Adds (`in`) or removes an unheld medium from the indexes of free media.
  void Index(Medium& medium, bool in);
  // Erases a medium nobody holds with nothing waiting or running.
  void MaybeErase(Medium& medium);
  // The next restore of held `medium` from its head, if it is accepted.
  std::optional<uint64_t> NextOf(const Medium& medium,
                                 const Accepts& accepts) const;
  // A free medium for `mover`: blocking first, then the oldest.
  Medium* Take(const std::string& mover, const Accepts& accepts, int64_t now);

  TapeMediaOptions options_;
  std::unordered_map<std::string, Medium> media_;  // nodes are stable
  std::unordered_map<uint64_t, Waiting> waiting_;
  std::unordered_map<uint64_t, std::string> running_;  // id -> medium
  // Unheld media with restores waiting, by their oldest (blocking) restore.
  std::set<std::pair<uint64_t, Medium*>> by_oldest_;
  std::set<std::pair<uint64_t, Medium*>> by_blocking_;
  // Media held by each mover, in the order it took them.
  std::map<std::string, std::vector<Medium*>> held_;
};

}  // namespace server

#endif  // SERVER_TAPE_MEDIA_H_
