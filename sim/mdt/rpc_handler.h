// RpcHandler: turns one request packet from sim/wire into a coordinator or
// file-table call and its reply (status + payload). Checks every payload size
// and descriptor first: a malformed request gets -EPROTO and a one-line
// explanation, and touches nothing. kRegister and kWaitRestore change the
// connection itself and are handled by the server.
//
// Thread-safety: none; event-loop thread.
#ifndef SIM_MDT_RPC_HANDLER_H_
#define SIM_MDT_RPC_HANDLER_H_

#include <cstdint>
#include <string>

#include "sim/mdt/coordinator.h"
#include "sim/mdt/copy_tracker.h"
#include "sim/mdt/params.h"
#include "sim/wire/packet.h"

namespace sim::mdt {

struct RpcReply {
  int32_t status = 0;
  std::string payload;
  // Why the request was refused, for the log; empty when it was not bad
  // input.
  std::string complaint;
};

// Per-connection cache of the last parameter read, so that a long value
// (hsm.actions) read in chunks comes from one snapshot.
struct ParamCache {
  std::string name;
  std::string value;
};

class RpcHandler {
 public:
  RpcHandler(Coordinator* cdt, FileTable* files, ParamTable* params)
      : cdt_(cdt), files_(files), params_(params) {}

  RpcReply Handle(const Caller& caller, const wire::Packet& packet,
                  ParamCache* cache);
  const CopyTracker& copies() const { return copies_; }

 private:
  RpcReply FileCall(const wire::Packet& packet, const Caller& caller);
  RpcReply GetParam(const std::string& payload, ParamCache* cache);

  Coordinator* cdt_;
  FileTable* files_;
  ParamTable* params_;
  CopyTracker copies_;
};

}  // namespace sim::mdt

#endif  // SIM_MDT_RPC_HANDLER_H_
