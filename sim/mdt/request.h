// Record: one request of the coordinator's action log, the simulator's
// llog_agent_req_rec (docs/lustre.md, records of the coordinator's log):
// status, archive id, flags, times and the HAI.
//
// Thread-safety: plain value type.
#ifndef SIM_MDT_REQUEST_H_
#define SIM_MDT_REQUEST_H_

#include <linux/lustre/lustre_idl.h>
#include <linux/lustre/lustre_user.h>

#include <cstdint>
#include <string>

namespace sim::mdt {

struct Record {
  uint32_t idx = 0;  // llog record index: the log order, from 1
  uint32_t status = ARS_WAITING;
  uint32_t archive_id = 0;
  uint64_t flags = 0;
  int64_t create = 0;  // Unix seconds
  int64_t change = 0;
  std::string data;
  // Last: hsm_action_item ends with a flexible array member. hai_len is
  // 72 + data.size().
  hsm_action_item hai{};

  uint64_t cookie() const { return hai.hai_cookie; }
  uint32_t action() const { return hai.hai_action; }
  bool is_cancel() const { return hai.hai_action == HSMA_CANCEL; }
  bool is_final() const {
    return status == ARS_SUCCEED || status == ARS_FAILED ||
           status == ARS_CANCELED;
  }
  bool is_live() const {
    return status == ARS_WAITING || status == ARS_STARTED;
  }
};

inline const char* StatusName(uint32_t status) {
  return agent_req_status2name(static_cast<agent_req_status>(status));
}
inline const char* ActionName(uint32_t action) {
  return hsm_copytool_action2name(static_cast<hsm_copytool_action>(action));
}

}  // namespace sim::mdt

#endif  // SIM_MDT_REQUEST_H_
