// RunningActions: the items ct-posix has in hand, and the copies running.
//
// At most one item per FID is in hand at a time; another item for the same
// FID waits until it ends:
//  * an item with the cookie in hand is a re-send: after a coordinator
//    restart the same record is dispatched again. It runs only if the item
//    in hand ends without the coordinator accepting its end (the end came
//    while the restarted coordinator did not know the cookie yet);
//    otherwise it is dropped, the request being complete.
//  * an item with another cookie (a new request for the file, e.g. a retry
//    after a timeout while the old copy still runs) waits its turn, so two
//    copies never write the same archive file.
//
// A CANCEL item for a running copy makes it send a progress report at its
// next chunk instead of waiting for the update interval; the coordinator
// answers that report with -ECANCELED, which is how the copy learns of the
// cancel (as in lhsmtool_posix, the copytool never stops a copy on its
// own).
//
// Thread-safety: all members are safe from any thread.
#ifndef COPYTOOL_POSIX_RUNNING_ACTIONS_H_
#define COPYTOOL_POSIX_RUNNING_ACTIONS_H_

#include <linux/lustre/lustre_user.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace ct {

class RunningActions {
 public:
  // One action item as received: hai_len bytes, data included.
  using ItemBytes = std::shared_ptr<const std::vector<char>>;

  static const hsm_action_item& Item(const ItemBytes& bytes) {
    return *reinterpret_cast<const hsm_action_item*>(bytes->data());
  }

  // Returns true if `item` may run now; otherwise it is held (see above).
  bool Admit(const ItemBytes& item);
  // Called when `item` (admitted earlier) has ended. Returns the held item
  // of the same FID to run next, already admitted, or nullptr.
  ItemBytes Finish(const ItemBytes& item, bool end_accepted);

  // Registers a running copy of `cookie` for the lifetime of the Entry, so
  // that Poke(cookie) reaches it.
  class Entry {
   public:
    Entry(RunningActions* owner, uint64_t cookie);
    ~Entry();
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

    // True once after Poke(cookie).
    bool TakeReportRequest() { return report_now_.exchange(false); }

   private:
    RunningActions* owner_;
    uint64_t cookie_;
    std::atomic<bool> report_now_{false};
  };

  // Asks the running copy of `cookie` to report progress now. Returns
  // whether such a copy is running.
  bool Poke(uint64_t cookie);

 private:
  using FidKey = std::tuple<uint64_t, uint32_t, uint32_t>;
  struct InHand {
    uint64_t cookie = 0;
    ItemBytes resend;               // a re-send of `cookie`, or nullptr
    std::deque<ItemBytes> waiting;  // other requests for the FID
  };
  static FidKey Key(const ItemBytes& item);

  common::Mutex mu_;
  std::map<FidKey, InHand> in_hand_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, std::atomic<bool>*> running_ GUARDED_BY(mu_);
};

}  // namespace ct

#endif  // COPYTOOL_POSIX_RUNNING_ACTIONS_H_
