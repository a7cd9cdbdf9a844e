// LustreAgent: the server's registration as the copytool agent of a Lustre
// mount, through the llapi API (Lustre's or the simulator's). It receives
// every action list the coordinator sends and can end an item on the
// coordinator's side without running it (a cancelled queued item).
//
// Thread-safety: none; the server's event loop owns it.
#ifndef SERVER_LUSTRE_AGENT_H_
#define SERVER_LUSTRE_AGENT_H_

#include <functional>
#include <string>
#include <vector>

#include "hsm/hal.h"

struct hsm_current_action;

struct hsm_copytool_private;

namespace server {

class LustreAgent {
 public:
  LustreAgent() = default;
  ~LustreAgent();
  LustreAgent(const LustreAgent&) = delete;
  LustreAgent& operator=(const LustreAgent&) = delete;

  // The filesystem name of `mount`. Returns 0 or -errno with *error set.
  static int FindFsname(const std::string& mount, std::string* fsname,
                        std::string* error);

  // Registers on `mount` for `archive_ids` (empty: every archive), with a
  // non-blocking channel. Returns 0 or -errno with *error set.
  int Register(const std::string& mount,
               const std::vector<uint32_t>& archive_ids, std::string* error);
  void Unregister();

  // The descriptor to poll for action lists; -1 when not registered.
  int fd() const;
  const std::string& fsname() const { return fsname_; }

  // Reads every action list available now and hands each to `on_list`.
  // Returns 0 once nothing is left, or -errno for an error that ends the
  // registration (-ESHUTDOWN: the filesystem is going away). A malformed
  // list is reported in *error and skipped (returns 0).
  int Drain(const std::function<void(const hsm::DecodedHal&)>& on_list,
            std::string* error);

  // Ends `hai` on the coordinator with `errval` (positive errno) without
  // running it: what the server answers for a cancelled queued item.
  // `hp_flags` HP_FLAG_RETRY asks Lustre to put the request back to
  // WAITING and send it again (a restore is then bound to no copy).
  int EndWithoutRunning(const hsm_action_item& hai, int errval,
                        int hp_flags = 0);

  // llapi_hsm_current_action on the file `fid` (opened by FID under the
  // mount): the action Lustre has waiting or running on it. Returns 0 or
  // -errno. May block for an MDS round trip.
  int CurrentAction(const lu_fid& fid, hsm_current_action* hca) const;

 private:
  hsm_copytool_private* ct_ = nullptr;
  std::string mount_;
  std::string fsname_;
};

}  // namespace server

#endif  // SERVER_LUSTRE_AGENT_H_
